//! The Lantern side of `scripts/bench`: times the named workloads on the CPU and prints one
//! JSON object of medians (seconds per call). `scripts/bench_torch.py` runs the same
//! workloads with the same protocol in PyTorch; `scripts/bench` runs both and prints the table.
//!
//! usage: RAYON_NUM_THREADS=N cargo run --release -p lantern --example bench_ops -- \
//!            [--budget SECONDS] WORKLOAD...
//!
//! Workloads (add one here, in `bench_torch.py` and in `scripts/bench`'s list):
//! `matmul:N` (f32 N×N @ N×N), `add:N` (f32 [N] + [N]), `tiny_add` ([4] + [4], per-op overhead),
//! `tiny_add_grad` (the same with one operand requiring grad: the op records a node),
//! `gelu:N` (exact GELU on f32 [N]), `softmax:RxC` (softmax over the last dim of f32 [R, C]),
//! `conv2d` (forward and backward, input/weight/bias gradients, of a 3×3 convolution with
//! bias and padding 1, batch 64, 32→64 channels, 28×28),
//! `mlp_step` (MLP 784-256-128-10) and `cnn_step` (conv 1→16 3×3 pad 1, ReLU, maxpool 2, conv
//! 16→32 3×3 pad 1, ReLU, maxpool 2, flatten, linear 32·7·7→10): one training step on a batch
//! of 64 fixed random inputs and int64 labels (forward, cross-entropy, `zero_grad`, backward,
//! SGD momentum 0.9 lr 0.01). The `_step` rows also report the CPU driver's peak memory over
//! the timed steps (`peak_bytes`, peak reset when timing starts) and the pool's system
//! allocations per timed step (`allocs_per_step`, the `MemoryStats::allocations` delta).
//!
//! Protocol (identical in bench_torch.py): warm up for 10% of the budget (at least 2 calls),
//! pick a call count per sample so one sample takes ≥ 5 ms, take samples until the budget is
//! spent (at least 5, at most 200), report the median of the per-call times.

use lantern::nn::functional::{cross_entropy, Reduction};
use lantern::nn::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use lantern::optim::{Optimizer, Sgd};
use lantern::{manual_seed, Conv2dOpts, DType, Device, Tensor};
use std::cell::Cell;
use std::hint::black_box;
use std::time::Instant;

/// A workload's result: median seconds per call, samples, calls per sample, and for the
/// `_step` workloads the peak bytes and system allocations per step over the timed steps.
type Outcome = (f64, usize, usize, Option<(usize, f64)>);

fn measure(budget: f64, f: impl FnMut()) -> (f64, usize, usize) {
    measure_with(budget, f, || {})
}

/// [`measure`], calling `at_start` once between the warm-up and the timed samples.
fn measure_with(budget: f64, mut f: impl FnMut(), at_start: impl FnOnce()) -> (f64, usize, usize) {
    let t0 = Instant::now();
    let mut calls = 0usize;
    while calls < 2 || t0.elapsed().as_secs_f64() < budget * 0.1 {
        f();
        calls += 1;
    }
    let per_call = t0.elapsed().as_secs_f64() / calls as f64;
    let iters = ((0.005 / per_call).ceil() as usize).max(1);
    let mut samples = Vec::new();
    at_start();
    let start = Instant::now();
    while samples.len() < 5 || (start.elapsed().as_secs_f64() < budget && samples.len() < 200) {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        samples.push(t.elapsed().as_secs_f64() / iters as f64);
    }
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples.len(), iters)
}

/// Times one training step of `model` on fixed random data (`x_shape`, labels in 0..10):
/// forward, cross-entropy, `zero_grad`, backward, SGD (momentum 0.9, lr 0.01) step.
fn train_step(
    budget: f64,
    cpu: &Device,
    model: Sequential,
    x_shape: &[usize],
) -> lantern::Result<Outcome> {
    let x = Tensor::randn(x_shape, DType::F32, cpu);
    let y = Tensor::try_randint(0, 10, [x_shape[0]], cpu)?;
    let mut opt = Sgd::new(model.parameters(), 0.01).momentum(0.9);
    let steps = Cell::new(0usize);
    let mut step = || -> lantern::Result<()> {
        let logits = model.forward(&x)?;
        let loss = cross_entropy(&logits, &y, Reduction::Mean, 0.0)?;
        opt.zero_grad();
        loss.try_backward()?;
        opt.step()?;
        steps.set(steps.get() + 1);
        Ok(())
    };
    step()?; // fail early (and outside the timing) on an error
    let at_start = Cell::new((0usize, 0usize));
    let (median, samples, iters) = measure_with(
        budget,
        || step().expect("train step"),
        || {
            cpu.driver().reset_peak();
            at_start.set((cpu.memory().allocations, steps.get()));
        },
    );
    let m = cpu.memory();
    let (allocs0, steps0) = at_start.get();
    let timed = (steps.get() - steps0).max(1);
    let per_step = (m.allocations - allocs0) as f64 / timed as f64;
    Ok((median, samples, iters, Some((m.peak, per_step))))
}

