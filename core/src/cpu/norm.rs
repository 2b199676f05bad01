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
        let rs = T::one().div(
            var.add(T::from_f64(eps))
                .map(crate::math::sqrtf, crate::math::sqrt),
        );
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

/// The views of one layer-norm gradient, resolved (checked by
/// `lantern::ops::layer_norm_grad_views`).
pub(super) struct LayerNormGradArgs<'a> {
    pub gy: &'a Arg<'a>,
    pub x: &'a Arg<'a>,
    pub mean: &'a Arg<'a>,
    pub rstd: &'a Arg<'a>,
    pub weight: Option<&'a Arg<'a>>,
    pub gx: &'a Arg<'a>,
    pub gw_gb: Option<(&'a Arg<'a>, &'a Arg<'a>)>,
    pub rows: usize,
    pub cols: usize,
}

/// Runs the gradient for f32 and f64 (`None` otherwise: core composes it): per row two
/// f64 sums and one write of gx (rows in parallel), then gw and gb by blocks of columns
/// (blocks in parallel, rows in order), so no two tasks write one element.
pub(super) fn layer_norm_grad(a: &LayerNormGradArgs) -> Option<()> {
    match a.x.dtype {
        DType::F32 => grad_run::<f32>(a),
        DType::F64 => grad_run::<f64>(a),
        _ => return None,
    }
    Some(())
}

/// Columns of gw and gb one task accumulates.
const COL_BLOCK: usize = 64;

fn grad_run<T: Flt>(a: &LayerNormGradArgs) {
    let (rows, cols) = (a.rows, a.cols);
    let at = |v: &Arg| Ptr((v.ptr.0 as *mut T).wrapping_add(v.layout.offset));
    let (gp, xp, mp, rp, gxp) = (at(a.gy), at(a.x), at(a.mean), at(a.rstd), at(a.gx));
    let wp = a.weight.map(at);
    // Every view is contiguous and inside its buffer (checked by the driver): gy, x and gx
    // hold `rows · cols` elements, mean and rstd `rows`, weight, gw and gb `cols`. The
    // outputs are buffers of their own; row r of gx belongs to one task of the first loop,
    // columns c0..c1 of gw and gb to one task of the second.
    let input = |p: Ptr<T>, off: usize, len: usize| {
        // SAFETY: `off + len` stays inside the input's elements (see above); read only.
        unsafe { core::slice::from_raw_parts(p.at(off) as *const T, len) }
    };
    let stat = |p: Ptr<T>, r: usize| {
        // SAFETY: r < rows, the statistics' length.
        unsafe { *p.at(r) }
    };
    par_range(rows, rows.saturating_mul(cols).saturating_mul(4), |r| {
        let (gr, xr) = (input(gp, r * cols, cols), input(xp, r * cols, cols));
        // SAFETY: row r of gx, this task's alone (see above).
        let gxr = unsafe { core::slice::from_raw_parts_mut(gxp.at(r * cols), cols) };
        let w = wp.map(|p| input(p, 0, cols));
        let (m, rs) = (stat(mp, r), stat(rp, r));
        // h = gy·w; sums of h and h·x̂ in f64.
        let (mut sh, mut shx) = ([0.0f64; 4], [0.0f64; 4]);
        for (i, (&g, &x)) in gr.iter().zip(xr).enumerate() {
            let h = match w {
                Some(w) => g.mul(w[i]),
                None => g,
            };
            let xhat = x.sub(m).mul(rs);
            sh[i & 3] += h.to_f64();
            shx[i & 3] += h.mul(xhat).to_f64();
        }
        let n = cols as f64;
        let mh = T::from_f64(((sh[0] + sh[1]) + (sh[2] + sh[3])) / n);
        let mhx = T::from_f64(((shx[0] + shx[1]) + (shx[2] + shx[3])) / n);
        for (i, ((o, &g), &x)) in gxr.iter_mut().zip(gr).zip(xr).enumerate() {
            let h = match w {
                Some(w) => g.mul(w[i]),
                None => g,
            };
            let xhat = x.sub(m).mul(rs);
            *o = h.sub(mh).sub(xhat.mul(mhx)).mul(rs);
        }
    });
    let Some((gw, gb)) = a.gw_gb else {
        return;
    };
    let (gwp, gbp) = (at(gw), at(gb));
    let blocks = cols.div_ceil(COL_BLOCK);
    par_range(blocks, rows.saturating_mul(cols).saturating_mul(2), |blk| {
        let c0 = blk * COL_BLOCK;
        let len = COL_BLOCK.min(cols - c0);
        let (mut aw, mut ab) = ([0.0f64; COL_BLOCK], [0.0f64; COL_BLOCK]);
        for r in 0..rows {
            let (gr, xr) = (input(gp, r * cols + c0, len), input(xp, r * cols + c0, len));
            let (m, rs) = (stat(mp, r), stat(rp, r));
            for (((w, b), &g), &x) in aw.iter_mut().zip(ab.iter_mut()).zip(gr).zip(xr) {
                *b += g.to_f64();
                *w += g.mul(x.sub(m).mul(rs)).to_f64();
            }
        }
        // SAFETY: columns c0..c0 + len of gw and gb, this task's alone (see above).
        let (gwr, gbr) = unsafe {
            (
                core::slice::from_raw_parts_mut(gwp.at(c0), len),
                core::slice::from_raw_parts_mut(gbp.at(c0), len),
            )
        };
        for (o, &v) in gwr.iter_mut().zip(&aw) {
            *o = T::from_f64(v);
        }
        for (o, &v) in gbr.iter_mut().zip(&ab) {
            *o = T::from_f64(v);
        }
    });
}
