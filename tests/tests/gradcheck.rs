//! Finite-difference gradient checks (f64) for every differentiable op, plus the autograd
//! engine's behaviour: accumulation, retain_graph, hooks, no_grad, in-place detection,
//! higher-order gradients and a 100,000-node chain.

// Single-input checks read better as `&[x.clone()]` next to the multi-input ones.
#![allow(clippy::cloned_ref_to_slice_refs)]

use lantern::{autograd, Conv2dOpts, DType, Device, Error, NormOrd, Tensor};
use lantern_tests::gradcheck::{gradcheck, rand_in};

fn cpu() -> Device {
    Device::cpu()
}

type UnaryFn = fn(&Tensor) -> lantern::Result<Tensor>;

/// Unary ops smooth on all of ℝ.
const SMOOTH: [(&str, UnaryFn); 9] = [
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
const POSITIVE: [(&str, UnaryFn); 6] = [
    ("log", |x| x.try_log()),
    ("log2", |x| x.try_log2()),
    ("sqrt", |x| x.try_sqrt()),
    ("rsqrt", |x| x.try_rsqrt()),
    ("reciprocal", |x| x.try_reciprocal()),
    ("pow_scalar", |x| x.try_pow_scalar(2.5)),
];

#[test]
fn unary_ops() {
    let x = rand_in(&[2, 3], -2.0, 2.0, 1);
    let pos = rand_in(&[2, 3], 0.5, 3.0, 2);
    let unit = rand_in(&[2, 3], -0.9, 0.9, 3);
    let more: [(&str, UnaryFn); 2] = [("neg", |x| x.try_neg()), ("abs", |x| x.try_abs())];
    for (name, f) in SMOOTH.into_iter().chain(more) {
        gradcheck(name, &[x.clone()], |t| f(&t[0]));
    }
    for (name, f) in POSITIVE {
        gradcheck(name, &[pos.clone()], |t| f(&t[0]));
    }
    gradcheck("log1p", &[unit.clone()], |t| t[0].try_log1p());
    gradcheck("gelu", &[x.clone()], |t| t[0].try_gelu(false));
    gradcheck("gelu_tanh", &[x.clone()], |t| t[0].try_gelu(true));
    gradcheck("softplus", &[x.clone()], |t| t[0].try_softplus(1.5, 2.0));
    gradcheck("relu", &[x.clone()], |t| t[0].try_relu());
    gradcheck("clamp", &[x.clone()], |t| {
        t[0].try_clamp(Some(-0.5), Some(0.7))
    });
    // Piecewise-constant ops have zero gradient (as in PyTorch).
    gradcheck("floor", &[x.clone()], |t| t[0].try_floor()?.try_add(&t[0]));
}

#[test]
fn binary_ops_with_broadcasting() {
    let a = rand_in(&[2, 3], -2.0, 2.0, 4);
    let b = rand_in(&[3], 0.5, 2.0, 5);
    let col = rand_in(&[2, 1], 0.5, 2.0, 6);
    gradcheck("add", &[a.clone(), b.clone()], |t| t[0].try_add(&t[1]));
    gradcheck("sub", &[a.clone(), col.clone()], |t| t[0].try_sub(&t[1]));
    gradcheck("mul", &[a.clone(), b.clone()], |t| t[0].try_mul(&t[1]));
    gradcheck("div", &[a.clone(), col.clone()], |t| t[0].try_div(&t[1]));
    gradcheck("pow", &[b.clone(), a.clone()], |t| t[0].try_pow(&t[1]));
    gradcheck("maximum", &[a.clone(), b.clone()], |t| {
        t[0].try_maximum(&t[1])
    });
    gradcheck("minimum", &[a.clone(), col.clone()], |t| {
        t[0].try_minimum(&t[1])
    });
    gradcheck("scalar ops", &[a.clone()], |t| {
        t[0].try_mul_scalar(3.0)?
            .try_add_scalar(1.0)?
            .try_div_scalar(2.0)?
            .try_sub_scalar(0.5)
    });
    gradcheck("where", &[a.clone(), b.clone()], |t| {
        let c = t[0].detach().try_gt_scalar(0.0)?;
        Tensor::try_where(&c, &t[0], &t[1])
    });
    gradcheck("masked_fill", &[a.clone()], |t| {
        let m = t[0].detach().try_lt_scalar(0.0)?;
        t[0].try_masked_fill(&m, 2.0)?.try_mul(&t[0])
    });
}

#[test]
fn reductions() {
    let x = rand_in(&[3, 4, 2], -2.0, 2.0, 7);
    gradcheck("sum all", &[x.clone()], |t| t[0].try_sum(None, false));
    gradcheck("sum dims", &[x.clone()], |t| {
        t[0].try_sum(Some(&[0, -1]), false)
    });
    gradcheck("sum keepdim", &[x.clone()], |t| {
        t[0].try_sum(Some(&[1]), true)
    });
    gradcheck("mean", &[x.clone()], |t| t[0].try_mean(Some(&[1]), false));
    gradcheck("var", &[x.clone()], |t| {
        t[0].try_var(Some(&[1]), 1.0, false)
    });
    gradcheck("std", &[x.clone()], |t| t[0].try_std(None, 0.0, false));
    gradcheck("prod", &[x.clone()], |t| t[0].try_prod(Some(&[2]), false));
    gradcheck("amax", &[x.clone()], |t| t[0].try_amax(Some(&[1]), false));
    gradcheck("amin", &[x.clone()], |t| t[0].try_amin(Some(&[0, 2]), true));
    gradcheck("max_dim", &[x.clone()], |t| {
        Ok(t[0].try_max_dim(1, false)?.0)
    });
    gradcheck("logsumexp", &[x.clone()], |t| {
        t[0].try_logsumexp(&[1], false)
    });
    gradcheck("norm2", &[x.clone()], |t| {
        t[0].try_norm(NormOrd::P(2.0), Some(&[1]), false)
    });
    gradcheck("norm3", &[x.clone()], |t| {
        t[0].try_norm(NormOrd::P(3.0), None, false)
    });
    gradcheck("cumsum", &[x.clone()], |t| t[0].try_cumsum(1));
    let pos = rand_in(&[3, 4], 0.5, 2.0, 8);
    gradcheck("cumprod", &[pos], |t| t[0].try_cumprod(-1));
}

#[test]
fn matmul_and_nn_ops() {
    let a = rand_in(&[3, 4], -1.0, 1.0, 9);
    let b = rand_in(&[4, 2], -1.0, 1.0, 10);
    gradcheck("mm", &[a.clone(), b.clone()], |t| t[0].try_matmul(&t[1]));
    gradcheck("mm transposed", &[a.clone(), a.clone()], |t| {
        t[0].try_matmul(&t[1].try_t()?)
    });
    let v = rand_in(&[4], -1.0, 1.0, 11);
    gradcheck("mv", &[a.clone(), v.clone()], |t| t[0].try_matmul(&t[1]));
    gradcheck("dot", &[v.clone(), v.clone()], |t| t[0].try_matmul(&t[1]));
    let ba = rand_in(&[2, 1, 3, 4], -1.0, 1.0, 12);
    let bb = rand_in(&[5, 4, 2], -1.0, 1.0, 13);
    gradcheck("batched broadcast", &[ba, bb], |t| t[0].try_matmul(&t[1]));
    let x3 = rand_in(&[2, 3, 4], -1.0, 1.0, 14);
    gradcheck("3d @ 2d", &[x3.clone(), b.clone()], |t| {
        t[0].try_matmul(&t[1])
    });
    gradcheck("softmax", &[x3.clone()], |t| t[0].try_softmax(-1));
    gradcheck("softmax dim1", &[x3.clone()], |t| t[0].try_softmax(1));
    gradcheck("log_softmax", &[x3.clone()], |t| t[0].try_log_softmax(-1));
    gradcheck("log_softmax dim0", &[x3.clone()], |t| {
        t[0].try_log_softmax(0)
    });
}

#[test]
fn conv_and_pool() {
    let x = rand_in(&[2, 4, 5, 6], -1.0, 1.0, 15);
    let w = rand_in(&[6, 2, 3, 3], -1.0, 1.0, 16);
    let b = rand_in(&[6], -1.0, 1.0, 17);
    let opts = Conv2dOpts {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: 2,
    };
    gradcheck("conv2d", &[x.clone(), w, b], |t| {
        t[0].try_conv2d(&t[1], Some(&t[2]), opts)
    });
    let w1 = rand_in(&[3, 4, 3], -1.0, 1.0, 18);
    let x1 = rand_in(&[2, 4, 7], -1.0, 1.0, 19);
    gradcheck("conv1d", &[x1.clone(), w1], |t| {
        t[0].try_conv1d(&t[1], None, 2, 1, 1, 1)
    });
    gradcheck("max_pool2d", &[x.clone()], |t| {
        t[0].try_max_pool2d([2, 2], [2, 2], [1, 0], [1, 1])
    });
    gradcheck("avg_pool2d", &[x.clone()], |t| {
        t[0].try_avg_pool2d([3, 3], [2, 2], [1, 1], false)
    });
    gradcheck("max_pool1d", &[x1.clone()], |t| {
        t[0].try_max_pool1d(3, 2, 1, 1)
    });
    gradcheck("avg_pool1d", &[x1], |t| t[0].try_avg_pool1d(2, 1, 0, true));
}

#[test]
fn views_and_indexing() {
    let x = rand_in(&[3, 4], -1.0, 1.0, 20);
    gradcheck("reshape", &[x.clone()], |t| {
        t[0].try_reshape(&[2, -1])?.try_exp()
    });
    gradcheck("permute", &[x.clone()], |t| {
        t[0].try_permute(&[1, 0])?.try_contiguous()?.try_exp()
    });
    gradcheck("narrow", &[x.clone()], |t| t[0].try_narrow(1, 1, 2));
    gradcheck("slice step", &[x.clone()], |t| {
        t[0].try_slice(1, 0, None, 2)
    });
    gradcheck("select", &[x.clone()], |t| t[0].try_select(0, -1));
    gradcheck("expand", &[x.clone()], |t| {
        t[0].try_unsqueeze(0)?
            .try_expand(&[2, 3, 4])?
            .try_mul(&t[0])
    });
    gradcheck("squeeze/flatten", &[x.clone()], |t| {
        t[0].try_unsqueeze(1)?.try_squeeze(None)?.try_flatten(0, -1)
    });
    gradcheck("cat", &[x.clone(), x.clone()], |t| {
        Tensor::try_cat(&[t[0].clone(), t[1].try_mul_scalar(2.0)?], 1)
    });
    gradcheck("stack", &[x.clone(), x.clone()], |t| {
        Tensor::try_stack(&[t[0].clone(), t[1].clone()], 0)
    });
    gradcheck("chunk", &[x.clone()], |t| {
        t[0].try_chunk(2, 1)?[1].try_exp()
    });
    gradcheck("pad", &[x.clone()], |t| t[0].try_pad(&[1, -1, 2, 0], 0.5));
    let idx = Tensor::from_slice(&[2i64, 0, 0, 1], [4], &cpu());
    gradcheck("index_select", &[x.clone()], |t| {
        t[0].try_index_select(0, &idx)
    });
    let gidx = Tensor::from_slice(&[0i64, 3, 3, 1, 2, 2], [3, 2], &cpu());
    gradcheck("gather", &[x.clone()], |t| t[0].try_gather(1, &gidx));
    let src = rand_in(&[3, 2], -1.0, 1.0, 21);
    gradcheck("scatter_add", &[x.clone(), src], |t| {
        t[0].try_scatter_add(1, &gidx, &t[1])
    });
}

#[test]
fn accumulation_retain_graph_and_errors() {
    let x = Tensor::from_slice(&[1.0f64, 2.0, 3.0], [3], &cpu()).requires_grad_(true);
    let y = x.mul(&x).sum(None, false);
    y.try_backward_with(None, true, false).unwrap();
    y.try_backward().unwrap();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        vec![4.0, 8.0, 12.0],
        "two backwards accumulate"
    );
    let e = y.try_backward().unwrap_err();
    assert!(
        matches!(e, Error::Autograd(ref m) if m.contains("second time")),
        "{e}"
    );
    // Non-scalar output needs a gradient.
    let z = x.mul_scalar(2.0);
    assert!(z.try_backward().is_err());
    // In-place modification of a saved tensor.
    let a = Tensor::from_slice(&[1.0f64, 2.0], [2], &cpu()).requires_grad_(true);
    let b = a.mul_scalar(1.0);
    let c = b.exp();
    {
        let _ng = autograd::no_grad();
        b.try_add_scalar_(1.0).unwrap();
    }
    let e = c.sum(None, false).try_backward().unwrap_err();
    assert!(
        e.to_string().contains("modified by an in-place operation"),
        "{e}"
    );
    // In-place on a leaf requiring grad while grad mode is on.
    assert!(a.try_add_scalar_(1.0).is_err());
}

