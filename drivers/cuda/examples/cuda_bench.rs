//! Benchmarks of the CUDA driver, printed as one JSON object (compared with PyTorch by
//! `bench/torch_bench.py` on the same machine):
//!
//! - matmul 4096 x 4096 x 4096 in f32 (TF32 off) and bf16, TFLOP/s;
//! - an elementwise add of two 256 MiB f32 tensors into a third, GB/s counting the bytes
//!   read and written (3 x 256 MiB per add);
//! - the host time of a tiny add (1 element), microseconds per op, queue only;
//! - an MLP training step (784-512-512-10, batch 256, f32: forward, cross-entropy, backward);
//! - a small CNN training step (conv3x3 1→16, relu, pool2, conv3x3 16→32, relu, pool2,
//!   linear 1568→10; batch 64 of 28×28: forward, cross-entropy, backward, SGD-momentum step).
//!
//! `cargo run --release -p lantern-cuda --example cuda_bench`

use lantern::nn::functional::{cross_entropy, Reduction};
use lantern::nn::Module;
use lantern::optim::{Optimizer, Sgd};
use lantern::{DType, Device, Result, Tensor};
use lantern_tests::train::{build, Model};
use std::time::Instant;

fn time(
    dev: &Device,
    warmup: usize,
    iters: usize,
    mut f: impl FnMut() -> Result<()>,
) -> Result<f64> {
    for _ in 0..warmup {
        f()?;
    }
    dev.synchronize()?;
    let t = Instant::now();
    for _ in 0..iters {
        f()?;
    }
    dev.synchronize()?;
    Ok(t.elapsed().as_secs_f64() / iters as f64)
}

fn matmul(dev: &Device, dt: DType) -> Result<f64> {
    let n = 4096;
    let a = Tensor::try_randn([n, n], DType::F32, dev)?.try_to_dtype(dt)?;
    let b = Tensor::try_randn([n, n], DType::F32, dev)?.try_to_dtype(dt)?;
    let s = time(dev, 3, 20, || a.try_matmul(&b).map(drop))?;
    Ok(2.0 * (n as f64).powi(3) / s / 1e12)
}

fn add(dev: &Device) -> Result<f64> {
    let n = (256usize << 20) / 4;
    let a = Tensor::try_randn([n], DType::F32, dev)?;
    let b = Tensor::try_randn([n], DType::F32, dev)?;
    let s = time(dev, 3, 50, || a.try_add(&b).map(drop))?;
    Ok(3.0 * (n * 4) as f64 / s / 1e9)
}

fn tiny(dev: &Device) -> Result<f64> {
    let a = Tensor::try_ones([1], DType::F32, dev)?;
    let s = time(dev, 100, 20000, || a.try_add(&a).map(drop))?;
    Ok(s * 1e6)
}

fn mlp(dev: &Device) -> Result<f64> {
    let (batch, dims) = (256usize, [784usize, 512, 512, 10]);
    let x = Tensor::try_randn([batch, dims[0]], DType::F32, dev)?;
    let labels = Tensor::try_randint(0, 10, [batch], dev)?;
    let target = labels.try_one_hot(Some(10))?.try_to_dtype(DType::F32)?;
    let mut params = Vec::new();
    for w in dims.windows(2) {
        let wt = Tensor::try_randn([w[0], w[1]], DType::F32, dev)?.try_mul_scalar(0.05)?;
        let bias = Tensor::try_zeros([w[1]], DType::F32, dev)?;
        params.push((wt.try_requires_grad_(true)?, bias.try_requires_grad_(true)?));
    }
    let s = time(dev, 3, 50, || {
        let mut h = x.clone();
        for (i, (w, b)) in params.iter().enumerate() {
            h = h.try_matmul(w)?.try_add(b)?;
            if i + 1 < params.len() {
                h = h.try_relu()?;
            }
        }
        let loss = h
            .try_log_softmax(-1)?
            .try_mul(&target)?
            .try_sum(None, false)?
            .try_mul_scalar(-1.0 / batch as f64)?;
        loss.try_backward()
    })?;
    Ok(s * 1e3)
}

fn cnn(dev: &Device) -> Result<f64> {
    let net = build(Model::Cnn, dev)?;
    let mut opt = Sgd::new(net.parameters(), 0.01).momentum(0.9);
    let x = Tensor::try_randn([64, 1, 28, 28], DType::F32, dev)?;
    let y = Tensor::try_randint(0, 10, [64], dev)?;
    let s = time(dev, 3, 50, || {
        let loss = cross_entropy(&net.forward(&x)?, &y, Reduction::Mean, 0.0)?;
        opt.zero_grad();
        loss.try_backward()?;
        opt.step()
    })?;
    Ok(s * 1e3)
}

fn main() {
    let dev = match lantern_cuda::cuda(0) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("no CUDA device: {e}");
            std::process::exit(2);
        }
    };
    let name = lantern_cuda::driver(0)
        .map(|d| d.device_name().to_string())
        .unwrap_or_default();
    let show = |r: Result<f64>| match r {
        Ok(v) => format!("{v:.4}"),
        Err(e) => format!("\"error: {}\"", e.to_string().replace('"', "'")),
    };
    let out = [
        ("device", format!("\"{name}\"")),
        ("matmul_f32_tflops", show(matmul(&dev, DType::F32))),
        ("matmul_bf16_tflops", show(matmul(&dev, DType::BF16))),
        ("add_256mib_gbps", show(add(&dev))),
        ("tiny_add_us", show(tiny(&dev))),
        ("mlp_step_ms", show(mlp(&dev))),
        ("cnn_step_ms", show(cnn(&dev))),
    ];
    let body: Vec<String> = out.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    println!("{{\n{}\n}}", body.join(",\n"));
}
