//! End-to-end training on a subset of MNIST, the same on every driver: the CPU's accuracy is
//! the reference a GPU driver must reach with the same seed.

use lantern::data::{mnist, DataLoader, TensorDataset};
use lantern::nn::functional::{cross_entropy, Reduction};
use lantern::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use lantern::optim::{Adam, Optimizer};
use lantern::{manual_seed, no_grad, Conv2dOpts, Device, Result};

/// Which model to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// 784-256-128-10 with ReLU, the main job's model.
    Mlp,
    /// conv3x3(1→16)-relu-pool2, conv3x3(16→32)-relu-pool2, linear(1568→10).
    Cnn,
}

/// What a run reached.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Mean training loss of the first 20 batches.
    pub first_loss: f64,
    /// Mean training loss of the last 20 batches.
    pub last_loss: f64,
    /// Accuracy on the test examples used.
    pub accuracy: f64,
}

/// The MNIST files, or `None` with a printed reason (CI always has them: `.ci/run` passes
/// `--mnist` to setup, and there a missing file fails the test instead).
pub fn mnist_dir() -> Option<std::path::PathBuf> {
    let dir = mnist::default_dir();
    if mnist::is_present(&dir) {
        return Some(dir);
    }
    let why = format!(
        "MNIST not found in {} (run `bash scripts/setup.sh --mnist`)",
        dir.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("SKIP: {why}");
    None
}

/// The network of `model`, initialised from the current seed on `dev`.
pub fn build(model: Model, dev: &Device) -> Result<Sequential> {
    Ok(match model {
        Model::Mlp => Sequential::new()
            .add(Flatten::default())
            .add(Linear::new(784, 256, true, dev)?)
            .add(ReLU)
            .add(Linear::new(256, 128, true, dev)?)
            .add(ReLU)
            .add(Linear::new(128, 10, true, dev)?),
        Model::Cnn => {
            let same = Conv2dOpts {
                padding: [1, 1],
                ..Default::default()
            };
            Sequential::new()
                .add(Conv2d::new(1, 16, [3, 3], same, true, dev)?)
                .add(ReLU)
                .add(MaxPool2d::new(2))
                .add(Conv2d::new(16, 32, [3, 3], same, true, dev)?)
                .add(ReLU)
                .add(MaxPool2d::new(2))
                .add(Flatten::default())
                .add(Linear::new(32 * 7 * 7, 10, true, dev)?)
        }
    })
}

/// Trains `model` with Adam (lr 1e-3, batch 64, seeded shuffling) for one epoch over the first
/// `n_train` training images on `dev`, then measures accuracy on the first `n_test` test images.
pub fn train_mnist(
    dir: &std::path::Path,
    model: Model,
    dev: &Device,
    seed: u64,
    n_train: usize,
    n_test: usize,
) -> Result<Outcome> {
    let (xtr, ytr) = mnist::load(dir, true, Some(n_train), dev)?;
    let (xte, yte) = mnist::load(dir, false, Some(n_test), dev)?;
    manual_seed(seed);
    let net = build(model, dev)?;
    let mut opt = Adam::new(net.parameters(), 1e-3);
    let train = TensorDataset::new(vec![xtr, ytr])?;
    let mut loader = DataLoader::new(&train, 64, true, seed);
    let mut losses = Vec::new();
    for batch in loader.epoch() {
        let batch = batch?;
        let loss = cross_entropy(&net.forward(&batch[0])?, &batch[1], Reduction::Mean, 0.0)?;
        opt.zero_grad();
        loss.try_backward()?;
        opt.step()?;
        losses.push(loss.try_item::<f32>()? as f64);
    }
    let k = 20.min(losses.len());
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let _ng = no_grad();
    let pred = net.forward(&xte)?.try_argmax(Some(-1), false)?;
    let correct: i64 = pred.try_eq(&yte)?.try_sum(None, false)?.try_item()?;
    Ok(Outcome {
        first_loss: mean(&losses[..k]),
        last_loss: mean(&losses[losses.len() - k..]),
        accuracy: correct as f64 / yte.numel() as f64,
    })
}

/// Trains on the CPU and on `dev` with the same seed and data and checks that `dev` learns
/// as the CPU does: accuracy within `tol` of the CPU's and above `min_accuracy`.
pub fn assert_trains_like_the_cpu(
    dir: &std::path::Path,
    model: Model,
    dev: &Device,
    n_train: usize,
    n_test: usize,
    min_accuracy: f64,
    tol: f64,
) {
    let seed = 7;
    let cpu = train_mnist(dir, model, &Device::cpu(), seed, n_train, n_test)
        .unwrap_or_else(|e| panic!("{model:?} on the cpu: {e}"));
    let got = train_mnist(dir, model, dev, seed, n_train, n_test)
        .unwrap_or_else(|e| panic!("{model:?} on {dev}: {e}"));
    println!("{model:?}, {n_train} train / {n_test} test images, seed {seed}: cpu {cpu:?}, {dev} {got:?}");
    assert!(
        got.last_loss < 0.5 * got.first_loss,
        "{model:?} on {dev} did not learn: {got:?}"
    );
    assert!(
        got.accuracy >= min_accuracy,
        "{model:?} on {dev}: accuracy {} < {min_accuracy}",
        got.accuracy
    );
    assert!(
        (got.accuracy - cpu.accuracy).abs() <= tol,
        "{model:?}: accuracy on {dev} {} vs cpu {} (seed {seed})",
        got.accuracy,
        cpu.accuracy
    );
}
