//! Layer norm over the rows of a contiguous tensor (`FusedOp::LayerNorm`): per row the mean
//! and the centred sum of squares accumulated in f64 (two reads of a row that sits in cache:
//! the centred form keeps the variance exact where `E[x²] - E[x]²` cancels), then one
//! pass writing `y`. The composed default makes about nine passes and five temporaries.

use super::elem::Flt;
use super::walk::{par_range, Ptr};
use super::Arg;
use crate::dtype::DType;

/// The views of one layer norm, resolved (shapes and dtypes checked by
/// `lantern::ops::layer_norm_views`).
pub(super) struct LayerNormArgs<'a> {
    pub x: &'a Arg<'a>,
    pub weight: Option<&'a Arg<'a>>,
    pub bias: Option<&'a Arg<'a>>,
    pub y: &'a Arg<'a>,
    pub mean: &'a Arg<'a>,
    pub rstd: &'a Arg<'a>,
    pub rows: usize,
    pub cols: usize,
    pub eps: f64,
}

/// Runs the op for f32 and f64 (`None` otherwise: core composes it).
pub(super) fn layer_norm(a: &LayerNormArgs) -> Option<()> {
    match a.x.dtype {
        DType::F32 => run::<f32>(a),
        DType::F64 => run::<f64>(a),
        _ => return None,
    }
    Some(())
}

/// A 4-way f64 sum of `f(v)` over `xs` (independent accumulators vectorise).
#[inline(always)]
fn sum4<T: Flt>(xs: &[T], f: impl Fn(T) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = xs.chunks_exact(4);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&v| f(v)).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn run<T: Flt>(a: &LayerNormArgs) {
    let (rows, cols) = (a.rows, a.cols);
    let at = |v: &Arg| Ptr((v.ptr.0 as *mut T).wrapping_add(v.layout.offset));
    let (xp, yp, mp, rp) = (at(a.x), at(a.y), at(a.mean), at(a.rstd));
    let wp = a.weight.map(at);
    let bp = a.bias.map(at);
    let eps = a.eps;
    par_range(rows, rows.saturating_mul(cols).saturating_mul(4), |r| {
        // SAFETY: every view is contiguous and inside its buffer (checked by the driver): x
        // and y hold `rows · cols` elements, weight and bias `cols`, mean and rstd `rows`.
        // y, mean and rstd are distinct buffers from x and each other; row r of y and element
        // r of mean and rstd belong to this task alone.
        let (xr, yr) = unsafe {
            (
                core::slice::from_raw_parts(xp.at(r * cols) as *const T, cols),
                core::slice::from_raw_parts_mut(yp.at(r * cols), cols),
            )
        };
        let n = cols as f64;
        let mean = sum4(xr, |v| v.to_f64()) / n;
        let var = sum4(xr, |v| {
            let d = v.to_f64() - mean;
            d * d
        }) / n;
        // Rounded as the composed path rounds: mean and var in T, then 1 / sqrt(var + eps).
        let (m, var) = (T::from_f64(mean), T::from_f64(var));
        let rs = T::one().div(var.add(T::from_f64(eps)).map(libm::sqrtf, libm::sqrt));
        // SAFETY: as above.
        unsafe {
            *mp.at(r) = m;
            *rp.at(r) = rs;
        }
        let row = |p: Ptr<T>| {
            // SAFETY: weight and bias hold `cols` elements each, read only (checked above).
            unsafe { core::slice::from_raw_parts(p.0 as *const T, cols) }
        };
        let (w, b) = (wp.map(row), bp.map(row));
        match (w, b) {
            (Some(w), Some(b)) => {
                for (((o, &v), &wv), &bv) in yr.iter_mut().zip(xr).zip(w).zip(b) {
                    *o = v.sub(m).mul(rs).mul(wv).add(bv);
                }
            }
            (Some(w), None) => {
                for ((o, &v), &wv) in yr.iter_mut().zip(xr).zip(w) {
                    *o = v.sub(m).mul(rs).mul(wv);
                }
            }
            _ => {
                for (o, &v) in yr.iter_mut().zip(xr) {
                    *o = v.sub(m).mul(rs);
                }
            }
        }
    });
}
