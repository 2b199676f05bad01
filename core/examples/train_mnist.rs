//! The main job: train an MLP (784-256-128-10) on MNIST on the CPU and report test accuracy.
//!
//! Data: the four idx files in `$LANTERN_DATA/mnist` (default `~/.cache/lantern-data/mnist`),
//! installed by `bash scripts/setup.sh --mnist`. Usage:
//! `cargo run --release -p lantern --example train_mnist -- [--epochs N] [--seed S] [--cnn]`

use lantern::data::{mnist, DataLoader, TensorDataset};
use lantern::nn::functional::{cross_entropy, Reduction};
use lantern::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use lantern::optim::{Adam, Optimizer};
use lantern::{manual_seed, no_grad, Conv2dOpts, Device, Result, Tensor};
use std::io::Write;
use std::time::Instant;

fn accuracy(model: &dyn Module, x: &Tensor, y: &Tensor, cnn: bool) -> Result<f64> {
    let _ng = no_grad();
    let n = x.dims()[0];
    let mut correct = 0i64;
    for start in (0..n).step_by(1000) {
        let len = 1000.min(n - start);
        let xb = x.try_narrow(0, start, len)?;
        let xb = if cnn { xb } else { xb.try_flatten(1, -1)? };
        let pred = model.forward(&xb)?.try_argmax(Some(-1), false)?;
        correct += pred
            .try_eq(&y.try_narrow(0, start, len)?)?
            .try_sum(None, false)?
            .try_item::<i64>()?;
    }
    Ok(correct as f64 / n as f64)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let cnn = args.iter().any(|a| a == "--cnn");
    let seed = flag("--seed").unwrap_or(0);
    let epochs = flag("--epochs").unwrap_or(if cnn { 4 } else { 5 }) as usize;
    let dir = mnist::default_dir();
    let dev = Device::cpu();
    manual_seed(seed);
    println!(
        "Lantern MNIST {} on {dev}, seed {seed}, {epochs} epochs",
        if cnn { "CNN" } else { "MLP" }
    );

    let (xtr, ytr) = mnist::load(&dir, true, None, &dev)?;
    let (xte, yte) = mnist::load(&dir, false, None, &dev)?;
    let xtr_in = if cnn {
        xtr.clone()
    } else {
        xtr.try_flatten(1, -1)?
    };
    let model: Sequential = if cnn {
        let same = Conv2dOpts {
            padding: [1, 1],
            ..Default::default()
        };
        Sequential::new()
            .add(Conv2d::new(1, 16, [3, 3], same, true, &dev)?)
            .add(ReLU)
            .add(MaxPool2d::new(2))
            .add(Conv2d::new(16, 32, [3, 3], same, true, &dev)?)
            .add(ReLU)
            .add(MaxPool2d::new(2))
            .add(Flatten::default())
            .add(Linear::new(32 * 7 * 7, 10, true, &dev)?)
    } else {
        Sequential::new()
            .add(Linear::new(784, 256, true, &dev)?)
            .add(ReLU)
            .add(Linear::new(256, 128, true, &dev)?)
            .add(ReLU)
            .add(Linear::new(128, 10, true, &dev)?)
    };
    let mut opt = Adam::new(model.parameters(), 1e-3);
    let train = TensorDataset::new(vec![xtr_in, ytr.clone()])?;
    let mut loader = DataLoader::new(&train, 64, true, seed);
    let start = Instant::now();
    for epoch in 1..=epochs {
        let nb = loader.len();
        let (mut total, mut seen) = (0.0f64, 0usize);
        let t0 = Instant::now();
        for (i, batch) in loader.epoch().enumerate() {
            let batch = batch?;
            let logits = model.forward(&batch[0])?;
            let loss = cross_entropy(&logits, &batch[1], Reduction::Mean, 0.0)?;
            opt.zero_grad();
            loss.try_backward()?;
            opt.step()?;
            total += loss.try_item::<f32>()? as f64;
            seen += 1;
            if i % 50 == 0 || i + 1 == nb {
                let done = (i + 1) * 30 / nb;
                print!(
                    "\repoch {epoch}/{epochs} [{}{}] {}/{nb} loss {:.4} ({:.1} s)",
                    "=".repeat(done),
                    " ".repeat(30 - done),
                    i + 1,
                    total / seen as f64,
                    t0.elapsed().as_secs_f64()
                );
                std::io::stdout().flush().ok();
            }
        }
        let acc = accuracy(&model, &xte, &yte, cnn)?;
        println!(
            "\repoch {epoch}/{epochs}: train loss {:.4}, test accuracy {:.2}% ({:.1} s)          ",
            total / seen as f64,
            acc * 100.0,
            t0.elapsed().as_secs_f64()
        );
    }
    let acc = accuracy(&model, &xte, &yte, cnn)?;
    let m = dev.memory();
    println!(
        "final test accuracy {:.2}% in {:.1} s (seed {seed}); cpu memory peak {:.1} MiB",
        acc * 100.0,
        start.elapsed().as_secs_f64(),
        m.peak as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
