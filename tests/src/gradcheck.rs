//! Central-difference gradient checks in f64 (PyTorch's `gradcheck`, ggml's grad mode), the
//! table of op cases they run on, and the same cases run on any driver against the CPU.

// Single-input cases read better as `&[x.clone()]` next to the multi-input ones.
#![allow(clippy::cloned_ref_to_slice_refs)]

use lantern::{autograd, Conv2dOpts, DType, Device, NormOrd, Result, Tensor};

/// Absolute/relative tolerance for f64 central differences with `EPS`.
pub const EPS: f64 = 1e-6;
/// Allowed |analytic - numeric| <= ATOL + RTOL·|numeric|.
pub const ATOL: f64 = 1e-5;
/// See [`ATOL`].
pub const RTOL: f64 = 1e-4;

/// Checks `f`'s gradient with respect to every input by central differences.
/// `f` must return a tensor; its gradient is taken of `sum(f(x) * w)` for a fixed random
/// `w`, so every output element is weighted differently. Panics with a message on mismatch.
pub fn gradcheck(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let dev = Device::cpu();
    let leaves: Vec<Tensor> = inputs
        .iter()
        .map(|t| {
            let d = Tensor::from_slice(&t.to_f64_vec(), t.shape().clone(), &dev);
            d.requires_grad_(true)
        })
        .collect();
    let out = f(&leaves).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
    assert_eq!(out.dtype(), DType::F64, "{name}: gradcheck runs in f64");
    lantern::manual_seed(1234);
    let w = Tensor::randn(out.shape().clone(), DType::F64, &dev);
    let loss = out.mul(&w).sum(None, false);
    let grads = autograd::grad(&[loss], &leaves, None, false, false)
        .unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));
    for (i, x) in leaves.iter().enumerate() {
        let base = x.to_f64_vec();
        let analytic = match &grads[i] {
            Some(g) => g.to_f64_vec(),
            None => vec![0.0; base.len()],
        };
        for j in 0..base.len() {
            let eval = |delta: f64| -> f64 {
                let mut v = base.clone();
                v[j] += delta;
                let xs: Vec<Tensor> = leaves
                    .iter()
                    .enumerate()
                    .map(|(k, t)| {
                        if k == i {
                            Tensor::from_slice(&v, t.shape().clone(), &dev)
                        } else {
                            t.detach()
                        }
                    })
                    .collect();
                let _ng = autograd::no_grad();
                let o = f(&xs).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
                o.mul(&w).sum(None, false).item::<f64>()
            };
            let numeric = (eval(EPS) - eval(-EPS)) / (2.0 * EPS);
            let a = analytic[j];
            assert!(
                (a - numeric).abs() <= ATOL + RTOL * numeric.abs(),
                "{name}: d/dinput{i}[{j}]: analytic {a} vs numeric {numeric}"
            );
        }
    }
}

/// A random f64 tensor with values in `[lo, hi)` (seeded).
pub fn rand_in(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    lantern::manual_seed(seed);
    Tensor::try_uniform(shape, lo, hi, DType::F64, &Device::cpu()).expect("uniform")
}

/// A unary op of the tensor API.
pub type UnaryFn = fn(&Tensor) -> Result<Tensor>;

/// Unary ops smooth on all of ℝ.
pub const SMOOTH: [(&str, UnaryFn); 9] = [
    ("exp", |x| x.try_exp()),
    ("exp2", |x| x.try_exp2()),
    ("expm1", |x| x.try_expm1()),
    ("sin", |x| x.try_sin()),
    ("cos", |x| x.try_cos()),
    ("tanh", |x| x.try_tanh()),
    ("erf", |x| x.try_erf()),
    ("sigmoid", |x| x.try_sigmoid()),
    ("silu", |x| x.try_silu()),
];

/// Unary ops smooth for positive inputs.
pub const POSITIVE: [(&str, UnaryFn); 6] = [
    ("log", |x| x.try_log()),
    ("log2", |x| x.try_log2()),
    ("sqrt", |x| x.try_sqrt()),
    ("rsqrt", |x| x.try_rsqrt()),
    ("reciprocal", |x| x.try_reciprocal()),
    ("pow_scalar", |x| x.try_pow_scalar(2.5)),
];

