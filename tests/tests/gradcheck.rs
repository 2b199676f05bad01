//! Finite-difference gradient checks (f64) for every differentiable op, plus the autograd
//! engine's behaviour: accumulation, retain_graph, hooks, no_grad, in-place detection,
//! higher-order gradients and a 100,000-node chain.

// Single-input checks read better as `&[x.clone()]` next to the multi-input ones.
#![allow(clippy::cloned_ref_to_slice_refs)]

use lantern::{autograd, Conv2dOpts, DType, Device, Error, NormOrd, Tensor};
use lantern_tests::gradcheck::{
    check_all_on_device, gradcheck, op_cases, rand_in, UnaryFn, POSITIVE, SMOOTH,
};

fn cpu() -> Device {
    Device::cpu()
}

#[test]
fn every_op_by_central_differences() {
    let cases = op_cases();
    assert!(cases.len() >= 79, "{} cases", cases.len());
    for case in &cases {
        gradcheck(case.name, &case.inputs, &case.f);
    }
}

/// The path other drivers run (f32 on the device vs f64 on the CPU, plus a directional
/// difference in f32), held to the same tolerances on the CPU driver.
#[test]
fn every_op_in_f32_against_f64() {
    let failures = check_all_on_device(&cpu());
    assert!(failures.is_empty(), "{failures:#?}");
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
    let g = autograd::grad(&[f], std::slice::from_ref(&x), None, true, true).unwrap()[0]
        .clone()
        .unwrap();
    let v = Tensor::from_slice(&[1.0f64, 2.0, 3.0], [3], &cpu());
    let gv = g.mul(&v).sum(None, false);
    let hv = autograd::grad(&[gv], std::slice::from_ref(&x), None, false, false).unwrap()[0]
        .clone()
        .unwrap();
    let expect = [6.0 * 0.5 * 1.0 + 2.0, -6.0 * 2.0 + 1.0, 6.0 * 2.0 * 3.0];
    for (a, b) in hv.to_vec::<f64>().iter().zip(expect) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

/// `autograd::grad` with non-leaf inputs: their gradient (after their hooks, summed over
/// every consumer), the output itself, and `None` for a tensor the output does not use.
#[test]
fn grad_of_intermediate_tensors() {
    let x = Tensor::from_slice(&[1.0f64, 2.0], [2], &cpu()).requires_grad_(true);
    let h = x.mul(&x);
    h.register_hook(|g| Some(g.mul_scalar(2.0))).unwrap();
    let unused = x.exp();
    let y = h.mul_scalar(3.0).add(&h).sum(None, false);
    let ins = [h.clone(), x.clone(), unused, y.clone()];
    let gs = autograd::grad(std::slice::from_ref(&y), &ins, None, false, false).unwrap();
    let v = |i: usize| gs[i].as_ref().map(|g| g.to_vec::<f64>());
    assert_eq!(
        v(0),
        Some(vec![8.0, 8.0]),
        "dy/dh = 3 + 1, doubled by the hook"
    );
    assert_eq!(v(1), Some(vec![16.0, 32.0]), "2x · 8");
    assert_eq!(v(2), None);
    assert_eq!(v(3), Some(vec![1.0]));
    assert!(x.grad().is_none(), "grad does not write .grad()");
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
    let lw = rand_in(&[4], 0.5, 1.5, 38);
    let lb = rand_in(&[4], -0.5, 0.5, 39);
    gradgradcheck("layer_norm affine", &[x3.clone(), lw, lb], |t| {
        lantern::nn::functional::layer_norm(&t[0], &[4], Some(&t[1]), Some(&t[2]), 1e-5)
    });
    let lw2 = rand_in(&[3, 4], 0.5, 1.5, 40);
    gradgradcheck("layer_norm 2 dims weight only", &[x3.clone(), lw2], |t| {
        lantern::nn::functional::layer_norm(&t[0], &[3, 4], Some(&t[1]), None, 1e-5)
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
