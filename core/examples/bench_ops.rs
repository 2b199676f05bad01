//! The Lantern side of `scripts/bench`: times the named workloads on the CPU and prints one
//! JSON object of medians (seconds per call). `scripts/bench_torch.py` runs the same
//! workloads with the same protocol in PyTorch; `scripts/bench` runs both and prints the table.
//!
//! usage: RAYON_NUM_THREADS=N cargo run --release -p lantern --example bench_ops -- \
//!            [--budget SECONDS] WORKLOAD...
//!
//! Workloads (add one here, in `bench_torch.py` and in `scripts/bench`'s list):
//! `matmul:N` (f32 N×N @ N×N), `add:N` (f32 [N] + [N]), `tiny_add` ([4] + [4], per-op overhead).
//!
//! Protocol (identical in bench_torch.py): warm up for 10% of the budget (at least 2 calls),
//! pick a call count per sample so one sample takes ≥ 5 ms, take samples until the budget is
//! spent (at least 5, at most 200), report the median of the per-call times.

use lantern::{manual_seed, DType, Device, Tensor};
use std::hint::black_box;
use std::time::Instant;

fn measure(budget: f64, mut f: impl FnMut()) -> (f64, usize, usize) {
    let t0 = Instant::now();
    let mut calls = 0usize;
    while calls < 2 || t0.elapsed().as_secs_f64() < budget * 0.1 {
        f();
        calls += 1;
    }
    let per_call = t0.elapsed().as_secs_f64() / calls as f64;
    let iters = ((0.005 / per_call).ceil() as usize).max(1);
    let mut samples = Vec::new();
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

fn run(name: &str, budget: f64, cpu: &Device) -> Result<(f64, usize, usize), String> {
    let (kind, arg) = name.split_once(':').unwrap_or((name, ""));
    let num = || arg.parse::<usize>().map_err(|e| format!("{name}: {e}"));
    manual_seed(0);
    Ok(match kind {
        "matmul" => {
            let n = num()?;
            let a = Tensor::randn([n, n], DType::F32, cpu);
            let b = Tensor::randn([n, n], DType::F32, cpu);
            measure(budget, || drop(black_box(a.matmul(&b))))
        }
        "add" => {
            let n = num()?;
            let a = Tensor::randn([n], DType::F32, cpu);
            let b = Tensor::randn([n], DType::F32, cpu);
            measure(budget, || drop(black_box(&a + &b)))
        }
        "tiny_add" => {
            let a = Tensor::randn([4], DType::F32, cpu);
            let b = Tensor::randn([4], DType::F32, cpu);
            measure(budget, || drop(black_box(&a + &b)))
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
            Ok((median, samples, iters)) => {
                let sep = if i == 0 { "" } else { ", " };
                out += &format!(
                    "{sep}\"{name}\": {{\"median_s\": {median:e}, \"samples\": {samples}, \"iters\": {iters}}}"
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