/// One differentiable computation to check: its inputs (f64, on the CPU) and the function.
pub struct Case {
    /// What is checked, e.g. `"softmax dim1"`.
    pub name: &'static str,
    /// The inputs, f64 on the CPU; other drivers get them converted and moved.
    pub inputs: Vec<Tensor>,
    /// False where the function has kinks or jumps near the inputs at f32 step sizes
    /// (relu, abs, max, floor...): those skip the on-device finite difference.
    pub smooth: bool,
    /// The computation; it must build any helper tensor on its inputs' device.
    pub f: CaseFn,
}

/// The function of a [`Case`].
pub type CaseFn = Box<dyn Fn(&[Tensor]) -> Result<Tensor>>;

struct Cases(Vec<Case>);

impl Cases {
    fn add(
        &mut self,
        name: &'static str,
        inputs: &[Tensor],
        f: impl Fn(&[Tensor]) -> Result<Tensor> + 'static,
    ) {
        self.push(name, inputs, true, f);
    }
    fn kinked(
        &mut self,
        name: &'static str,
        inputs: &[Tensor],
        f: impl Fn(&[Tensor]) -> Result<Tensor> + 'static,
    ) {
        self.push(name, inputs, false, f);
    }
    fn push(
        &mut self,
        name: &'static str,
        inputs: &[Tensor],
        smooth: bool,
        f: impl Fn(&[Tensor]) -> Result<Tensor> + 'static,
    ) {
        self.0.push(Case {
            name,
            inputs: inputs.to_vec(),
            smooth,
            f: Box::new(f),
        });
    }
}

/// Integer index data as an int64 tensor on `like`'s device.
fn index(data: &[i64], shape: &[usize], like: &Tensor) -> Result<Tensor> {
    Tensor::try_from_slice(data, shape, like.device())
}

