//! Matmul 1024² and add of 1M elements on a wgpu adapter (lavapipe in CI): the regression
//! baseline quoted in the driver's notes. Then conv2d forward + backward (batch 8, 32→64
//! channels, 3×3, 28×28 by default) with the fused kernels and with core's composed default
//! (im2col + matmul), the latter through a driver that declines the fused ops.
//!
//! `cargo run --release -p lantern-wgpu --example wgpu_bench [adapter-name-substring] [conv side]`

use lantern::driver::{BufId, DeviceId, Driver, MemoryStats, ReadFuture, View};
use lantern::ops::{FusedOp, PrimOp};
use lantern::{Conv2dOpts, DType, Device, Tensor};
use std::sync::Arc;
use std::time::Instant;

/// The wgpu driver declining the fused ops `decline` picks: core composes them from
/// primitives.
struct Composed(Arc<lantern_wgpu::WgpuDriver>, Decline);

/// Which fused ops [`Composed`] declines.
type Decline = fn(&FusedOp) -> bool;

impl Driver for Composed {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn id(&self) -> DeviceId {
        self.0.id()
    }
    fn alloc(&self, bytes: usize) -> lantern::Result<BufId> {
        self.0.alloc(bytes)
    }
    fn free(&self, buf: BufId) {
        self.0.free(buf)
    }
    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> lantern::Result<()> {
        self.0.write(dst, offset, src)
    }
    fn read(&self, src: &View) -> ReadFuture {
        self.0.read(src)
    }
    fn read_blocking(&self, src: &View) -> lantern::Result<Vec<u8>> {
        self.0.read_blocking(src)
    }
    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> lantern::Result<()> {
        self.0.exec(op, ins, outs)
    }
    fn fused(&self, op: &FusedOp, ins: &[View], outs: &[View]) -> Option<lantern::Result<()>> {
        if (self.1)(op) {
            return None;
        }
        self.0.fused(op, ins, outs)
    }
    fn memory(&self) -> MemoryStats {
        self.0.memory()
    }
    fn set_memory_limit(&self, bytes: Option<usize>) {
        self.0.set_memory_limit(bytes)
    }
    fn synchronize(&self) -> lantern::Result<()> {
        self.0.synchronize()
    }
}

/// One conv2d forward and backward (input, weight and bias gradients) on `dev`: seconds
/// per step, and the dispatches one step takes.
fn conv_step(dev: &Device, counters: &lantern_wgpu::WgpuDriver, side: usize) -> (f64, u64) {
    let x = Tensor::randn([8, 32, side, side], DType::F32, dev).requires_grad_(true);
    let w = Tensor::randn([64, 32, 3, 3], DType::F32, dev).requires_grad_(true);
    let b = Tensor::randn([64], DType::F32, dev).requires_grad_(true);
    let same = Conv2dOpts {
        padding: [1, 1],
        ..Default::default()
    };
    let step = || {
        let y = x.conv2d(&w, Some(&b), same);
        y.sum(None, false).backward();
        y
    };
    drop(step());
    dev.synchronize().expect("synchronize");
    let d0 = counters.counters().0;
    drop(step());
    let per_step = counters.counters().0 - d0;
    (time(dev, 3, step), per_step)
}

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
    let dev = Device::new(driver.clone());

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

    let side: usize = std::env::args()
        .nth(2)
        .map_or(28, |s| s.parse().expect("conv side: a number"));
    let flops = 3.0 * 2.0 * (8 * 64 * 32 * 9 * side * side) as f64;
    let rows: [(&str, Decline); 5] = [
        ("fused", |_| false),
        ("composed forward", |op| {
            matches!(op, FusedOp::Conv2d { .. })
        }),
        ("composed input grad", |op| {
            matches!(op, FusedOp::Conv2dInputGrad { .. })
        }),
        ("composed weight grad", |op| {
            matches!(op, FusedOp::Conv2dWeightGrad { .. })
        }),
        ("composed", |_| true),
    ];
    for (what, decline) in rows {
        let d = Device::new(Arc::new(Composed(driver.clone(), decline)));
        let (s, n) = conv_step(&d, &driver, side);
        println!(
            "conv2d 8x32x{side}x{side} -> 64, 3x3, fwd+bwd f32, {what}: {:.1} ms, {:.1} GFLOP/s, {n} dispatches",
            s * 1e3,
            flops / s / 1e9
        );
    }
    Ok(())
}
