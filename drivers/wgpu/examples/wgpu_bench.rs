//! Matmul 1024² and add of 1M elements on a wgpu adapter (lavapipe in CI): the regression
//! baseline quoted in the driver's notes.
//!
//! `cargo run --release -p lantern-wgpu --example wgpu_bench [adapter-name-substring]`

use lantern::{DType, Device, Tensor};
use std::time::Instant;

fn time(dev: &Device, iters: usize, mut f: impl FnMut() -> Tensor) -> f64 {
    // Warm up: pipelines compile on first use.
    drop(f());
    dev.synchronize().expect("synchronize");
    let t = Instant::now();
    for _ in 0..iters {
        // Dropping each result lets the pool hand its buffer to the next op (steady state).
        drop(f());
    }
    dev.synchronize().expect("synchronize");
    t.elapsed().as_secs_f64() / iters as f64
}

fn main() -> lantern::Result<()> {
    let name = std::env::args().nth(1);
    let opts = lantern_wgpu::Options {
        adapter_name: name,
        ..Default::default()
    };
    let driver = std::sync::Arc::new(lantern_wgpu::WgpuDriver::new(&opts)?);
    let info = driver.adapter_info().clone();
    println!(
        "adapter: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );
    let dev = Device::new(driver);

    let n = 1024;
    let a = Tensor::try_randn([n, n], DType::F32, &dev)?;
    let b = Tensor::try_randn([n, n], DType::F32, &dev)?;
    let s = time(&dev, 5, || a.matmul(&b));
    let gflops = 2.0 * (n as f64).powi(3) / s / 1e9;
    println!(
        "matmul {n}x{n}x{n} f32: {:.2} ms, {gflops:.1} GFLOP/s",
        s * 1e3
    );

    let m = 1 << 20;
    let x = Tensor::try_randn([m], DType::F32, &dev)?;
    let y = Tensor::try_randn([m], DType::F32, &dev)?;
    let s = time(&dev, 50, || &x + &y);
    let gbs = 12.0 * m as f64 / s / 1e9;
    println!("add 1M f32: {:.3} ms, {gbs:.1} GB/s", s * 1e3);
    Ok(())
}