/// Every differentiable op of the tensor API, composed ops included, on small inputs chosen
/// away from the ops' singularities. The CPU suite checks each by f64 central differences
/// ([`gradcheck`]); other drivers run them through [`check_on_device`].
pub fn op_cases() -> Vec<Case> {
    let mut c = Cases(Vec::new());

    // Unary.
    let x = rand_in(&[2, 3], -2.0, 2.0, 1);
    let pos = rand_in(&[2, 3], 0.5, 3.0, 2);
    let unit = rand_in(&[2, 3], -0.9, 0.9, 3);
    let neg: (&str, UnaryFn) = ("neg", |x| x.try_neg());
    for (name, f) in SMOOTH.into_iter().chain([neg]) {
        c.add(name, &[x.clone()], move |t| f(&t[0]));
    }
    for (name, f) in POSITIVE {
        c.add(name, &[pos.clone()], move |t| f(&t[0]));
    }
    c.add("log1p", &[unit.clone()], |t| t[0].try_log1p());
    c.add("gelu", &[x.clone()], |t| t[0].try_gelu(false));
    c.add("gelu_tanh", &[x.clone()], |t| t[0].try_gelu(true));
    c.add("softplus", &[x.clone()], |t| t[0].try_softplus(1.5, 2.0));
    c.kinked("abs", &[x.clone()], |t| t[0].try_abs());
    c.kinked("relu", &[x.clone()], |t| t[0].try_relu());
    c.kinked("clamp", &[x.clone()], |t| {
        t[0].try_clamp(Some(-0.5), Some(0.7))
    });
    // Piecewise-constant ops have zero gradient (as in PyTorch).
    c.kinked("floor", &[x.clone()], |t| t[0].try_floor()?.try_add(&t[0]));

    // Binary, with broadcasting.
    let a = rand_in(&[2, 3], -2.0, 2.0, 4);
    let b = rand_in(&[3], 0.5, 2.0, 5);
    let col = rand_in(&[2, 1], 0.5, 2.0, 6);
    c.add("add", &[a.clone(), b.clone()], |t| t[0].try_add(&t[1]));
    c.add("sub", &[a.clone(), col.clone()], |t| t[0].try_sub(&t[1]));
    c.add("mul", &[a.clone(), b.clone()], |t| t[0].try_mul(&t[1]));
    c.add("div", &[a.clone(), col.clone()], |t| t[0].try_div(&t[1]));
    c.add("pow", &[b.clone(), a.clone()], |t| t[0].try_pow(&t[1]));
    c.kinked("maximum", &[a.clone(), b.clone()], |t| {
        t[0].try_maximum(&t[1])
    });
    c.kinked("minimum", &[a.clone(), col.clone()], |t| {
        t[0].try_minimum(&t[1])
    });
    c.add("scalar ops", &[a.clone()], |t| {
        t[0].try_mul_scalar(3.0)?
            .try_add_scalar(1.0)?
            .try_div_scalar(2.0)?
            .try_sub_scalar(0.5)
    });
    c.kinked("where", &[a.clone(), b.clone()], |t| {
        let cond = t[0].detach().try_gt_scalar(0.0)?;
        Tensor::try_where(&cond, &t[0], &t[1])
    });
    c.kinked("masked_fill", &[a.clone()], |t| {
        let m = t[0].detach().try_lt_scalar(0.0)?;
        t[0].try_masked_fill(&m, 2.0)?.try_mul(&t[0])
    });

    // Reductions.
    let x = rand_in(&[3, 4, 2], -2.0, 2.0, 7);
    c.add("sum all", &[x.clone()], |t| t[0].try_sum(None, false));
    c.add("sum dims", &[x.clone()], |t| {
        t[0].try_sum(Some(&[0, -1]), false)
    });
    c.add("sum keepdim", &[x.clone()], |t| {
        t[0].try_sum(Some(&[1]), true)
    });
    c.add("mean", &[x.clone()], |t| t[0].try_mean(Some(&[1]), false));
    c.add("var", &[x.clone()], |t| {
        t[0].try_var(Some(&[1]), 1.0, false)
    });
    c.add("std", &[x.clone()], |t| t[0].try_std(None, 0.0, false));
    c.add("prod", &[x.clone()], |t| t[0].try_prod(Some(&[2]), false));
    c.kinked("amax", &[x.clone()], |t| t[0].try_amax(Some(&[1]), false));
    c.kinked("amin", &[x.clone()], |t| t[0].try_amin(Some(&[0, 2]), true));
    c.kinked("max_dim", &[x.clone()], |t| {
        Ok(t[0].try_max_dim(1, false)?.0)
    });
    c.add("logsumexp", &[x.clone()], |t| {
        t[0].try_logsumexp(&[1], false)
    });
    c.add("norm2", &[x.clone()], |t| {
        t[0].try_norm(NormOrd::P(2.0), Some(&[1]), false)
    });
    c.add("norm3", &[x.clone()], |t| {
        t[0].try_norm(NormOrd::P(3.0), None, false)
    });
    c.add("cumsum", &[x.clone()], |t| t[0].try_cumsum(1));
    let pos = rand_in(&[3, 4], 0.5, 2.0, 8);
    c.add("cumprod", &[pos], |t| t[0].try_cumprod(-1));

    // Matmul and the softmax family.
    let a = rand_in(&[3, 4], -1.0, 1.0, 9);
    let b = rand_in(&[4, 2], -1.0, 1.0, 10);
    c.add("mm", &[a.clone(), b.clone()], |t| t[0].try_matmul(&t[1]));
    c.add("mm transposed", &[a.clone(), a.clone()], |t| {
        t[0].try_matmul(&t[1].try_t()?)
    });
    let v = rand_in(&[4], -1.0, 1.0, 11);
    c.add("mv", &[a.clone(), v.clone()], |t| t[0].try_matmul(&t[1]));
    c.add("dot", &[v.clone(), v.clone()], |t| t[0].try_matmul(&t[1]));
    let ba = rand_in(&[2, 1, 3, 4], -1.0, 1.0, 12);
    let bb = rand_in(&[5, 4, 2], -1.0, 1.0, 13);
    c.add("batched broadcast", &[ba, bb], |t| t[0].try_matmul(&t[1]));
    let x3 = rand_in(&[2, 3, 4], -1.0, 1.0, 14);
    c.add("3d @ 2d", &[x3.clone(), b.clone()], |t| {
        t[0].try_matmul(&t[1])
    });
    c.add("softmax", &[x3.clone()], |t| t[0].try_softmax(-1));
    c.add("softmax dim1", &[x3.clone()], |t| t[0].try_softmax(1));
    c.add("log_softmax", &[x3.clone()], |t| t[0].try_log_softmax(-1));
    c.add("log_softmax dim0", &[x3.clone()], |t| {
        t[0].try_log_softmax(0)
    });

    // Convolution and pooling.
    let x = rand_in(&[2, 4, 5, 6], -1.0, 1.0, 15);
    let w = rand_in(&[6, 2, 3, 3], -1.0, 1.0, 16);
    let b = rand_in(&[6], -1.0, 1.0, 17);
    let opts = Conv2dOpts {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: 2,
    };
    c.add("conv2d", &[x.clone(), w, b], move |t| {
        t[0].try_conv2d(&t[1], Some(&t[2]), opts)
    });
    let w1 = rand_in(&[3, 4, 3], -1.0, 1.0, 18);
    let x1 = rand_in(&[2, 4, 7], -1.0, 1.0, 19);
    c.add("conv1d", &[x1.clone(), w1], |t| {
        t[0].try_conv1d(&t[1], None, 2, 1, 1, 1)
    });
    c.kinked("max_pool2d", &[x.clone()], |t| {
        t[0].try_max_pool2d([2, 2], [2, 2], [1, 0], [1, 1])
    });
    c.add("avg_pool2d", &[x.clone()], |t| {
        t[0].try_avg_pool2d([3, 3], [2, 2], [1, 1], false)
    });
    c.kinked("max_pool1d", &[x1.clone()], |t| {
        t[0].try_max_pool1d(3, 2, 1, 1)
    });
    c.add("avg_pool1d", &[x1], |t| t[0].try_avg_pool1d(2, 1, 0, true));

    // Views and indexing.
    let x = rand_in(&[3, 4], -1.0, 1.0, 20);
    c.add("reshape", &[x.clone()], |t| {
        t[0].try_reshape(&[2, -1])?.try_exp()
    });
    c.add("permute", &[x.clone()], |t| {
        t[0].try_permute(&[1, 0])?.try_contiguous()?.try_exp()
    });
    c.add("narrow", &[x.clone()], |t| t[0].try_narrow(1, 1, 2));
    c.add("slice step", &[x.clone()], |t| {
        t[0].try_slice(1, 0, None, 2)
    });
    c.add("select", &[x.clone()], |t| t[0].try_select(0, -1));
    c.add("expand", &[x.clone()], |t| {
        t[0].try_unsqueeze(0)?
            .try_expand(&[2, 3, 4])?
            .try_mul(&t[0])
    });
    c.add("squeeze/flatten", &[x.clone()], |t| {
        t[0].try_unsqueeze(1)?.try_squeeze(None)?.try_flatten(0, -1)
    });
    c.add("cat", &[x.clone(), x.clone()], |t| {
        Tensor::try_cat(&[t[0].clone(), t[1].try_mul_scalar(2.0)?], 1)
    });
    c.add("stack", &[x.clone(), x.clone()], |t| {
        Tensor::try_stack(&[t[0].clone(), t[1].clone()], 0)
    });
    c.add("chunk", &[x.clone()], |t| {
        t[0].try_chunk(2, 1)?[1].try_exp()
    });
    c.add("pad", &[x.clone()], |t| t[0].try_pad(&[1, -1, 2, 0], 0.5));
    c.add("index_select", &[x.clone()], |t| {
        t[0].try_index_select(0, &index(&[2, 0, 0, 1], &[4], &t[0])?)
    });
    const GIDX: [i64; 6] = [0, 3, 3, 1, 2, 2];
    c.add("gather", &[x.clone()], |t| {
        t[0].try_gather(1, &index(&GIDX, &[3, 2], &t[0])?)
    });
    let src = rand_in(&[3, 2], -1.0, 1.0, 21);
    c.add("scatter_add", &[x.clone(), src], |t| {
        t[0].try_scatter_add(1, &index(&GIDX, &[3, 2], &t[0])?, &t[1])
    });

    // Layer norm: one fused node, with and without the affine, over one and two dims.
    use lantern::nn::functional::layer_norm;
    let lx = rand_in(&[3, 2, 5], -2.0, 2.0, 22);
    let lw = rand_in(&[5], 0.5, 1.5, 23);
    let lb = rand_in(&[5], -0.5, 0.5, 24);
    c.add("layer_norm", &[lx.clone(), lw.clone(), lb.clone()], |t| {
        layer_norm(&t[0], &[5], Some(&t[1]), Some(&t[2]), 1e-5)
    });
    c.add("layer_norm no affine", &[lx.clone()], |t| {
        layer_norm(&t[0], &[5], None, None, 1e-5)
    });
    c.add("layer_norm weight only", &[lx.clone(), lw], |t| {
        layer_norm(&t[0], &[5], Some(&t[1]), None, 1e-5)
    });
    c.add("layer_norm bias only", &[lx.clone(), lb], |t| {
        layer_norm(&t[0], &[5], None, Some(&t[1]), 1e-5)
    });
    let lw2 = rand_in(&[2, 5], 0.5, 1.5, 25);
    c.add("layer_norm 2 dims", &[lx, lw2], |t| {
        layer_norm(&t[0], &[2, 5], Some(&t[1]), None, 1e-3)
    });
    c.0
}