fn run(name: &str, budget: f64, cpu: &Device) -> Result<Outcome, String> {
    let (kind, arg) = name.split_once(':').unwrap_or((name, ""));
    let num = || arg.parse::<usize>().map_err(|e| format!("{name}: {e}"));
    let err = |e: lantern::Error| format!("{name}: {e}");
    let plain = |(m, s, i): (f64, usize, usize)| (m, s, i, None);
    manual_seed(0);
    Ok(match kind {
        "matmul" => {
            let n = num()?;
            let a = Tensor::randn([n, n], DType::F32, cpu);
            let b = Tensor::randn([n, n], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(a.matmul(&b)))))
        }
        "add" => {
            let n = num()?;
            let a = Tensor::randn([n], DType::F32, cpu);
            let b = Tensor::randn([n], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(&a + &b))))
        }
        "tiny_add" => {
            let a = Tensor::randn([4], DType::F32, cpu);
            let b = Tensor::randn([4], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(&a + &b))))
        }
        "tiny_add_grad" => {
            // The same add with one operand requiring grad: the op also records (and then
            // drops) its autograd node.
            let a = Tensor::randn([4], DType::F32, cpu).requires_grad_(true);
            let b = Tensor::randn([4], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(&a + &b))))
        }
        "gelu" => {
            let a = Tensor::randn([num()?], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(a.gelu(false)))))
        }
        "softmax" => {
            let (r, c) = arg
                .split_once('x')
                .and_then(|(r, c)| Some((r.parse().ok()?, c.parse().ok()?)))
                .ok_or_else(|| format!("{name}: expected softmax:ROWSxCOLS"))?;
            let a = Tensor::randn([r, c], DType::F32, cpu);
            plain(measure(budget, || drop(black_box(a.softmax(-1)))))
        }
        "conv2d" => {
            // Forward and backward of one convolution with bias: batch 64, 32 -> 64
            // channels, 3x3, 28x28, padding 1; gradients of x, weight and bias for a fixed
            // output gradient (`autograd::grad`, so nothing accumulates between calls).
            let x = Tensor::randn([64, 32, 28, 28], DType::F32, cpu).requires_grad_(true);
            let w = Tensor::randn([64, 32, 3, 3], DType::F32, cpu)
                .mul_scalar(0.06)
                .requires_grad_(true);
            let b = Tensor::randn([64], DType::F32, cpu).requires_grad_(true);
            let gy = Tensor::randn([64, 64, 28, 28], DType::F32, cpu);
            let same = Conv2dOpts {
                padding: [1, 1],
                ..Default::default()
            };
            let inputs = [x.clone(), w.clone(), b.clone()];
            plain(measure(budget, || {
                let y = x.conv2d(&w, Some(&b), same);
                let g = lantern::autograd::grad(
                    &[y],
                    &inputs,
                    Some(std::slice::from_ref(&gy)),
                    false,
                    false,
                )
                .expect("conv2d backward");
                drop(black_box(g));
            }))
        }
        "mlp_step" => {
            let model = (|| -> lantern::Result<Sequential> {
                Ok(Sequential::new()
                    .add(Linear::new(784, 256, true, cpu)?)
                    .add(ReLU)
                    .add(Linear::new(256, 128, true, cpu)?)
                    .add(ReLU)
                    .add(Linear::new(128, 10, true, cpu)?))
            })()
            .map_err(err)?;
            train_step(budget, cpu, model, &[64, 784]).map_err(err)?
        }
        "cnn_step" => {
            let same = Conv2dOpts {
                padding: [1, 1],
                ..Default::default()
            };
            let model = (|| -> lantern::Result<Sequential> {
                Ok(Sequential::new()
                    .add(Conv2d::new(1, 16, [3, 3], same, true, cpu)?)
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Conv2d::new(16, 32, [3, 3], same, true, cpu)?)
                    .add(ReLU)
                    .add(MaxPool2d::new(2))
                    .add(Flatten::default())
                    .add(Linear::new(32 * 7 * 7, 10, true, cpu)?))
            })()
            .map_err(err)?;
            train_step(budget, cpu, model, &[64, 1, 28, 28]).map_err(err)?
        }
        _ => return Err(format!("unknown workload {name}")),
    })
}

fn main() {
    let mut budget = 1.0;
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--budget" {
            budget = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--budget SECONDS");
        } else {
            names.push(a);
        }
    }
    let cpu = Device::cpu();
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    let mut out = format!("{{\"runner\": \"lantern\", \"threads\": \"{threads}\", \"results\": {{");
    for (i, name) in names.iter().enumerate() {
        match run(name, budget, &cpu) {
            Ok((median, samples, iters, mem)) => {
                let sep = if i == 0 { "" } else { ", " };
                let mem = match mem {
                    Some((peak, per_step)) => {
                        format!(", \"peak_bytes\": {peak}, \"allocs_per_step\": {per_step}")
                    }
                    None => String::new(),
                };
                out += &format!(
                    "{sep}\"{name}\": {{\"median_s\": {median:e}, \"samples\": {samples}, \"iters\": {iters}{mem}}}"
                );
            }
            Err(e) => {
                eprintln!("bench_ops: {e}");
                std::process::exit(2);
            }
        }
    }
    out += "}}";
    println!("{out}");
}
