//! Reductions with PyTorch's `dim`/`keepdim` conventions.

use super::{sugar, Tensor};
use crate::autograd::{record, GradOp, Saved};
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, Result};
use crate::layout::{wrap_dim, Shape};
use crate::ops::{Axes, PrimOp, ReduceOp};
use alloc::vec::Vec;
use smallvec::smallvec;

/// A vector norm's order (`torch.linalg.vector_norm`'s `ord`).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum NormOrd {
    /// `(Σ|x|^p)^(1/p)`; `P(2.0)` is the Euclidean norm.
    P(f64),
    /// `max |x|`.
    Inf,
    /// `min |x|`.
    NegInf,
}

impl Tensor {
    /// Resolves `dims` (None = all) into sorted unique axes.
    fn axes(&self, op: &'static str, dims: Option<&[isize]>) -> Result<Axes> {
        let mut axes: Axes = match dims {
            None => (0..self.rank()).collect(),
            Some([]) => (0..self.rank()).collect(),
            Some(ds) => {
                let mut a = Axes::new();
                for &d in ds {
                    let w = wrap_dim(d, self.rank(), op)?;
                    if a.contains(&w) {
                        return Err(arg_err(
                            op,
                            alloc::format!("dim {d} appears more than once in {ds:?}"),
                        ));
                    }
                    a.push(w);
                }
                // In order by construction (no sort: ranks are small, and a sort's code is
                // several KB of the wasm package).
                (0..self.rank()).filter(|i| a.contains(i)).collect()
            }
        };
        if self.rank() == 0 {
            // dim 0 / -1 of a 0-dim tensor is valid (PyTorch) and reduces nothing.
            axes.clear();
        }
        Ok(axes)
    }

    /// Runs a reduction primitive; output dtype `out_dt`.
    pub(crate) fn reduce_prim(
        &self,
        op: ReduceOp,
        axes: &Axes,
        keepdim: bool,
        out_dt: DType,
    ) -> Result<Tensor> {
        let mut kshape = self.shape().clone();
        for &a in axes {
            kshape.0[a] = 1;
        }
        let out = Tensor::empty(kshape.clone(), out_dt, self.device())?;
        if self.rank() > 0 {
            Tensor::exec(
                &PrimOp::Reduce {
                    op,
                    axes: axes.clone(),
                },
                &[self],
                &out,
            )?;
        } else {
            // A 0-dim tensor reduces to itself.
            let v = match op {
                ReduceOp::ArgMax | ReduceOp::ArgMin => {
                    Tensor::try_zeros(Shape::new(&[]), DType::I64, self.device())?
                }
                _ => self.clone(),
            };
            Tensor::exec(&PrimOp::Copy, &[&v], &out)?;
        }
        let out = match op {
            ReduceOp::Sum => record(
                out,
                GradOp::Sum {
                    in_shape: self.shape().clone(),
                },
                &[self],
                |_| smallvec![],
            ),
            ReduceOp::Prod => record(out, GradOp::Prod, &[self], |y| {
                smallvec![Saved::input(self), Saved::output(y)]
            }),
            ReduceOp::Max | ReduceOp::Min => {
                record(out, GradOp::MaxMin { axes: axes.clone() }, &[self], |y| {
                    smallvec![Saved::input(self), Saved::output(y)]
                })
            }
            ReduceOp::ArgMax | ReduceOp::ArgMin => out,
        };
        if keepdim {
            Ok(out)
        } else {
            let dims: Vec<usize> = (0..self.rank())
                .filter(|d| !axes.contains(d))
                .map(|d| self.dims()[d])
                .collect();
            out.try_reshape_to(&dims)
        }
    }

    /// Sum over `dims` (None = all). Ints and bool sum to int64, as in PyTorch.
    pub fn try_sum(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let axes = self.axes("sum", dims)?;
        let x = if self.dtype().is_float() || self.dtype() == DType::I64 {
            self.clone()
        } else {
            self.try_to_dtype(DType::I64)?
        };
        x.reduce_prim(ReduceOp::Sum, &axes, keepdim, x.dtype())
    }