/// Tolerances of [`check_on_device`]: the device's f32 gradient against the CPU's f64 one.
pub const DEVICE_ATOL: f64 = 1e-4;
/// See [`DEVICE_ATOL`].
pub const DEVICE_RTOL: f64 = 1e-3;
/// Step of the on-device directional difference (f32 arithmetic), and its relative tolerance
/// (the truncation error is O(step²), rounding O(1e-7 / step)).
pub const FD_STEP: f64 = 1e-2;
/// See [`FD_STEP`].
pub const FD_RTOL: f64 = 2e-2;

/// Checks `case` on `dev` in f32: the gradient computed there against the CPU's f64 gradient
/// (which the CPU suite checks by central differences), and, for smooth cases, a directional
/// central difference computed on the device itself. Returns what failed.
pub fn check_on_device(dev: &Device, case: &Case) -> core::result::Result<(), String> {
    let name = case.name;
    let e = |what: &str, err: lantern::Error| format!("{name}: {what}: {err}");
    let cpu = Device::cpu();
    let weighted = |out: &Tensor, w: &Tensor| out.try_mul(w)?.try_sum(None, false);

    // Reference: f64 on the CPU.
    let ref_in: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|t| t.detach().requires_grad_(true))
        .collect();
    let ref_out = (case.f)(&ref_in).map_err(|err| e("cpu forward", err))?;
    lantern::manual_seed(1234);
    let w = Tensor::try_randn(ref_out.shape().clone(), DType::F64, &cpu)
        .map_err(|err| e("randn", err))?;
    let ref_loss = weighted(&ref_out, &w).map_err(|err| e("cpu loss", err))?;
    let ref_grads = autograd::grad(&[ref_loss], &ref_in, None, false, false)
        .map_err(|err| e("cpu backward", err))?;

    // The device, in f32.
    let to_dev = |t: &Tensor| t.try_to_dtype(DType::F32)?.try_to_device(dev);
    let leaves: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|t| Ok(to_dev(t)?.requires_grad_(true)))
        .collect::<Result<_>>()
        .map_err(|err| e("upload", err))?;
    let w_dev = to_dev(&w).map_err(|err| e("upload", err))?;
    let out = (case.f)(&leaves).map_err(|err| e("device forward", err))?;
    let loss = weighted(&out, &w_dev).map_err(|err| e("device loss", err))?;
    let grads = autograd::grad(&[loss.clone()], &leaves, None, false, false)
        .map_err(|err| e("device backward", err))?;
    for (i, (g, r)) in grads.iter().zip(&ref_grads).enumerate() {
        let n = case.inputs[i].numel();
        let got = g.as_ref().map_or(vec![0.0; n], |g| g.to_f64_vec());
        let want = r.as_ref().map_or(vec![0.0; n], |r| r.to_f64_vec());
        for (j, (a, b)) in got.iter().zip(&want).enumerate() {
            if (a - b).abs() > DEVICE_ATOL + DEVICE_RTOL * b.abs() || !a.is_finite() {
                return Err(format!(
                    "{name}: d/dinput{i}[{j}] on {dev}: {a} vs {b} on the cpu (f64)"
                ));
            }
        }
    }
    if !case.smooth {
        return Ok(());
    }

    // Directional difference along a fixed random direction, all in f32 on the device.
    lantern::manual_seed(99);
    let dirs: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|t| Tensor::try_randn(t.shape().clone(), DType::F64, &cpu))
        .collect::<Result<_>>()
        .map_err(|err| e("randn", err))?;
    let eval = |sign: f64| -> Result<f64> {
        let _ng = autograd::no_grad();
        let xs: Vec<Tensor> = case
            .inputs
            .iter()
            .zip(&dirs)
            .map(|(x, d)| to_dev(&x.try_add(&d.try_mul_scalar(sign * FD_STEP)?)?))
            .collect::<Result<_>>()?;
        weighted(&(case.f)(&xs)?, &w_dev)?
            .try_item::<f32>()
            .map(f64::from)
    };
    let numeric = (eval(1.0).map_err(|err| e("fd", err))?
        - eval(-1.0).map_err(|err| e("fd", err))?)
        / (2.0 * FD_STEP);
    let mut analytic = 0.0;
    for (g, d) in grads.iter().zip(&dirs) {
        if let Some(g) = g {
            analytic += g
                .to_f64_vec()
                .iter()
                .zip(d.to_f64_vec())
                .map(|(a, b)| a * b)
                .sum::<f64>();
        }
    }
    if (analytic - numeric).abs() > FD_RTOL * (1.0 + numeric.abs()) {
        return Err(format!(
            "{name}: directional derivative on {dev}: analytic {analytic} vs numeric {numeric}"
        ));
    }
    Ok(())
}

