//! Autograd on the wgpu driver: every op's gradient against the CPU's (f64) plus an on-device
//! directional difference, and the MNIST MLP trained here and on the CPU with the same seed.

mod common;

#[test]
fn gradient_checks_on_wgpu() {
    let g = gpu_or_skip!();
    let failures = lantern_tests::gradcheck::check_all_on_device(&common::device(&g));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn mlp_trains_on_wgpu_like_on_the_cpu() {
    let g = gpu_or_skip!();
    let Some(dir) = lantern_tests::train::mnist_dir() else {
        return;
    };
    lantern_tests::train::assert_trains_like_the_cpu(
        &dir,
        lantern_tests::train::Model::Mlp,
        &common::device(&g),
        6000,
        1000,
        0.85,
        0.01,
    );
}