    /// Mean over `dims` (floats only, as in PyTorch).
    pub fn try_mean(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(dtype_err(
                "mean",
                alloc::format!("input dtype must be floating point, got {}", self.dtype()),
            ));
        }
        let axes = self.axes("mean", dims)?;
        let n: usize = axes.iter().map(|&a| self.dims()[a]).product();
        self.reduce_prim(ReduceOp::Sum, &axes, keepdim, self.dtype())?
            .try_div_scalar(n as f64)
    }

    /// Product over `dims`.
    pub fn try_prod(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let axes = self.axes("prod", dims)?;
        let x = if self.dtype().is_float() || self.dtype() == DType::I64 {
            self.clone()
        } else {
            self.try_to_dtype(DType::I64)?
        };
        x.reduce_prim(ReduceOp::Prod, &axes, keepdim, x.dtype())
    }

    /// Variance with `correction` (1 = unbiased, PyTorch's default).
    pub fn try_var(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(dtype_err(
                "var",
                alloc::format!("input dtype must be floating point, got {}", self.dtype()),
            ));
        }
        let axes = self.axes("var", dims)?;
        let n: usize = axes.iter().map(|&a| self.dims()[a]).product();
        let mean = self
            .reduce_prim(ReduceOp::Sum, &axes, true, self.dtype())?
            .try_div_scalar(n as f64)?;
        let d = self.try_sub(&mean)?;
        let ss = d
            .try_mul(&d)?
            .reduce_prim(ReduceOp::Sum, &axes, keepdim, self.dtype())?;
        ss.try_div_scalar((n as f64 - correction).max(0.0))
    }

    /// Standard deviation with `correction`.
    pub fn try_std(
        &self,
        dims: Option<&[isize]>,
        correction: f64,
        keepdim: bool,
    ) -> Result<Tensor> {
        self.try_var(dims, correction, keepdim)?.try_sqrt()
    }

    /// Maximum over `dims` (None = all); NaN propagates (PyTorch's `amax`).
    pub fn try_amax(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let axes = self.axes("amax", dims)?;
        self.nonempty("amax", &axes)?;
        self.reduce_prim(ReduceOp::Max, &axes, keepdim, self.dtype())
    }

    /// Minimum over `dims` (None = all); NaN propagates (PyTorch's `amin`).
    pub fn try_amin(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let axes = self.axes("amin", dims)?;
        self.nonempty("amin", &axes)?;
        self.reduce_prim(ReduceOp::Min, &axes, keepdim, self.dtype())
    }

    fn nonempty(&self, op: &'static str, axes: &Axes) -> Result<()> {
        if axes.iter().any(|&a| self.dims()[a] == 0)
            || (self.rank() > 0 && self.numel() == 0 && axes.is_empty())
        {
            return Err(arg_err(
                op,
                alloc::format!(
                    "cannot reduce an empty dimension of a tensor of shape {}",
                    self.shape()
                ),
            ));
        }
        Ok(())
    }

    /// The maximum of all elements (PyTorch's `max()` without a dim).
    pub fn try_max_all(&self) -> Result<Tensor> {
        self.try_amax(None, false)
    }

    /// The minimum of all elements.
    pub fn try_min_all(&self) -> Result<Tensor> {
        self.try_amin(None, false)
    }

    fn arg_reduce(&self, op: ReduceOp, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        let name = op.name();
        match dim {
            None => {
                let flat = self.try_reshape(&[-1])?;
                flat.nonempty(name, &Axes::from_slice(&[0]))?;
                let r = flat.reduce_prim(op, &Axes::from_slice(&[0]), false, DType::I64)?;
                if keepdim {
                    let ones: Vec<usize> = alloc::vec![1; self.rank()];
                    r.try_reshape_to(&ones)
                } else {
                    Ok(r)
                }
            }
            Some(d) => {
                let axes = self.axes(name, Some(&[d]))?;
                self.nonempty(name, &axes)?;
                self.reduce_prim(op, &axes, keepdim, DType::I64)
            }
        }
    }

    /// Index of the first maximum along `dim` (None = of the flattened tensor); NaN wins.
    pub fn try_argmax(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce(ReduceOp::ArgMax, dim, keepdim)
    }

    /// Index of the first minimum along `dim` (None = of the flattened tensor); NaN wins.
    pub fn try_argmin(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_reduce(ReduceOp::ArgMin, dim, keepdim)
    }

    /// `(values, indices)` of the maximum along `dim` (PyTorch's `max(dim)`).
    pub fn try_max_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let idx = self.arg_reduce(ReduceOp::ArgMax, Some(dim), true)?;
        self.values_at(idx, dim, keepdim)
    }

    /// `(values, indices)` of the minimum along `dim`.
    pub fn try_min_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let idx = self.arg_reduce(ReduceOp::ArgMin, Some(dim), true)?;
        self.values_at(idx, dim, keepdim)
    }

    fn values_at(&self, idx: Tensor, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        if self.rank() == 0 {
            return Ok((self.clone(), idx));
        }
        let vals = self.try_gather(dim, &idx)?;
        if keepdim {
            Ok((vals, idx))
        } else {
            Ok((vals.try_squeeze(Some(dim))?, idx.try_squeeze(Some(dim))?))
        }
    }

    /// `log(Σ exp(x))` over `dims`, stable for large values.
    pub fn try_logsumexp(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.try_to_dtype(DType::F32)?
        };
        let axes = x.axes("logsumexp", Some(dims))?;
        if x.numel() == 0 {
            let s = x.reduce_prim(ReduceOp::Sum, &axes, keepdim, x.dtype())?;
            return s.try_log();
        }
        let m = x.reduce_prim(ReduceOp::Max, &axes, true, x.dtype())?;
        // An infinite max would give inf - inf = NaN; shift by 0 there instead (as PyTorch).
        let finite = m.try_abs()?.try_lt_scalar(f64::INFINITY)?;
        let zero = m.try_zeros_like()?;
        let shift = Tensor::try_where(&finite, &m, &zero)?;
        let s = x
            .try_sub(&shift)?
            .try_exp()?
            .reduce_prim(ReduceOp::Sum, &axes, true, x.dtype())?
            .try_log()?
            .try_add(&shift)?;
        if keepdim {
            Ok(s)
        } else {
            s.try_squeeze_axes(&axes)
        }
    }

    /// Removes the given size-1 axes.
    pub(crate) fn try_squeeze_axes(&self, axes: &Axes) -> Result<Tensor> {
        let dims: Vec<usize> = (0..self.rank())
            .filter(|d| !axes.contains(d))
            .map(|d| self.dims()[d])
            .collect();
        self.try_reshape_to(&dims)
    }

    /// Vector norm over `dims` (None = all), as `torch.linalg.vector_norm`.
    pub fn try_norm(&self, ord: NormOrd, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(dtype_err(
                "norm",
                alloc::format!("input dtype must be floating point, got {}", self.dtype()),
            ));
        }
        let axes = self.axes("norm", dims)?;
        let a = self.try_abs()?;
        match ord {
            NormOrd::Inf => a.reduce_prim(ReduceOp::Max, &axes, keepdim, a.dtype()),
            NormOrd::NegInf => a.reduce_prim(ReduceOp::Min, &axes, keepdim, a.dtype()),
            NormOrd::P(0.0) => a.try_ne_scalar(0.0)?.try_to_dtype(a.dtype())?.reduce_prim(
                ReduceOp::Sum,
                &axes,
                keepdim,
                a.dtype(),
            ),
            NormOrd::P(1.0) => a.reduce_prim(ReduceOp::Sum, &axes, keepdim, a.dtype()),
            NormOrd::P(2.0) => a
                .try_mul(&a)?
                .reduce_prim(ReduceOp::Sum, &axes, keepdim, a.dtype())?
                .try_sqrt(),
            NormOrd::P(p) => a
                .try_pow_scalar(p)?
                .reduce_prim(ReduceOp::Sum, &axes, keepdim, a.dtype())?
                .try_pow_scalar(1.0 / p),
        }
    }

    /// Cumulative sum along `dim`.
    pub fn try_cumsum(&self, dim: isize) -> Result<Tensor> {
        self.scan(crate::ops::ScanOp::CumSum, dim)
    }

    /// Cumulative product along `dim`.
    pub fn try_cumprod(&self, dim: isize) -> Result<Tensor> {
        self.scan(crate::ops::ScanOp::CumProd, dim)
    }

    fn scan(&self, op: crate::ops::ScanOp, dim: isize) -> Result<Tensor> {
        let x = if self.dtype().is_float() || self.dtype() == DType::I64 {
            self.clone()
        } else {
            self.try_to_dtype(DType::I64)?
        };
        let name = match op {
            crate::ops::ScanOp::CumSum => "cumsum",
            crate::ops::ScanOp::CumProd => "cumprod",
        };
        let d = wrap_dim(dim, x.rank(), name)?;
        if x.rank() == 0 {
            return x.try_contiguous();
        }
        let out = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
        Tensor::exec(&PrimOp::Scan { op, dim: d }, &[&x], &out)?;
        Ok(match op {
            crate::ops::ScanOp::CumSum => {
                record(out, GradOp::CumSum { dim: d }, &[&x], |_| smallvec![])
            }
            crate::ops::ScanOp::CumProd => record(out, GradOp::CumProd { dim: d }, &[&x], |y| {
                smallvec![Saved::input(&x), Saved::output(y)]
            }),
        })
    }

    sugar! {
        /// Panicking form of [`Tensor::try_sum`].
        fn sum(&self, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_sum;
        /// Panicking form of [`Tensor::try_mean`].
        fn mean(&self, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_mean;
        /// Panicking form of [`Tensor::try_prod`].
        fn prod(&self, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_prod;
        /// Panicking form of [`Tensor::try_var`].
        fn var(&self, dims: Option<&[isize]>, correction: f64, keepdim: bool) -> Tensor = try_var;
        /// Panicking form of [`Tensor::try_std`].
        fn std(&self, dims: Option<&[isize]>, correction: f64, keepdim: bool) -> Tensor = try_std;
        /// Panicking form of [`Tensor::try_amax`].
        fn amax(&self, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_amax;
        /// Panicking form of [`Tensor::try_amin`].
        fn amin(&self, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_amin;
        /// Panicking form of [`Tensor::try_max_all`].
        fn max_all(&self) -> Tensor = try_max_all;
        /// Panicking form of [`Tensor::try_min_all`].
        fn min_all(&self) -> Tensor = try_min_all;
        /// Panicking form of [`Tensor::try_argmax`].
        fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Tensor = try_argmax;
        /// Panicking form of [`Tensor::try_argmin`].
        fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Tensor = try_argmin;
        /// Panicking form of [`Tensor::try_max_dim`].
        fn max_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) = try_max_dim;
        /// Panicking form of [`Tensor::try_min_dim`].
        fn min_dim(&self, dim: isize, keepdim: bool) -> (Tensor, Tensor) = try_min_dim;
        /// Panicking form of [`Tensor::try_logsumexp`].
        fn logsumexp(&self, dims: &[isize], keepdim: bool) -> Tensor = try_logsumexp;
        /// Panicking form of [`Tensor::try_norm`].
        fn norm(&self, ord: NormOrd, dims: Option<&[isize]>, keepdim: bool) -> Tensor = try_norm;
        /// Panicking form of [`Tensor::try_cumsum`].
        fn cumsum(&self, dim: isize) -> Tensor = try_cumsum;
        /// Panicking form of [`Tensor::try_cumprod`].
        fn cumprod(&self, dim: isize) -> Tensor = try_cumprod;
    }
}
