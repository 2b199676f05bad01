//! Central-difference gradient checks in f64 (PyTorch's `gradcheck`, ggml's grad mode).

use lantern::{autograd, DType, Device, Result, Tensor};

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
