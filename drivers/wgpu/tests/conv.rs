//! The convolution and max-pool kernels against the CPU driver's: each fused op over a table
//! of shapes and options (same bytes in, every output compared, the pool's indices exactly),
//! f16/bf16 through the tensor API against the CPU in f32, one dispatch per op, and the
//! small CNN trained here and on the CPU with the same seed.

mod common;

use common::{compare, data, decode, Data};
use lantern::cpu::CpuDriver;
use lantern::driver::{BufId, Driver, View};
use lantern::ops::FusedOp;
use lantern::{Conv2dOpts, DType, Device, Layout, Shape, Tensor};

/// One convolution case: input `[n, c, h, w]`, `oc` filters of `k`, the options, a bias.
struct Case {
    x: [usize; 4],
    oc: usize,
    k: [usize; 2],
    opts: Conv2dOpts,
    bias: bool,
}

#[allow(clippy::too_many_arguments)]
fn case(
    x: [usize; 4],
    oc: usize,
    k: [usize; 2],
    s: [usize; 2],
    p: [usize; 2],
    d: [usize; 2],
    groups: usize,
    bias: bool,
) -> Case {
    Case {
        x,
        oc,
        k,
        opts: Conv2dOpts {
            stride: s,
            padding: p,
            dilation: d,
            groups,
        },
        bias,
    }
}

/// Stride 1 and 2 (and 3/2, 2/1 mixes), padding, dilation, groups (depthwise too), bias or
/// not, odd sizes, batch > 1, more than one 64-row tile of filters and more than one k tile.
fn cases() -> Vec<Case> {
    vec![
        case([2, 3, 7, 9], 4, [3, 3], [1, 1], [0, 0], [1, 1], 1, true),
        case([1, 4, 8, 8], 6, [3, 3], [2, 2], [1, 1], [1, 1], 2, false),
        case([3, 2, 10, 7], 5, [3, 2], [1, 2], [2, 1], [2, 1], 1, true),
        case([2, 6, 9, 9], 6, [3, 3], [1, 1], [1, 1], [1, 1], 6, true),
        case([1, 5, 5, 6], 70, [1, 1], [1, 1], [0, 0], [1, 1], 1, false),
        case([2, 20, 12, 11], 8, [5, 5], [2, 2], [2, 2], [1, 1], 1, true),
        case([1, 2, 11, 11], 3, [2, 2], [3, 3], [0, 1], [1, 1], 1, false),
        case([2, 8, 6, 5], 12, [3, 3], [2, 1], [1, 1], [1, 2], 4, true),
    ]
}

fn out_size(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    (n + 2 * p - d * (k - 1) - 1) / s + 1
}