/// Runs every [`op_cases`] case on `dev` with [`check_on_device`]; returns the failures
/// after printing a one-line summary.
pub fn check_all_on_device(dev: &Device) -> Vec<String> {
    let cases = op_cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check_on_device(dev, c).err())
        .collect();
    println!(
        "gradient checks on {dev}: {} cases, {} failed",
        cases.len(),
        failures.len()
    );
    failures
}

/// Checks second derivatives (PyTorch's `gradgradcheck`): the gradient, taken with
/// `create_graph`, of `Σᵢ sum(∂L/∂xᵢ · uᵢ)` for `L = sum(f(x) · w)` and fixed random `u`,
/// `w`, against central differences of that first-order quantity. This is what a
/// Hessian-vector product needs from every backward rule: differentiable rules, and saved
/// outputs that still carry their producer. Panics with a message on mismatch.
pub fn gradgradcheck(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let dev = Device::cpu();
    let base: Vec<Vec<f64>> = inputs.iter().map(|t| t.to_f64_vec()).collect();
    let leaves_of = |vals: &[Vec<f64>]| -> Vec<Tensor> {
        vals.iter()
            .zip(inputs)
            .map(|(v, t)| Tensor::from_slice(v, t.shape().clone(), &dev).requires_grad_(true))
            .collect()
    };
    lantern::manual_seed(4321);
    let us: Vec<Tensor> = inputs
        .iter()
        .map(|t| Tensor::randn(t.shape().clone(), DType::F64, &dev))
        .collect();
    let mut w: Option<Tensor> = None;
    // Σᵢ sum(∂L/∂xᵢ · uᵢ) at `leaves`, differentiable again when `create_graph`.
    let first = |leaves: &[Tensor], w: &mut Option<Tensor>, create_graph: bool| -> Tensor {
        let out = f(leaves).unwrap_or_else(|e| panic!("{name}: forward failed: {e}"));
        let w = w.get_or_insert_with(|| Tensor::randn(out.shape().clone(), DType::F64, &dev));
        let loss = out.mul(w).sum(None, false);
        let gs = autograd::grad(&[loss], leaves, None, create_graph, create_graph)
            .unwrap_or_else(|e| panic!("{name}: backward failed: {e}"));
        let mut s = Tensor::zeros([], DType::F64, &dev);
        for (g, u) in gs.iter().zip(&us) {
            if let Some(g) = g {
                s = s.add(&g.mul(u).sum(None, false));
            }
        }
        s
    };
    let leaves = leaves_of(&base);
    let s = first(&leaves, &mut w, true);
    let analytic = if s.requires_grad() {
        autograd::grad(&[s], &leaves, None, false, false)
            .unwrap_or_else(|e| panic!("{name}: double backward failed: {e}"))
    } else {
        // First derivatives constant in x (a linear op): all second derivatives are 0.
        vec![None; leaves.len()]
    };
    for (i, b) in base.iter().enumerate() {
        let a = match &analytic[i] {
            Some(g) => g.to_f64_vec(),
            None => vec![0.0; b.len()],
        };
        for j in 0..b.len() {
            let mut eval = |delta: f64| -> f64 {
                let mut vals = base.clone();
                vals[i][j] += delta;
                first(&leaves_of(&vals), &mut w, false).item::<f64>()
            };
            let numeric = (eval(EPS) - eval(-EPS)) / (2.0 * EPS);
            assert!(
                (a[j] - numeric).abs() <= ATOL + RTOL * numeric.abs(),
                "{name}: second derivative d/dinput{i}[{j}]: analytic {} vs numeric {numeric}",
                a[j]
            );
        }
    }
}
