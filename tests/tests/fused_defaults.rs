//! The CPU driver's fused kernels (conv2d, its input/weight gradients, max pool and its
//! gradient, softmax and log-softmax, layer norm) against core's composed defaults, which every driver
//! without the kernels runs: the same CPU driver behind a wrapper whose `fused` declines.

use lantern::cpu::CpuDriver;
use lantern::ops::{FusedOp, PrimOp};
use lantern::{BufId, Conv2dOpts, DType, Device, Result, Tensor, View};
use std::sync::Arc;

/// The CPU driver without fused ops: every fused op takes core's composed default.
struct Composed(CpuDriver);

impl lantern::Driver for Composed {
    fn name(&self) -> &'static str {
        "composed"
    }
    fn id(&self) -> lantern::DeviceId {
        lantern::DeviceId {
            kind: "composed",
            ordinal: 0,
        }
    }
    fn alloc(&self, bytes: usize) -> Result<BufId> {
        self.0.alloc(bytes)
    }
    fn free(&self, buf: BufId) {
        self.0.free(buf)
    }
    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> Result<()> {
        self.0.write(dst, offset, src)
    }
    fn read(&self, src: &View) -> lantern::driver::ReadFuture {
        self.0.read(src)
    }
    fn read_blocking(&self, src: &View) -> Result<Vec<u8>> {
        self.0.read_blocking(src)
    }
    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()> {
        self.0.exec(op, ins, outs)
    }
    fn fused(&self, _op: &FusedOp, _ins: &[View], _outs: &[View]) -> Option<Result<()>> {
        None
    }
    fn memory(&self) -> lantern::MemoryStats {
        self.0.memory()
    }
    fn set_memory_limit(&self, bytes: Option<usize>) {
        self.0.set_memory_limit(bytes)
    }
    fn synchronize(&self) -> Result<()> {
        self.0.synchronize()
    }
}

/// Deterministic values in [-1, 1) with some exact ties (multiples of 1/8), so the max
/// pool's first-maximum rule is exercised.
fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) % 16) as f64 / 8.0 - 1.0
        })
        .collect()
}

fn on(dev: &Device, shape: &[usize], seed: u64, dt: DType) -> Tensor {
    let n = shape.iter().product();
    Tensor::from_slice(&data(n, seed), shape.to_vec(), dev)
        .to_dtype(dt)
        .requires_grad_(true)
}

fn close(name: &str, a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.dims(), b.dims(), "{name}: shapes");
    let (a, b) = (
        a.to_dtype(DType::F64).to_vec::<f64>(),
        b.to_dtype(DType::F64).to_vec::<f64>(),
    );
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{name}: element {i}: fused {x}, composed {y}"
        );
    }
}

/// Runs `f` on the CPU and on the composed device with the same inputs, and compares the
/// output and every input's gradient for the same output gradient.
fn compare(name: &str, shapes: &[&[usize]], dt: DType, f: impl Fn(&[Tensor]) -> Tensor) {
    let tol = if dt == DType::F64 { 1e-12 } else { 1e-5 };
    let devs = [
        Device::cpu(),
        Device::new(Arc::new(Composed(CpuDriver::new()))),
    ];
    let runs: Vec<(Tensor, Vec<Tensor>)> = devs
        .iter()
        .map(|dev| {
            let ins: Vec<Tensor> = shapes
                .iter()
                .enumerate()
                .map(|(i, s)| on(dev, s, i as u64 + 1, dt))
                .collect();
            let y = f(&ins);
            let gy = on(dev, y.dims(), 99, dt).detach();
            let gs =
                lantern::autograd::grad(std::slice::from_ref(&y), &ins, Some(&[gy]), false, false)
                    .expect("backward");
            (y, gs.into_iter().map(|g| g.expect("a gradient")).collect())
        })
        .collect();
    close(&format!("{name} output"), &runs[0].0, &runs[1].0, tol);
    for (i, (a, b)) in runs[0].1.iter().zip(&runs[1].1).enumerate() {
        close(&format!("{name} grad {i}"), a, b, tol);
    }
}

#[test]
fn conv2d_matches_the_composed_default() {
    let cases: [(&[usize], &[usize], Conv2dOpts); 4] = [
        (&[2, 3, 7, 6], &[4, 3, 3, 3], Conv2dOpts::default()),
        (
            &[2, 3, 8, 8],
            &[5, 3, 3, 3],
            Conv2dOpts {
                padding: [1, 1],
                ..Default::default()
            },
        ),
        (
            &[3, 4, 9, 7],
            &[6, 2, 3, 2],
            Conv2dOpts {
                stride: [2, 1],
                padding: [1, 2],
                dilation: [1, 2],
                groups: 2,
            },
        ),
        (
            &[1, 2, 5, 5],
            &[2, 2, 1, 1],
            Conv2dOpts {
                stride: [3, 2],
                ..Default::default()
            },
        ),
    ];
    for dt in [DType::F64, DType::F32] {
        for (i, (x, w, opts)) in cases.iter().enumerate() {
            let oc = w[0];
            compare(
                &format!("conv2d case {i} {dt:?}"),
                &[x, w, &[oc]],
                dt,
                |t| t[0].conv2d(&t[1], Some(&t[2]), *opts),
            );
            compare(
                &format!("conv2d case {i} no bias {dt:?}"),
                &[x, w],
                dt,
                |t| t[0].conv2d(&t[1], None, *opts),
            );
        }
    }
}