#[test]
fn no_grad_detach_and_hooks() {
    let x = Tensor::from_slice(&[1.0f64, -2.0], [2], &cpu()).requires_grad_(true);
    {
        let _ng = autograd::no_grad();
        assert!(!x.mul(&x).requires_grad());
    }
    assert!(!x.detach().requires_grad());
    let y = x.mul_scalar(3.0);
    y.register_hook(|g| Some(g.mul_scalar(10.0))).unwrap();
    x.register_hook(|g| Some(g.add_scalar(1.0))).unwrap();
    y.sum(None, false).backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![31.0, 31.0]);
}

#[test]
fn hessian_vector_product() {
    // f(x) = sum(x^3) + x0*x1, H v for v = [1, 2, 3]: H = diag(6x) + e01 + e10.
    let x = Tensor::from_slice(&[0.5f64, -1.0, 2.0], [3], &cpu()).requires_grad_(true);
    let f = x
        .pow_scalar(3.0.into())
        .sum(None, false)
        .add(&x.select(0, 0).mul(&x.select(0, 1)));
    let g = autograd::grad(&[f], &[x.clone()], None, true, true).unwrap()[0]
        .clone()
        .unwrap();
    let v = Tensor::from_slice(&[1.0f64, 2.0, 3.0], [3], &cpu());
    let gv = g.mul(&v).sum(None, false);
    let hv = autograd::grad(&[gv], &[x.clone()], None, false, false).unwrap()[0]
        .clone()
        .unwrap();
    let expect = [6.0 * 0.5 * 1.0 + 2.0, -6.0 * 2.0 + 1.0, 6.0 * 2.0 * 3.0];
    for (a, b) in hv.to_vec::<f64>().iter().zip(expect) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn long_chain_does_not_overflow_the_stack() {
    let x = Tensor::from_slice(&[1.0f32], [1], &cpu()).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..100_000 {
        y = y.mul_scalar(1.0);
    }
    y.sum(None, false).backward();
    assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![1.0]);
    drop(y);
    // And a chain dropped without backward.
    let mut z = x.clone();
    for _ in 0..100_000 {
        z = z.add_scalar(0.0);
    }
    drop(z);
    let _ = DType::F32;
}