/// One operand of a fused op: dtype, shape and bytes.
struct Op {
    dtype: DType,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Op {
    fn new(dtype: DType, shape: &[usize], seed: u64) -> Op {
        let n = shape.iter().product();
        Op {
            dtype,
            shape: shape.to_vec(),
            bytes: data(dtype, n, seed, Data::Any),
        }
    }
}

fn view(buf: BufId, o: &Op) -> View {
    View {
        buf,
        layout: Layout::contiguous(Shape::new(&o.shape)),
        dtype: o.dtype,
    }
}

/// Runs `op` on `d` with inputs `ins` and fresh outputs `outs` (their bytes are written
/// first: kernels must overwrite them); the outputs' bytes, or `None` when `d` composes.
fn run_fused(d: &dyn Driver, op: &FusedOp, ins: &[&Op], outs: &[&Op]) -> Option<Vec<Vec<u8>>> {
    let mut bufs = Vec::new();
    let mut up = |o: &Op| {
        let b = d.alloc(o.bytes.len().max(4)).unwrap();
        d.write(b, 0, &o.bytes).unwrap();
        bufs.push(b);
        view(b, o)
    };
    let iv: Vec<View> = ins.iter().map(|o| up(o)).collect();
    let ov: Vec<View> = outs.iter().map(|o| up(o)).collect();
    let r = d.fused(op, &iv, &ov).map(|r| {
        r.unwrap();
        ov.iter().map(|v| d.read_blocking(v).unwrap()).collect()
    });
    for b in bufs {
        d.free(b);
    }
    r
}

/// Runs on the CPU and on the GPU and compares every output.
fn check(
    g: &dyn Driver,
    what: &str,
    op: &FusedOp,
    ins: &[&Op],
    outs: &[&Op],
    rtol: f64,
    atol: f64,
) {
    let cpu = run_fused(&CpuDriver::new(), op, ins, outs).expect("the CPU driver has this kernel");
    let gpu = run_fused(g, op, ins, outs).unwrap_or_else(|| panic!("{what}: wgpu composed it"));
    for (i, (c, w)) in cpu.iter().zip(&gpu).enumerate() {
        compare(outs[i].dtype, c, w, rtol, atol)
            .unwrap_or_else(|e| panic!("{what}, output {i}: {e}"));
    }
}

#[test]
fn conv2d_and_its_gradients_match_the_cpu() {
    let g = gpu_or_skip!();
    for (i, c) in cases().iter().enumerate() {
        let [n, ch, h, w] = c.x;
        let o = &c.opts;
        let oh = out_size(h, c.k[0], o.stride[0], o.padding[0], o.dilation[0]);
        let ow = out_size(w, c.k[1], o.stride[1], o.padding[1], o.dilation[1]);
        let x = Op::new(DType::F32, &c.x, 3 * i as u64);
        let wt = Op::new(
            DType::F32,
            &[c.oc, ch / o.groups, c.k[0], c.k[1]],
            3 * i as u64 + 1,
        );
        let b = Op::new(DType::F32, &[c.oc], 3 * i as u64 + 2);
        let y = Op::new(DType::F32, &[n, c.oc, oh, ow], 99);
        let what = format!(
            "case {i}: x {:?}, oc {}, k {:?}, {o:?}, bias {}",
            c.x, c.oc, c.k, c.bias
        );
        let mut ins = vec![&x, &wt];
        if c.bias {
            ins.push(&b);
        }
        // Sums of up to a few hundred products of values in [-3, 3].
        let (rtol, atol) = (1e-5, 1e-4);
        check(
            &*g,
            &format!("conv2d {what}"),
            &FusedOp::Conv2d { opts: *o },
            &ins,
            &[&y],
            rtol,
            atol,
        );
        let gy = Op::new(DType::F32, &y.shape, 7 * i as u64 + 5);
        let gx = Op::new(DType::F32, &x.shape, 98);
        let op = FusedOp::Conv2dInputGrad { opts: *o };
        check(
            &*g,
            &format!("input grad {what}"),
            &op,
            &[&gy, &wt],
            &[&gx],
            rtol,
            atol,
        );
        let gw = Op::new(DType::F32, &wt.shape, 97);
        let op = FusedOp::Conv2dWeightGrad { opts: *o };
        check(
            &*g,
            &format!("weight grad {what}"),
            &op,
            &[&x, &gy],
            &[&gw],
            rtol,
            atol,
        );
    }
}

/// The weight-gradient kernel walks all N·OH·OW positions per tile: past 4096 of them the
/// driver leaves the op to core's composed default (more parallel), the forward keeps its
/// kernel.
#[test]
fn long_weight_gradient_walks_are_composed() {
    let g = gpu_or_skip!();
    let o = Conv2dOpts {
        padding: [1, 1],
        ..Default::default()
    };
    let x = Op::new(DType::F32, &[8, 2, 24, 24], 1);
    let w = Op::new(DType::F32, &[3, 2, 3, 3], 2);
    let gy = Op::new(DType::F32, &[8, 3, 24, 24], 3);
    let gw = Op::new(DType::F32, &[3, 2, 3, 3], 4);
    let op = FusedOp::Conv2dWeightGrad { opts: o };
    assert!(run_fused(&*g, &op, &[&x, &gy], &[&gw]).is_none());
    let y = Op::new(DType::F32, &[8, 3, 24, 24], 5);
    let fwd = FusedOp::Conv2d { opts: o };
    assert!(run_fused(&*g, &fwd, &[&x, &w], &[&y]).is_some());
}

/// Pooling cases: input, kernel, stride, padding, dilation.
#[allow(clippy::type_complexity)]
const POOLS: &[([usize; 4], [usize; 2], [usize; 2], [usize; 2], [usize; 2])] = &[
    ([2, 3, 8, 8], [2, 2], [2, 2], [0, 0], [1, 1]),
    ([1, 2, 7, 9], [3, 3], [2, 2], [1, 1], [1, 1]),
    ([2, 2, 9, 8], [3, 2], [1, 2], [1, 1], [2, 1]),
    ([3, 1, 5, 5], [2, 2], [1, 1], [1, 0], [1, 1]),
];

/// f32 bytes of `n` values with ties (a few levels), -inf and NaN among them.
fn pool_input(n: usize, seed: u64) -> Vec<u8> {
    let base = decode(DType::F32, &data(DType::F32, n, seed, Data::Any));
    base.iter()
        .enumerate()
        .map(|(i, &v)| match (i * 7 + seed as usize) % 23 {
            0 => f32::NAN,
            1 | 2 => f32::NEG_INFINITY,
            _ => (v * 2.0).round() as f32,
        })
        .flat_map(f32::to_le_bytes)
        .collect()
}

#[test]
fn max_pool2d_and_its_gradient_match_the_cpu() {
    let g = gpu_or_skip!();
    for (i, &(xs, k, s, p, d)) in POOLS.iter().enumerate() {
        let oh = out_size(xs[2], k[0], s[0], p[0], d[0]);
        let ow = out_size(xs[3], k[1], s[1], p[1], d[1]);
        let ys = [xs[0], xs[1], oh, ow];
        let x = Op {
            dtype: DType::F32,
            shape: xs.to_vec(),
            bytes: pool_input(xs.iter().product(), i as u64),
        };
        let y = Op::new(DType::F32, &ys, 50);
        let idx = Op::new(DType::I64, &ys, 51);
        let op = FusedOp::MaxPool2d {
            kernel: k,
            stride: s,
            padding: p,
            dilation: d,
        };
        let what = format!("pool {i}: {xs:?} k {k:?} s {s:?} p {p:?} d {d:?}");
        check(&*g, &what, &op, &[&x], &[&y, &idx], 0.0, 0.0);
        // The gradient, with the CPU's indices (overlapping windows share inputs).
        let cpu = run_fused(&CpuDriver::new(), &op, &[&x], &[&y, &idx]).unwrap();
        let idx = Op {
            dtype: DType::I64,
            shape: ys.to_vec(),
            bytes: cpu[1].clone(),
        };
        let gy = Op::new(DType::F32, &ys, 60 + i as u64);
        let gx = Op::new(DType::F32, &xs, 61);
        check(
            &*g,
            &format!("grad {what}"),
            &FusedOp::MaxPool2dGrad,
            &[&gy, &idx],
            &[&gx],
            1e-6,
            1e-6,
        );
    }
}

/// Forward and both gradients through autograd on `dev` in `dt`: `(y, x.grad, w.grad)` as f64.
fn conv_train_step(dev: &Device, dt: DType, c: &Case, seed: u64) -> [Vec<f64>; 3] {
    let o = c.opts;
    let t = |shape: &[usize], s: u64| {
        let v: Vec<f32> = decode(
            DType::F32,
            &data(DType::F32, shape.iter().product(), s, Data::Small),
        )
        .iter()
        .map(|&v| v as f32)
        .collect();
        // Round to dt first: both devices see the same values.
        Tensor::from_slice(&v, shape.to_vec(), &Device::cpu())
            .to_dtype(dt)
            .to_dtype(DType::F32)
            .to_device(dev)
            .to_dtype(dt)
    };
    let x = t(&c.x, seed).requires_grad_(true);
    let w = t(&[c.oc, c.x[1] / o.groups, c.k[0], c.k[1]], seed + 1).requires_grad_(true);
    let b = c.bias.then(|| t(&[c.oc], seed + 2));
    let y = x.conv2d(&w, b.as_ref(), o);
    let r = t(y.dims(), seed + 3);
    y.mul(&r).sum(None, false).backward();
    let f = |t: &Tensor| {
        t.to_dtype(DType::F32)
            .to_vec::<f32>()
            .iter()
            .map(|&v| v as f64)
            .collect()
    };
    [f(&y), f(&x.grad().unwrap()), f(&w.grad().unwrap())]
}

#[test]
fn half_precision_convolutions_match_the_cpu_in_f32() {
    let g = gpu_or_skip!();
    let dev = common::device(&g);
    for (i, c) in cases().iter().enumerate().take(4) {
        let want = conv_train_step(&Device::cpu(), DType::F32, c, i as u64);
        for (dt, rtol) in [(DType::F16, 4e-3), (DType::BF16, 3e-2)] {
            let got = conv_train_step(&dev, dt, c, i as u64);
            for (k, (a, b)) in want.iter().zip(&got).enumerate() {
                // Values in [-1, 1]: sums of tens of products, rounded once to dt.
                let scale = a.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (j, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!(
                        (x - y).abs() <= rtol * scale,
                        "case {i} {dt} output {k}[{j}]: cpu {x} wgpu {y}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_convolution_and_a_max_pool_are_one_dispatch_each() {
    let shared = gpu_or_skip!();
    let g = common::own_driver(&shared);
    let dev = common::device(&g);
    let x = Tensor::randn([2, 4, 9, 9], DType::F32, &dev);
    let w = Tensor::randn([8, 4, 3, 3], DType::F32, &dev);
    let b = Tensor::randn([8], DType::F32, &dev);
    let same = Conv2dOpts {
        padding: [1, 1],
        ..Default::default()
    };
    dev.synchronize().unwrap();
    let (d0, _) = g.counters();
    let y = x.conv2d(&w, Some(&b), same);
    let (d1, _) = g.counters();
    assert_eq!(d1 - d0, 1, "conv2d took {} dispatches", d1 - d0);
    let p = y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1]);
    let (d2, _) = g.counters();
    assert_eq!(d2 - d1, 1, "max_pool2d took {} dispatches", d2 - d1);
    drop(p);
    // The same on the CPU.
    let cpu = |t: &Tensor| t.to_device(&Device::cpu());
    let want = cpu(&x).conv2d(&cpu(&w), Some(&cpu(&b)), same);
    for (a, b) in y.to_vec::<f32>().iter().zip(want.to_vec::<f32>()) {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

/// 8 minutes on lavapipe with 2 cores, the CPU reference included (both reached 0.91): run
/// with `--ignored`.
#[test]
#[ignore = "minutes on lavapipe: cargo test -p lantern-wgpu --test conv -- --ignored"]
fn cnn_trains_on_wgpu_like_on_the_cpu() {
    let g = gpu_or_skip!();
    let Some(dir) = lantern_tests::train::mnist_dir() else {
        return;
    };
    lantern_tests::train::assert_trains_like_the_cpu(
        &dir,
        lantern_tests::train::Model::Cnn,
        &common::device(&g),
        6000,
        1000,
        0.85,
        0.01,
    );
}
