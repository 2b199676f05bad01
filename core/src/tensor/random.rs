//! Random tensors from the shared Philox stream: `manual_seed(s)` makes every driver draw
//! the same numbers.

use super::Tensor;
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, Result};
use crate::fmt::Float;
use crate::layout::Shape;
use crate::ops::{Distribution, PrimOp};

/// PyTorch's default seed, so an unseeded program is still reproducible.
const DEFAULT_SEED: u64 = 67_280_421_310_721;

#[cfg(feature = "std")]
std::thread_local! {
    static GEN: core::cell::Cell<(u64, u64)> = const { core::cell::Cell::new((DEFAULT_SEED, 0)) };
}

#[cfg(not(feature = "std"))]
static GEN: spin::Mutex<(u64, u64)> = spin::Mutex::new((DEFAULT_SEED, 0));

/// Seeds the default generator (thread-local under `std`) and resets its counter.
pub fn manual_seed(seed: u64) {
    #[cfg(feature = "std")]
    GEN.with(|g| g.set((seed, 0)));
    #[cfg(not(feature = "std"))]
    {
        *GEN.lock() = (seed, 0);
    }
}

/// Reserves `n` counters: returns (seed, first offset).
fn take(n: u64) -> (u64, u64) {
    #[cfg(feature = "std")]
    {
        GEN.with(|g| {
            let (s, o) = g.get();
            g.set((s, o.wrapping_add(n)));
            (s, o)
        })
    }
    #[cfg(not(feature = "std"))]
    {
        let mut g = GEN.lock();
        let (s, o) = *g;
        g.1 = o.wrapping_add(n);
        (s, o)
    }
}

impl Tensor {
    fn random(shape: Shape, dist: Distribution, dtype: DType, device: &Device) -> Result<Tensor> {
        let t = Tensor::empty(shape, dtype, device)?;
        let (seed, offset) = take(t.numel() as u64);
        Tensor::exec(&PrimOp::Random { dist, seed, offset }, &[], &t)?;
        Ok(t)
    }

    /// Uniform on `[0, 1)`.
    pub fn try_rand(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        if !dtype.is_float() {
            return Err(dtype_err(
                "rand",
                alloc::format!("needs a float dtype, got {dtype}"),
            ));
        }
        Tensor::random(
            shape.into(),
            Distribution::Uniform {
                low: 0.0,
                high: 1.0,
            },
            dtype,
            device,
        )
    }

    /// Uniform on `[low, high)`.
    pub fn try_uniform(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if low.partial_cmp(&high).is_none_or(|o| o.is_gt()) || !dtype.is_float() {
            return Err(arg_err(
                "uniform",
                alloc::format!(
                    "needs low <= high and a float dtype, got [{}, {}) and {dtype}",
                    Float(low),
                    Float(high)
                ),
            ));
        }
        Tensor::random(
            shape.into(),
            Distribution::Uniform { low, high },
            dtype,
            device,
        )
    }

    /// Standard normal.
    pub fn try_randn(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::try_normal(shape, 0.0, 1.0, dtype, device)
    }

    /// Normal with the given mean and standard deviation.
    pub fn try_normal(
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if !dtype.is_float() || std < 0.0 {
            return Err(arg_err(
                "normal",
                alloc::format!(
                    "needs std >= 0 and a float dtype, got {} and {dtype}",
                    Float(std)
                ),
            ));
        }
        Tensor::random(
            shape.into(),
            Distribution::Normal { mean, std },
            dtype,
            device,
        )
    }

    /// Integers uniform on `[low, high)`, int64.
    pub fn try_randint(
        low: i64,
        high: i64,
        shape: impl Into<Shape>,
        device: &Device,
    ) -> Result<Tensor> {
        if low >= high {
            return Err(arg_err(
                "randint",
                alloc::format!("low ({low}) must be less than high ({high})"),
            ));
        }
        let u = Tensor::random(
            shape.into(),
            Distribution::Uniform {
                low: 0.0,
                high: 1.0,
            },
            DType::F64,
            device,
        )?;
        u.try_mul_scalar((high - low) as f64)?
            .try_floor()?
            .try_add_scalar(low as f64)?
            .try_to_dtype(DType::I64)
    }

    /// 1 with probability `self[i]`, else 0 (PyTorch's `torch.bernoulli(p)`), in `self`'s dtype.
    pub fn try_bernoulli(&self) -> Result<Tensor> {
        if !self.dtype().is_float() {
            return Err(dtype_err(
                "bernoulli",
                alloc::format!("probabilities must be floating point, got {}", self.dtype()),
            ));
        }
        let u = Tensor::try_rand(self.shape().clone(), self.dtype(), self.device())?;
        u.try_lt(self)?.try_to_dtype(self.dtype())
    }

    /// 1 with probability `p` everywhere (a scalar probability).
    pub fn try_bernoulli_p(
        shape: impl Into<Shape>,
        p: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&p) {
            return Err(arg_err(
                "bernoulli",
                alloc::format!("p must be in [0, 1], got {}", Float(p)),
            ));
        }
        Tensor::random(shape.into(), Distribution::Bernoulli { p }, dtype, device)
    }

    /// Uniform `[0, 1)` like `self`.
    pub fn try_rand_like(&self) -> Result<Tensor> {
        Tensor::try_rand(self.shape().clone(), self.dtype(), self.device())
    }

    /// Standard normal like `self`.
    pub fn try_randn_like(&self) -> Result<Tensor> {
        Tensor::try_randn(self.shape().clone(), self.dtype(), self.device())
    }

    /// Panicking form of [`Tensor::try_rand`].
    #[track_caller]
    pub fn rand(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_rand(shape, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_randn`].
    #[track_caller]
    pub fn randn(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Tensor {
        Tensor::try_randn(shape, dtype, device).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_randint`].
    #[track_caller]
    pub fn randint(low: i64, high: i64, shape: impl Into<Shape>, device: &Device) -> Tensor {
        Tensor::try_randint(low, high, shape, device).unwrap_or_else(|e| panic!("{e}"))
    }
}
