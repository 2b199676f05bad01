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
