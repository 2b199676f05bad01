//! End to end on the CPU: the MLP learns MNIST (a subset, one epoch) and the run is
//! reproducible from its seed. GPU drivers run the same routine against this result.

use lantern::Device;
use lantern_tests::train::{mnist_dir, train_mnist, Model};

#[test]
fn mlp_learns_mnist_reproducibly() {
    let Some(dir) = mnist_dir() else { return };
    let run = || train_mnist(&dir, Model::Mlp, &Device::cpu(), 3, 6000, 1000).unwrap();
    let (a, b) = (run(), run());
    println!("MLP, 6000 train / 1000 test images, seed 3: {a:?}");
    assert!(a.accuracy >= 0.85, "{a:?}");
    assert!(a.last_loss < 0.5 * a.first_loss, "{a:?}");
    assert_eq!(
        (a.first_loss, a.last_loss, a.accuracy),
        (b.first_loss, b.last_loss, b.accuracy),
        "same seed, same run"
    );
}