#[test]
fn max_pool2d_matches_the_composed_default() {
    // (kernel, stride, padding, dilation)
    type Pool = ([usize; 2], [usize; 2], [usize; 2], [usize; 2]);
    let cases: [Pool; 4] = [
        ([2, 2], [2, 2], [0, 0], [1, 1]),
        ([3, 3], [2, 2], [1, 1], [1, 1]),
        ([3, 2], [1, 2], [1, 0], [2, 1]),
        ([2, 3], [3, 1], [0, 1], [1, 1]),
    ];
    for dt in [DType::F64, DType::F32] {
        for (i, (k, s, p, d)) in cases.iter().enumerate() {
            compare(
                &format!("max_pool2d case {i} {dt:?}"),
                &[&[2, 3, 9, 8]],
                dt,
                |t| t[0].max_pool2d(*k, *s, *p, *d),
            );
        }
    }
}

#[test]
fn softmax_matches_the_composed_default() {
    for dt in [DType::F64, DType::F32] {
        for shape in [&[3, 7][..], &[2, 3, 5], &[4, 1], &[1000]] {
            compare(&format!("softmax {shape:?} {dt:?}"), &[shape], dt, |t| {
                t[0].mul_scalar(3.0).softmax(-1)
            });
            compare(
                &format!("log_softmax {shape:?} {dt:?}"),
                &[shape],
                dt,
                |t| t[0].mul_scalar(3.0).log_softmax(-1),
            );
        }
    }
}

#[test]
fn layer_norm_matches_the_composed_default() {
    use lantern::nn::functional::layer_norm;
    for dt in [DType::F64, DType::F32] {
        for (x, k) in [
            (&[3, 7][..], 1),
            (&[2, 3, 5], 2),
            (&[4, 1], 1),
            (&[2, 1000], 1),
            (&[6], 1),
        ] {
            let norm: Vec<usize> = x[x.len() - k..].to_vec();
            let shape = &norm[..];
            compare(
                &format!("layer_norm {x:?} {dt:?}"),
                &[x, shape, shape],
                dt,
                |t| layer_norm(&t[0], shape, Some(&t[1]), Some(&t[2]), 1e-5).unwrap(),
            );
            compare(
                &format!("layer_norm weight {x:?} {dt:?}"),
                &[x, shape],
                dt,
                |t| layer_norm(&t[0], shape, Some(&t[1]), None, 1e-5).unwrap(),
            );
            compare(&format!("layer_norm plain {x:?} {dt:?}"), &[x], dt, |t| {
                // Shifted far from zero: the statistics must not cancel.
                layer_norm(&t[0].add_scalar(100.0), shape, None, None, 1e-5).unwrap()
            });
        }
    }
}

/// The fused op's statistics outputs against the composed default's, through the driver
/// interface itself (the autograd node hides them).
#[test]
fn layer_norm_statistics_match_the_composed_default() {
    let devs = [
        Device::cpu(),
        Device::new(Arc::new(Composed(CpuDriver::new()))),
    ];
    for dt in [DType::F64, DType::F32] {
        let x = on(&devs[0], &[4, 9], 5, dt).detach().add_scalar(3.0);
        let n = x.numel() as f64 / 4.0;
        let mean = x.mean(Some(&[-1]), true);
        let d = x.sub(&mean);
        let var = d.mul(&d).sum(Some(&[-1]), true).div_scalar(n);
        let rstd = var.add_scalar(1e-5).rsqrt();
        let y = Tensor::zeros([4, 9], dt, &devs[0]);
        let (m, r) = (
            Tensor::zeros([4, 1], dt, &devs[0]),
            Tensor::zeros([4, 1], dt, &devs[0]),
        );
        let op = FusedOp::LayerNorm { eps: 1e-5 };
        devs[0]
            .driver()
            .fused(
                &op,
                &[x.as_view()],
                &[y.as_view(), m.as_view(), r.as_view()],
            )
            .expect("the CPU driver runs layer norm")
            .unwrap();
        let tol = if dt == DType::F64 { 1e-12 } else { 1e-5 };
        // The gradient kernel runs too (its values: the compare tests above).
        let gx = Tensor::zeros([4, 9], dt, &devs[0]);
        let grad = FusedOp::LayerNormGrad;
        let ins = [x.as_view(), x.as_view(), m.as_view(), r.as_view()];
        devs[0]
            .driver()
            .fused(&grad, &ins, &[gx.as_view()])
            .expect("the CPU driver runs the layer norm gradient")
            .unwrap();
        close("mean", &m, &mean, tol);
        close("rstd", &r, &rstd, tol);
        close("y", &y, &x.sub(&mean).mul(&rstd), tol);
    }
}

/// Layer norm records one node whichever path computed it, with or without the affine.
#[test]
fn layer_norm_is_one_autograd_node() {
    use lantern::nn::functional::layer_norm;
    for dev in [
        Device::cpu(),
        Device::new(Arc::new(Composed(CpuDriver::new()))),
    ] {
        let x = on(&dev, &[2, 3, 4], 1, DType::F32);
        let w = on(&dev, &[4], 2, DType::F32);
        let b = on(&dev, &[4], 3, DType::F32);
        for (wt, bs) in [
            (None, None),
            (Some(&w), None),
            (None, Some(&b)),
            (Some(&w), Some(&b)),
        ] {
            let y = layer_norm(&x, &[4], wt, bs, 1e-5).unwrap();
            let node = y.grad_fn().expect("a node");
            assert_eq!(node.name(), "layer_norm", "on {dev}");
        }
    }
}

/// The helper the GPU drivers' tests run, on the CPU driver's own kernel.
#[test]
fn layer_norm_kernel_against_f64_references() {
    let failures =
        lantern_tests::fused::layer_norm_against_the_cpu(&Device::cpu(), &[DType::F64, DType::F32]);
    assert!(failures.is_empty(), "{failures:#?}");
}
