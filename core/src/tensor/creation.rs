//! Creating tensors: from host data, constants, ranges, identity.

use super::{sugar, Tensor};
use crate::driver::Device;
use crate::dtype::{DType, Element, Scalar};
use crate::error::{arg_err, shape_err, Result};
use crate::fmt::Float;
use crate::layout::Shape;
use crate::ops::PrimOp;
use alloc::vec::Vec;

impl Tensor {
    /// A tensor from host elements in row-major order (PyTorch's `torch.tensor(data).reshape(shape)`).
    pub fn try_from_slice<T: Element>(
        data: &[T],
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let n = shape.try_numel("from_slice")?;
        if n != data.len() {
            return Err(shape_err(
                "from_slice",
                alloc::format!("{n} elements for shape {shape}"),
                alloc::format!("{} elements", data.len()),
            ));
        }
        let t = Tensor::empty(shape, T::DTYPE, device)?;
        let mut bytes: Vec<u8> = Vec::new();
        bytes
            .try_reserve_exact(n * T::DTYPE.size())
            .map_err(|_| arg_err("from_slice", "host allocation failed"))?;
        for &x in data {
            x.write_le_bytes(&mut bytes);
        }
        device.driver().write(t.storage().buf, 0, &bytes)?;
        Ok(t)
    }

    /// Panicking form of [`Tensor::try_from_slice`].
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>, device: &Device) -> Tensor {
        Tensor::try_from_slice(data, shape, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A 1-D tensor on the CPU from host elements.
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        Tensor::from_slice(&data, shape, &Device::cpu())
    }

    /// A 0-dim tensor holding one value.
    pub fn try_scalar(v: impl Into<Scalar>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::try_full(Shape::new(&[]), v, dtype, device)
    }

    /// A tensor filled with `value` (PyTorch's `torch.full`).
    pub fn try_full(
        shape: impl Into<Shape>,
        value: impl Into<Scalar>,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let t = Tensor::empty(shape.into(), dtype, device)?;
        Tensor::exec(&PrimOp::Fill(value.into()), &[], &t)?;
        Ok(t)
    }

    /// Zeros.
    pub fn try_zeros(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::try_full(shape, Scalar::Int(0), dtype, device)
    }

    /// Ones.
    pub fn try_ones(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::try_full(shape, Scalar::Int(1), dtype, device)
    }

    /// Panicking form of [`Tensor::try_zeros`].
    #[track_caller]
    pub fn zeros(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_zeros(shape, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_ones`].
    #[track_caller]
    pub fn ones(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_ones(shape, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_full`].
    #[track_caller]
    pub fn full(
        shape: impl Into<Shape>,
        value: impl Into<Scalar>,
        dtype: DType,
        device: &Device,
    ) -> Tensor {
        Tensor::try_full(shape, value, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Same shape, dtype and device, filled with `value`.
    pub fn try_full_like(&self, value: impl Into<Scalar>) -> Result<Tensor> {
        Tensor::try_full(self.shape().clone(), value, self.dtype(), self.device())
    }

    /// Zeros like `self`.
    pub fn try_zeros_like(&self) -> Result<Tensor> {
        self.try_full_like(Scalar::Int(0))
    }

    /// Ones like `self`.
    pub fn try_ones_like(&self) -> Result<Tensor> {
        self.try_full_like(Scalar::Int(1))
    }

    /// `[start, end)` in steps of `step` (PyTorch's `torch.arange`); ints unless a bound is fractional
    /// is the caller's choice through `dtype`.
    pub fn try_arange(
        start: f64,
        end: f64,
        step: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(arg_err(
                "arange",
                alloc::format!(
                    "start {}, end {} and step {} must be finite with step != 0",
                    Float(start),
                    Float(end),
                    Float(step)
                ),
            ));
        }
        if (end - start) * step < 0.0 {
            return Err(arg_err(
                "arange",
                alloc::format!(
                    "upper bound and step sign are inconsistent: start {}, end {}, step {}",
                    Float(start),
                    Float(end),
                    Float(step)
                ),
            ));
        }
        let n = crate::math::ceil((end - start) / step).max(0.0) as usize;
        let t = Tensor::empty(Shape::new(&[n]), dtype, device)?;
        Tensor::exec(&PrimOp::Iota { start, step }, &[], &t)?;
        Ok(t)
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive (PyTorch's `torch.linspace`).
    pub fn try_linspace(
        start: f64,
        end: f64,
        steps: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        let step = if steps > 1 {
            (end - start) / (steps - 1) as f64
        } else {
            0.0
        };
        // PyTorch fills the second half from the end so that `end` is exact; a single
        // step is `start`, not `end` (PyTorch special-cases steps == 1 the same way).
        let half = if steps == 1 { 1 } else { steps / 2 };
        let t = Tensor::empty(Shape::new(&[steps]), dtype, device)?;
        Tensor::exec(
            &PrimOp::Iota { start, step },
            &[],
            &t.try_narrow(0, 0, half)?,
        )?;
        let back = steps - half;
        let tail = t.try_narrow(0, half, back)?;
        Tensor::exec(
            &PrimOp::Iota {
                start: end - step * (back as f64 - 1.0),
                step,
            },
            &[],
            &tail,
        )?;
        Ok(t)
    }

    /// An `n × m` identity matrix.
    pub fn try_eye(n: usize, m: usize, dtype: DType, device: &Device) -> Result<Tensor> {
        let t = Tensor::try_zeros([n, m], dtype, device)?;
        let k = n.min(m);
        // The diagonal is a strided view with stride m + 1.
        let diag = t.raw_view(crate::layout::Layout {
            shape: Shape::new(&[k]),
            strides: smallvec::smallvec![m + 1],
            offset: 0,
        });
        Tensor::exec(&PrimOp::Fill(Scalar::Int(1)), &[], &diag)?;
        Ok(t)
    }

    sugar! {
        /// Panicking form of [`Tensor::try_full_like`].
        fn full_like(&self, value: Scalar) -> Tensor = try_full_like;
        /// Panicking form of [`Tensor::try_zeros_like`].
        fn zeros_like(&self) -> Tensor = try_zeros_like;
        /// Panicking form of [`Tensor::try_ones_like`].
        fn ones_like(&self) -> Tensor = try_ones_like;
    }

    /// Panicking form of [`Tensor::try_arange`].
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_arange(start, end, step, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_linspace`].
    #[track_caller]
    pub fn linspace(start: f64, end: f64, steps: usize, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_linspace(start, end, steps, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_eye`].
    #[track_caller]
    pub fn eye(n: usize, m: usize, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_eye(n, m, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }
}
