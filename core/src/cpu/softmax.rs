//! Softmax and log-softmax over the last axis of a contiguous tensor (`FusedOp::Softmax`,
//! `FusedOp::LogSoftmax`): per row a max pass, an exp-and-sum pass and a scaling pass, with
//! no temporaries. The composed default makes five passes and three temporaries (the
//! `softmax:64x1000` bench row, and the log-softmax of every cross-entropy).

use super::walk::{par_range, Ptr};
use super::Arg;
use crate::dtype::DType;

/// The float types this kernel runs: libm's exp and log as the composed path's `Exp` and
/// `Log` kernels use, so the two differ only in summation order.
trait Soft: Copy + Send + Sync + PartialOrd + 'static {
    fn exp_row(row: &mut [Self]);
    fn ln(self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn is_nan(self) -> bool;
    const NEG_INF: Self;
}

macro_rules! soft {
    ($t:ty, $exp_row:path, $ln:path) => {
        impl Soft for $t {
            #[inline(always)]
            fn exp_row(row: &mut [Self]) {
                $exp_row(row)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline(always)]
            fn sub(self, o: Self) -> Self {
                self - o
            }
            #[inline(always)]
            fn div(self, o: Self) -> Self {
                self / o
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                self != self
            }
            const NEG_INF: Self = <$t>::NEG_INFINITY;
        }
    };
}
soft!(f32, exp_row_f32, crate::math::logf);
soft!(f64, exp_row_f64, crate::math::log);

/// `e^x` in place over a row: the npm package's simd128 lanes (as its `Exp` kernel), libm's
/// expf elsewhere.
#[inline(always)]
fn exp_row_f32(row: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    super::simd128::exp_row(row);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for o in row.iter_mut() {
        *o = crate::math::expf(*o);
    }
}

#[inline(always)]
fn exp_row_f64(row: &mut [f64]) {
    for o in row.iter_mut() {
        *o = crate::math::exp(*o);
    }
}

/// Runs the op when both views are contiguous, of one float dtype and shape (`None`
/// otherwise: core composes it).
pub(super) fn softmax(x: &Arg, y: &Arg, log: bool) -> Option<()> {
    let ok = x.layout.is_contiguous()
        && y.layout.is_contiguous()
        && x.layout.dims() == y.layout.dims()
        && x.dtype == y.dtype
        && x.layout.rank() > 0
        // An output in its input's buffer (never from core) takes the composed path.
        && x.ptr.0 != y.ptr.0;
    if !ok {
        return None;
    }
    match x.dtype {
        DType::F32 => run::<f32>(x, y, log),
        DType::F64 => run::<f64>(x, y, log),
        _ => return None,
    }
    Some(())
}

fn run<T: Soft>(x: &Arg, y: &Arg, log: bool) {
    let cols = x.layout.dims().last().copied().unwrap_or(1);
    let n = x.layout.numel();
    if cols == 0 || n == 0 {
        return;
    }
    let rows = n / cols;
    let xp = Ptr((x.ptr.0 as *mut T).wrapping_add(x.layout.offset));
    let yp = Ptr((y.ptr.0 as *mut T).wrapping_add(y.layout.offset));
    // exp and log cost ~20 element copies each: weigh the work accordingly.
    par_range(rows, n.saturating_mul(20), |r| {
        // SAFETY: both views are contiguous with `rows · cols` elements inside their
        // buffers (checked by the driver), in different buffers; row r of y belongs to this
        // task alone.
        let (xr, yr) = unsafe {
            (
                core::slice::from_raw_parts(xp.at(r * cols) as *const T, cols),
                core::slice::from_raw_parts_mut(yp.at(r * cols), cols),
            )
        };
        let mut m = T::NEG_INF;
        let mut nan = false;
        for &v in xr {
            m = if v > m { v } else { m };
            nan |= v.is_nan();
        }
        if nan {
            m = T::from_f64(f64::NAN);
        }
        // A row of -inf: the composed path's (-inf) - (-inf) = NaN, as PyTorch.
        // Shift, exp and sum as separate loops: exp alone in its loop is inlined and its
        // independent calls overlap (twice as fast here as one fused loop).
        for (o, &v) in yr.iter_mut().zip(xr) {
            *o = v.sub(m);
        }
        T::exp_row(yr);
        let mut acc = [0.0f64; 4];
        let mut chunks = yr.chunks_exact(4);
        for c in &mut chunks {
            for (a, &e) in acc.iter_mut().zip(c) {
                *a += e.to_f64();
            }
        }
        let tail: f64 = chunks.remainder().iter().map(|e| e.to_f64()).sum();
        let sum = (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail;
        let s = T::from_f64(sum);
        if log {
            let ls = s.ln();
            for (o, &v) in yr.iter_mut().zip(xr) {
                *o = v.sub(m).sub(ls);
            }
        } else {
            for o in yr.iter_mut() {
                *o = o.div(s);
            }
        }
    });
}
