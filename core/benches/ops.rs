//! Criterion benches of the CPU driver (issue 2 item 8, issue 7 item 3): f32 matmul
//! 64/256/1024/2048, add on 1M elements, the per-op overhead of a tiny add, GELU on 1M,
//! softmax 64×1000, layer norm 512×1024 (forward, and with its backward) and a conv2d
//! forward+backward (the `scripts/bench` rows, and layer norm).
//! Quick by design (small samples, short measurement): `cargo bench -p lantern` takes a few
//! minutes. Threads: rayon's default (all cores) unless `RAYON_NUM_THREADS` is set.
//! The side-by-side comparison with PyTorch is `scripts/bench`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lantern::nn::functional::layer_norm;
use lantern::{manual_seed, Conv2dOpts, DType, Device, Tensor};
use std::hint::black_box;
use std::time::Duration;

fn matmul(c: &mut Criterion) {
    let cpu = Device::cpu();
    manual_seed(0);
    let mut g = c.benchmark_group("matmul_f32");
    g.warm_up_time(Duration::from_millis(300));
    for n in [64usize, 256, 1024, 2048] {
        let a = Tensor::randn([n, n], DType::F32, &cpu);
        let b = Tensor::randn([n, n], DType::F32, &cpu);
        // Throughput in "elements" = multiply-adds, so criterion's rate is GMAC/s (x2: GFLOP/s).
        g.throughput(Throughput::Elements((n * n * n) as u64));
        let (samples, secs) = if n >= 1024 { (10, 3) } else { (20, 1) };
        g.sample_size(samples);
        g.measurement_time(Duration::from_secs(secs));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |bch, _| {
            bch.iter(|| black_box(a.matmul(&b)))
        });
    }
    g.finish();
}

fn add(c: &mut Criterion) {
    let cpu = Device::cpu();
    manual_seed(0);
    let mut g = c.benchmark_group("add_f32");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(30);
    let n = 1 << 20;
    let a = Tensor::randn([n], DType::F32, &cpu);
    let b = Tensor::randn([n], DType::F32, &cpu);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("1M", |bch| bch.iter(|| black_box(&a + &b)));
    // Per-op overhead: [4] + [4] is all dispatch, allocation and bookkeeping.
    let x = Tensor::randn([4], DType::F32, &cpu);
    let y = Tensor::randn([4], DType::F32, &cpu);
    g.throughput(Throughput::Elements(4));
    g.bench_function("tiny_4", |bch| bch.iter(|| black_box(&x + &y)));
    // The same with grad: the op also records (and drops) an autograd node.
    let xg = Tensor::randn([4], DType::F32, &cpu).requires_grad_(true);
    g.bench_function("tiny_4_grad", |bch| bch.iter(|| black_box(&xg + &y)));
    g.finish();
}

fn nn_ops(c: &mut Criterion) {
    let cpu = Device::cpu();
    manual_seed(0);
    let mut g = c.benchmark_group("nn_f32");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(1));
    g.sample_size(20);
    let n = 1 << 20;
    let a = Tensor::randn([n], DType::F32, &cpu);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("gelu_1M", |bch| bch.iter(|| black_box(a.gelu(false))));
    let s = Tensor::randn([64, 1000], DType::F32, &cpu);
    g.throughput(Throughput::Elements(64 * 1000));
    g.bench_function("softmax_64x1000", |bch| {
        bch.iter(|| black_box(s.softmax(-1)))
    });
    // Layer norm over rows of 1024 with the affine (a transformer's d_model), forward alone
    // and forward + backward.
    let lx = Tensor::randn([512, 1024], DType::F32, &cpu).requires_grad_(true);
    let lw = Tensor::randn([1024], DType::F32, &cpu).requires_grad_(true);
    let lb = Tensor::randn([1024], DType::F32, &cpu).requires_grad_(true);
    let lgy = Tensor::randn([512, 1024], DType::F32, &cpu);
    let ln = |x: &Tensor| layer_norm(x, &[1024], Some(&lw), Some(&lb), 1e-5).unwrap();
    g.throughput(Throughput::Elements(512 * 1024));
    g.bench_function("layer_norm_512x1024", |bch| {
        bch.iter(|| black_box(ln(&lx.detach())))
    });
    let ln_inputs = [lx.clone(), lw.clone(), lb.clone()];
    g.bench_function("layer_norm_fwd_bwd_512x1024", |bch| {
        bch.iter(|| {
            black_box(lantern::autograd::grad(
                &[ln(&lx)],
                &ln_inputs,
                Some(std::slice::from_ref(&lgy)),
                false,
                false,
            ))
        })
    });
    // The scripts/bench `conv2d` row: forward and backward of a 3x3 convolution with bias,
    // batch 64, 32 -> 64 channels, 28x28, padding 1.
    let x = Tensor::randn([64, 32, 28, 28], DType::F32, &cpu).requires_grad_(true);
    let w = Tensor::randn([64, 32, 3, 3], DType::F32, &cpu).requires_grad_(true);
    let b = Tensor::randn([64], DType::F32, &cpu).requires_grad_(true);
    let gy = Tensor::randn([64, 64, 28, 28], DType::F32, &cpu);
    let same = Conv2dOpts {
        padding: [1, 1],
        ..Default::default()
    };
    let inputs = [x.clone(), w.clone(), b.clone()];
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(3 * 64 * 64 * 32 * 9 * 28 * 28));
    g.bench_function("conv2d_fwd_bwd_64x32x28x28_k3_oc64", |bch| {
        bch.iter(|| {
            let y = x.conv2d(&w, Some(&b), same);
            black_box(lantern::autograd::grad(
                &[y],
                &inputs,
                Some(std::slice::from_ref(&gy)),
                false,
                false,
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, matmul, add, nn_ops);
criterion_main!(benches);
