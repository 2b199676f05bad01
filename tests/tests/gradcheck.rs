//! Finite-difference gradient checks (f64) for every differentiable op, plus the autograd
//! engine's behaviour: accumulation, retain_graph, hooks, no_grad, in-place detection,
//! higher-order gradients and a 100,000-node chain.

use lantern::{autograd, DType, Device, Error, Tensor};
use lantern_tests::gradcheck::{check_all_on_device, gradcheck, op_cases};

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