/// Second derivatives of every family of rules: what Hessian-vector products and
/// gradient-penalty losses (create_graph) rely on.
#[test]
fn second_derivatives() {
    use lantern_tests::gradcheck::gradgradcheck;
    let x = rand_in(&[2, 3], -1.5, 1.5, 31);
    let pos = rand_in(&[2, 3], 0.5, 2.0, 32);
    let more: [(&str, UnaryFn); 4] = [
        ("gelu", |x| x.try_gelu(false)),
        ("gelu_tanh", |x| x.try_gelu(true)),
        ("softplus", |x| x.try_softplus(1.5, 20.0)),
        ("cube", |x| x.try_pow_scalar(3.0)),
    ];
    for (name, f) in SMOOTH.into_iter().chain(more) {
        gradgradcheck(name, &[x.clone()], |t| f(&t[0]));
    }
    let log1p: (&str, UnaryFn) = ("log1p", |x| x.try_log1p());
    for (name, f) in POSITIVE.into_iter().chain([log1p]) {
        gradgradcheck(name, &[pos.clone()], |t| f(&t[0]));
    }
    gradgradcheck("mul", &[x.clone(), pos.clone()], |t| t[0].try_mul(&t[1]));
    gradgradcheck("div", &[x.clone(), pos.clone()], |t| t[0].try_div(&t[1]));
    gradgradcheck("pow", &[pos.clone(), x.clone()], |t| t[0].try_pow(&t[1]));
    let x3 = rand_in(&[2, 3, 4], -1.0, 1.0, 33);
    gradgradcheck("softmax", &[x3.clone()], |t| t[0].try_softmax(-1));
    gradgradcheck("log_softmax", &[x3.clone()], |t| t[0].try_log_softmax(1));
    gradgradcheck("logsumexp", &[x3.clone()], |t| {
        t[0].try_logsumexp(&[2], false)
    });
    gradgradcheck("var", &[x3.clone()], |t| {
        t[0].try_var(Some(&[1]), 1.0, false)
    });
    gradgradcheck("norm2", &[x3.clone()], |t| {
        t[0].try_norm(NormOrd::P(2.0), Some(&[2]), false)
    });
    gradgradcheck("prod", &[pos.clone()], |t| t[0].try_prod(Some(&[1]), false));
    gradgradcheck("cumprod", &[pos.clone()], |t| t[0].try_cumprod(1));
    let a = rand_in(&[3, 4], -1.0, 1.0, 34);
    let b = rand_in(&[4, 2], -1.0, 1.0, 35);
    gradgradcheck("matmul of squares", &[a.clone(), b.clone()], |t| {
        t[0].try_mul(&t[0])?.try_matmul(&t[1])
    });
    gradgradcheck("layer_norm", &[x3.clone()], |t| {
        lantern::nn::functional::layer_norm(&t[0], &[4], None, None, 1e-5)
    });
    let img = rand_in(&[1, 2, 4, 4], -1.0, 1.0, 36);
    let w = rand_in(&[3, 2, 2, 2], -1.0, 1.0, 37);
    gradgradcheck("conv2d then square", &[img.clone(), w], |t| {
        let y = t[0].try_conv2d(&t[1], None, Conv2dOpts::default())?;
        y.try_mul(&y)
    });
    gradgradcheck("max_pool2d then square", &[img.clone()], |t| {
        let y = t[0].try_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1])?;
        y.try_mul(&y)
    });
    gradgradcheck("avg_pool2d then square", &[img], |t| {
        let y = t[0].try_avg_pool2d([2, 2], [1, 1], [0, 0], true)?;
        y.try_mul(&y)
    });
}
