//! Autograd on CUDA: every op's gradient against the CPU's (f64) plus an on-device
//! directional difference, and the MNIST MLP and CNN trained here and on the CPU with the same
//! seed. Each test skips with the reason when `lantern_cuda::cuda(0)` fails.

use lantern::Device;
use lantern_tests::train::{assert_trains_like_the_cpu, mnist_dir, Model};

fn gpu() -> Option<Device> {
    lantern_cuda::cuda(0)
        .map_err(|e| eprintln!("skipping GPU test: {e}"))
        .ok()
}

#[test]
fn gradient_checks_on_cuda() {
    let Some(dev) = gpu() else { return };
    let failures = lantern_tests::gradcheck::check_all_on_device(&dev);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mlp_and_cnn_train_on_cuda_like_on_the_cpu() {
    let Some(dev) = gpu() else { return };
    let Some(dir) = mnist_dir() else { return };
    assert_trains_like_the_cpu(&dir, Model::Mlp, &dev, 6000, 1000, 0.85, 0.01);
    assert_trains_like_the_cpu(&dir, Model::Cnn, &dev, 6000, 1000, 0.85, 0.01);
}
