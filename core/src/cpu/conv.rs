//! Convolution and max-pool kernels for the fused ops (issue 7).
//!
//! Core's composed convolution copies a 6-D strided window view (im2col), multiplies in a
//! batched matmul, and differentiates the view with KH·KW strided adds (col2im); its max
//! pool reduces a window view and differentiates through an equality mask. Here each
//! sample is unfolded into a small scratch matrix that stays in cache, multiplied by one
//! GEMM call with plain row/column strides, and folded back in the same task; the pool
//! records its argmax so its backward is one scattered add per output.

use super::matmul::Gemm;
use super::walk::{par_range, Ptr, PAR_THRESHOLD};
use super::Arg;
use crate::dtype::DType;
use crate::ops::{max_pool2d_dims, FusedOp};
use crate::tensor::Conv2dOpts;
use alloc::vec::Vec;

/// Sizes of one convolution, read from its views.
#[derive(Copy, Clone)]
struct Geom {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    oc: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    groups: usize,
    s: [usize; 2],
    p: [usize; 2],
    d: [usize; 2],
}

impl Geom {
    fn new(x: &[usize], wt: &[usize], y: &[usize], o: &Conv2dOpts) -> Option<Geom> {
        let cg = crate::ops::Conv2dGeom::new(x, wt, y, o)?;
        let g = Geom {
            n: cg.n,
            c: cg.c,
            h: cg.h,
            w: cg.w,
            oc: cg.oc,
            kh: cg.kh,
            kw: cg.kw,
            oh: cg.oh,
            ow: cg.ow,
            groups: o.groups,
            s: o.stride,
            p: o.padding,
            d: o.dilation,
        };
        // Scratch of every task (at most one per sample), column matrix and partial gw, in
        // bytes must fit a usize (32 bits on wasm32): else core's composed path reports it.
        let fits = (g.kk().checked_mul(g.ohw()))
            .and_then(|c| c.checked_add(g.oc.checked_mul(g.kk())?))
            .and_then(|e| e.checked_mul(g.n.max(1))?.checked_mul(8))
            .is_some();
        fits.then_some(g)
    }
    /// Multiply-adds of one product over the batch (saturating: only compared).
    fn work(&self) -> usize {
        [self.oc, self.kk(), self.ohw()]
            .iter()
            .fold(self.n, |a, &b| a.saturating_mul(b))
    }
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    fn ocg(&self) -> usize {
        self.oc / self.groups
    }
    /// Rows of one group's column matrix.
    fn kk(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    fn ohw(&self) -> usize {
        self.oh * self.ow
    }
    /// Scratch elements one task needs: one group's column matrix.
    fn cols(&self) -> usize {
        self.kk() * self.ohw()
    }
    /// Input positions `i·s - p + k·d` of output positions `0..o` that fall inside `0..len`,
    /// as the half-open output range (empty when none do).
    fn valid(o: usize, len: usize, s: usize, p: usize, kd: usize) -> (usize, usize) {
        // i·s + kd - p >= 0  and  i·s + kd - p < len
        let lo = p.saturating_sub(kd).div_ceil(s);
        let hi = if len + p > kd {
            (len + p - kd).div_ceil(s).min(o)
        } else {
            0
        };
        (lo.min(hi), hi)
    }
}

/// Unfolds channels `c0..c0 + cg` of one sample (`x`: `[C, H, W]`) into `cols`
/// (`[cg·KH·KW, OH·OW]`, row-major), zeros where a tap falls in the padding.
fn im2col<T: Gemm>(g: &Geom, x: &[T], c0: usize, cols: &mut [T]) {
    let (ohw, plane) = (g.ohw(), g.h * g.w);
    let mut row = 0;
    for c in c0..c0 + g.cg() {
        let xc = &x[c * plane..][..plane];
        for ki in 0..g.kh {
            let (ylo, yhi) = Geom::valid(g.oh, g.h, g.s[0], g.p[0], ki * g.d[0]);
            for kj in 0..g.kw {
                let (xlo, xhi) = Geom::valid(g.ow, g.w, g.s[1], g.p[1], kj * g.d[1]);
                let dst = &mut cols[row * ohw..][..ohw];
                row += 1;
                for oy in 0..g.oh {
                    let out = &mut dst[oy * g.ow..][..g.ow];
                    if oy < ylo || oy >= yhi || xlo >= xhi {
                        out.fill(T::zero());
                        continue;
                    }
                    let iy = oy * g.s[0] + ki * g.d[0] - g.p[0];
                    let src = &xc[iy * g.w..][..g.w];
                    out[..xlo].fill(T::zero());
                    out[xhi..].fill(T::zero());
                    let ix0 = xlo * g.s[1] + kj * g.d[1] - g.p[1];
                    if g.s[1] == 1 {
                        out[xlo..xhi].copy_from_slice(&src[ix0..ix0 + (xhi - xlo)]);
                    } else {
                        for (j, v) in out[xlo..xhi].iter_mut().enumerate() {
                            *v = src[ix0 + j * g.s[1]];
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds `cols` onto channels `c0..c0 + cg` of `x` (`[C, H, W]`).
fn col2im<T: Gemm>(g: &Geom, cols: &[T], c0: usize, x: &mut [T]) {
    let (ohw, plane) = (g.ohw(), g.h * g.w);
    let mut row = 0;
    for c in c0..c0 + g.cg() {
        let xc = &mut x[c * plane..][..plane];
        for ki in 0..g.kh {
            let (ylo, yhi) = Geom::valid(g.oh, g.h, g.s[0], g.p[0], ki * g.d[0]);
            for kj in 0..g.kw {
                let (xlo, xhi) = Geom::valid(g.ow, g.w, g.s[1], g.p[1], kj * g.d[1]);
                let src = &cols[row * ohw..][..ohw];
                row += 1;
                if xlo >= xhi {
                    continue;
                }
                let ix0 = xlo * g.s[1] + kj * g.d[1] - g.p[1];
                for oy in ylo..yhi {
                    let iy = oy * g.s[0] + ki * g.d[0] - g.p[0];
                    let dst = &mut xc[iy * g.w..][..g.w];
                    let from = &src[oy * g.ow + xlo..oy * g.ow + xhi];
                    if g.s[1] == 1 {
                        // Unit stride: a plain slice add the compiler vectorises.
                        let to = &mut dst[ix0..ix0 + from.len()];
                        for (t, &v) in to.iter_mut().zip(from) {
                            *t = t.add(v);
                        }
                    } else {
                        for (j, &v) in from.iter().enumerate() {
                            let t = &mut dst[ix0 + j * g.s[1]];
                            *t = t.add(v);
                        }
                    }
                }
            }
        }
    }
}

/// Splits `0..n` samples into at most one chunk per thread (fewer when the work is small,
/// one on a single thread: handing work to the pool costs more than it saves there).
fn chunks(n: usize, work: usize) -> usize {
    #[cfg(feature = "threads")]
    {
        let t = rayon::current_num_threads();
        if t > 1 && work >= PAR_THRESHOLD {
            return t.min(n).max(1);
        }
    }
    let _ = (n, work, PAR_THRESHOLD);
    1
}

/// The sample range of chunk `i` of `parts`.
fn chunk_range(n: usize, parts: usize, i: usize) -> core::ops::Range<usize> {
    let per = n.div_ceil(parts);
    (i * per).min(n)..((i + 1) * per).min(n)
}

/// A contiguous view as a slice.
///
/// # Safety
/// `a` is a contiguous view of `T` resolved by the driver (inside its buffer), and nothing
/// writes the elements while the slice lives.
unsafe fn slice<'a, T>(a: &Arg) -> &'a [T] {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        core::slice::from_raw_parts((a.ptr.0 as *const T).add(a.layout.offset), a.layout.numel())
    }
}

/// `len` elements at `off` of `p` as a mutable slice.
///
/// # Safety
/// The range lies inside a live buffer, and no other slice of it is in use.
unsafe fn part<'a, T>(p: Ptr<T>, off: usize, len: usize) -> &'a mut [T] {
    // SAFETY: forwarded from this function's contract.
    unsafe { core::slice::from_raw_parts_mut(p.at(off), len) }
}

/// `c = a @ b + beta·c` on row-major `c` (`m × n`) with `a`/`b` given by row and column
/// strides.
#[allow(clippy::too_many_arguments)]
fn gemm<T: Gemm>(
    (m, k, n): (usize, usize, usize),
    a: &[T],
    sa: (usize, usize),
    b: &[T],
    sb: (usize, usize),
    beta: T,
    c: &mut [T],
) {
    debug_assert!(c.len() >= m * n);
    debug_assert!(m == 0 || k == 0 || a.len() > (m - 1) * sa.0 + (k - 1) * sa.1);
    debug_assert!(k == 0 || n == 0 || b.len() > (k - 1) * sb.0 + (n - 1) * sb.1);
    let s = |x: usize| x as isize;
    // SAFETY: callers pass slices holding every element the strides reach (checked in debug
    // builds above); `c` is a distinct mutable slice, so it aliases neither `a` nor `b`.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            T::one(),
            a.as_ptr(),
            s(sa.0),
            s(sa.1),
            b.as_ptr(),
            s(sb.0),
            s(sb.1),
            beta,
            c.as_mut_ptr(),
            s(n),
            1,
        )
    }
}

/// Runs a fused op when this module has a kernel for it and its operands (contiguous f32
/// or f64; `None` otherwise: core then composes it). `scratch` lends a zeroed-or-not
/// buffer of the requested element count that outlives the call.
pub(super) fn fused(
    op: &FusedOp,
    ins: &[&Arg],
    outs: &[&Arg],
    scratch: &mut dyn FnMut(usize) -> crate::Result<Ptr<u8>>,
) -> Option<crate::Result<()>> {
    // Everything 4-D and contiguous but a convolution's bias (ins[2], `[OC]`).
    let ok = ins.iter().chain(outs).enumerate().all(|(i, a)| {
        let rank = if i == 2 && i < ins.len() { 1 } else { 4 };
        a.layout.is_contiguous() && a.layout.rank() == rank
    });
    if !ok {
        return None;
    }
    let dt = ins[0].dtype;
    if ins
        .iter()
        .chain(outs)
        .any(|a| a.dtype != dt && a.dtype != DType::I64)
    {
        return None;
    }
    match dt {
        DType::F32 => typed::<f32>(op, ins, outs, scratch),
        DType::F64 => typed::<f64>(op, ins, outs, scratch),
        _ => None,
    }
}

fn typed<T: Larger>(
    op: &FusedOp,
    ins: &[&Arg],
    outs: &[&Arg],
    scratch: &mut dyn FnMut(usize) -> crate::Result<Ptr<u8>>,
) -> Option<crate::Result<()>> {
    let dims = |a: &Arg| -> [usize; 4] {
        let d = a.layout.dims();
        [d[0], d[1], d[2], d[3]]
    };
    let same = |a: &Arg| a.dtype == ins[0].dtype;
    match op {
        FusedOp::Conv2d { opts } => {
            let (x, w, y) = (ins[0], ins.get(1)?, outs[0]);
            let bias = ins.get(2);
            if !same(w) || !same(y) || bias.is_some_and(|b| !same(b)) {
                return None;
            }
            let g = Geom::new(&dims(x), &dims(w), &dims(y), opts)?;
            if bias.is_some_and(|b| b.layout.numel() != g.oc) {
                return None;
            }
            Some(with_scratch::<T>(g, scratch, |cols| {
                // SAFETY: the driver resolved these contiguous views; y is a fresh output.
                let (xs, ws) = unsafe { (slice::<T>(x), slice::<T>(w)) };
                // SAFETY: as above.
                let bs = bias.map(|b| unsafe { slice::<T>(b) });
                forward(&g, xs, ws, bs, out_ptr::<T>(y), cols)
            }))
        }
        FusedOp::Conv2dInputGrad { opts } => {
            let (gy, w, gx) = (ins[0], ins.get(1)?, outs[0]);
            if !same(w) || !same(gx) {
                return None;
            }
            let g = Geom::new(&dims(gx), &dims(w), &dims(gy), opts)?;
            Some(with_scratch::<T>(g, scratch, |cols| {
                // SAFETY: as above; gx is a fresh output.
                let (gys, ws) = unsafe { (slice::<T>(gy), slice::<T>(w)) };
                input_grad(&g, gys, ws, out_ptr::<T>(gx), cols)
            }))
        }
        FusedOp::Conv2dWeightGrad { opts } => {
            let (x, gy, gw) = (ins[0], ins.get(1)?, outs[0]);
            if !same(gy) || !same(gw) {
                return None;
            }
            let g = Geom::new(&dims(x), &dims(gw), &dims(gy), opts)?;
            // Per task: one column matrix and a partial gw.
            let each = g.cols() + g.oc * g.kk();
            let parts = chunks(g.n, g.work());
            let ptr = match scratch(each * parts * core::mem::size_of::<T>()) {
                Ok(p) => Ptr(p.0 as *mut T),
                Err(e) => return Some(Err(e)),
            };
            // SAFETY: as above; gw is a fresh output.
            let (xs, gys) = unsafe { (slice::<T>(x), slice::<T>(gy)) };
            weight_grad(&g, xs, gys, out_ptr::<T>(gw), ptr, each, parts);
            Some(Ok(()))
        }
        FusedOp::MaxPool2d {
            kernel,
            stride,
            padding,
            dilation,
        } => {
            let (x, y, idx) = (ins[0], outs[0], outs.get(1)?);
            let window = Some([kernel, stride, dilation]);
            if !same(y)
                || idx.dtype != DType::I64
                || !max_pool2d_dims(x.layout.dims(), y.layout.dims(), idx.layout.dims(), window)
            {
                return None;
            }
            let pool = Pool {
                x: dims(x),
                y: dims(y),
                k: *kernel,
                s: *stride,
                p: *padding,
                d: *dilation,
            };
            // SAFETY: the driver resolved x; y and idx are fresh outputs.
            let xs = unsafe { slice::<T>(x) };
            max_pool(&pool, xs, out_ptr::<T>(y), out_ptr::<i64>(idx));
            Some(Ok(()))
        }
        FusedOp::MaxPool2dGrad => {
            let (gy, idx, gx) = (ins[0], ins.get(1)?, outs[0]);
            if idx.dtype != DType::I64
                || !same(gx)
                || !max_pool2d_dims(gx.layout.dims(), gy.layout.dims(), idx.layout.dims(), None)
            {
                return None;
            }
            // SAFETY: the driver resolved gy and idx; gx is a fresh output.
            let (gys, is) = unsafe { (slice::<T>(gy), slice::<i64>(idx)) };
            max_pool_grad(dims(gy), dims(gx), gys, is, out_ptr::<T>(gx));
            Some(Ok(()))
        }
        _ => None,
    }
}

fn out_ptr<T>(a: &Arg) -> Ptr<T> {
    Ptr((a.ptr.0 as *mut T).wrapping_add(a.layout.offset))
}

/// Lends one column matrix per task to `f` (tasks index it by chunk).
fn with_scratch<T: Gemm>(
    g: Geom,
    scratch: &mut dyn FnMut(usize) -> crate::Result<Ptr<u8>>,
    f: impl FnOnce(ScratchCols<T>),
) -> crate::Result<()> {
    let parts = chunks(g.n, g.work());
    let p = scratch(g.cols() * parts * core::mem::size_of::<T>())?;
    f(ScratchCols {
        ptr: Ptr(p.0 as *mut T),
        each: g.cols(),
        parts,
    });
    Ok(())
}

/// `parts` disjoint scratch matrices of `each` elements.
#[derive(Copy, Clone)]
struct ScratchCols<T> {
    ptr: Ptr<T>,
    each: usize,
    parts: usize,
}

impl<T> ScratchCols<T> {
    /// Runs `f(samples, cols)` for every chunk of samples, in parallel, each chunk with its
    /// own scratch matrix.
    fn run(self, n: usize, f: impl Fn(core::ops::Range<usize>, &mut [T]) + Sync + Send)
    where
        T: Copy + Send + Sync,
    {
        let parts = self.parts;
        par_range(parts, if parts > 1 { usize::MAX } else { 0 }, |i| {
            // SAFETY: chunk i owns scratch elements i·each..(i+1)·each, inside the buffer
            // the driver lent for parts·each elements.
            let cols = unsafe { part(self.ptr, i * self.each, self.each) };
            f(chunk_range(n, parts, i), cols)
        });
    }
}

fn forward<T: Gemm>(
    g: &Geom,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: Ptr<T>,
    cols: ScratchCols<T>,
) {
    let (chw, kk, ohw, ocg) = (g.c * g.h * g.w, g.kk(), g.ohw(), g.ocg());
    cols.run(g.n, |samples, cols| {
        for s in samples {
            let xs = &x[s * chw..][..chw];
            // SAFETY: sample s's output rows belong to this task alone.
            let ys = unsafe { part(y, s * g.oc * ohw, g.oc * ohw) };
            // The bias is the GEMM's initial accumulator (beta = 1): no extra pass over y.
            if let Some(b) = bias {
                for (row, &v) in ys.chunks_exact_mut(ohw).zip(b) {
                    row.fill(v);
                }
            }
            let beta = if bias.is_some() { T::one() } else { T::zero() };
            for gi in 0..g.groups {
                im2col(g, xs, gi * g.cg(), cols);
                gemm(
                    (ocg, kk, ohw),
                    &w[gi * ocg * kk..][..ocg * kk],
                    (kk, 1),
                    cols,
                    (ohw, 1),
                    beta,
                    &mut ys[gi * ocg * ohw..][..ocg * ohw],
                );
            }
        }
    });
}

fn input_grad<T: Gemm>(g: &Geom, gy: &[T], w: &[T], gx: Ptr<T>, cols: ScratchCols<T>) {
    let (chw, kk, ohw, ocg) = (g.c * g.h * g.w, g.kk(), g.ohw(), g.ocg());
    cols.run(g.n, |samples, cols| {
        for s in samples {
            // SAFETY: sample s's input gradient belongs to this task alone.
            let gxs = unsafe { part(gx, s * chw, chw) };
            gxs.fill(T::zero());
            let gys = &gy[s * g.oc * ohw..][..g.oc * ohw];
            for gi in 0..g.groups {
                // cols = w_gᵀ @ gy_g: w_g is [ocg, kk] row-major, read transposed.
                gemm(
                    (kk, ocg, ohw),
                    &w[gi * ocg * kk..][..ocg * kk],
                    (1, kk),
                    &gys[gi * ocg * ohw..][..ocg * ohw],
                    (ohw, 1),
                    T::zero(),
                    cols,
                );
                col2im(g, cols, gi * g.cg(), gxs);
            }
        }
    });
}

/// `gw = Σ_samples gy_s @ cols_sᵀ`: each task sums its samples into its own partial, then
/// the partials are added in chunk order (deterministic for a given thread count).
fn weight_grad<T: Gemm>(
    g: &Geom,
    x: &[T],
    gy: &[T],
    gw: Ptr<T>,
    scratch: Ptr<T>,
    each: usize,
    parts: usize,
) {
    let (chw, kk, ohw, ocg) = (g.c * g.h * g.w, g.kk(), g.ohw(), g.ocg());
    let wlen = g.oc * kk;
    par_range(parts, if parts > 1 { usize::MAX } else { 0 }, |i| {
        // SAFETY: chunk i owns scratch elements i·each..(i+1)·each (a column matrix, then
        // its partial gw), inside the buffer lent for parts·each elements.
        let buf = unsafe { part(scratch, i * each, each) };
        let (cols, acc) = buf.split_at_mut(g.cols());
        acc.fill(T::zero());
        for s in chunk_range(g.n, parts, i) {
            let xs = &x[s * chw..][..chw];
            let gys = &gy[s * g.oc * ohw..][..g.oc * ohw];
            for gi in 0..g.groups {
                im2col(g, xs, gi * g.cg(), cols);
                gemm(
                    (ocg, ohw, kk),
                    &gys[gi * ocg * ohw..][..ocg * ohw],
                    (ohw, 1),
                    cols,
                    (1, ohw),
                    T::one(),
                    &mut acc[gi * ocg * kk..][..ocg * kk],
                );
            }
        }
    });
    // SAFETY: gw is a fresh output of oc·kk elements; the tasks above have finished.
    let out = unsafe { part(gw, 0, wlen) };
    // SAFETY: partial i lies at i·each + cols() in the scratch buffer, wlen elements long.
    out.copy_from_slice(unsafe { part(scratch, g.cols(), wlen) });
    for i in 1..parts {
        // SAFETY: as above.
        let acc = unsafe { part(scratch, i * each + g.cols(), wlen) };
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = o.add(a);
        }
    }
}

/// Sizes of one max pool.
struct Pool {
    x: [usize; 4],
    y: [usize; 4],
    k: [usize; 2],
    s: [usize; 2],
    p: [usize; 2],
    d: [usize; 2],
}

/// The larger of two non-NaN values, as one branchless instruction.
trait Larger: Gemm {
    fn larger(self, o: Self) -> Self;
}
impl Larger for f32 {
    #[inline(always)]
    fn larger(self, o: f32) -> f32 {
        self.max(o)
    }
}
impl Larger for f64 {
    #[inline(always)]
    fn larger(self, o: f64) -> f64 {
        self.max(o)
    }
}

fn max_pool<T: Larger>(pl: &Pool, x: &[T], y: Ptr<T>, idx: Ptr<i64>) {
    let [n, c, h, w] = pl.x;
    let (oh, ow) = (pl.y[2], pl.y[3]);
    let (plane, oplane) = (h * w, oh * ow);
    let work = (n * c * oplane).saturating_mul(pl.k[0].saturating_mul(pl.k[1]));
    // The taps inside the input, per output row and column, computed once (two divisions
    // per output would cost more than its compares).
    let ytaps: Vec<(usize, usize)> = (0..oh)
        .map(|oy| taps(oy, h, pl.s[0], pl.p[0], pl.d[0], pl.k[0]))
        .collect();
    let xtaps: Vec<(usize, usize)> = (0..ow)
        .map(|ox| taps(ox, w, pl.s[1], pl.p[1], pl.d[1], pl.k[1]))
        .collect();
    // 2×2 windows that never touch the padding (MaxPool2d(2)'s case) take a loop with
    // the taps unrolled.
    let pair = pl.k == [2, 2]
        && pl.d == [1, 1]
        && pl.p == [0, 0]
        && (oh > 0 && (oh - 1) * pl.s[0] + 2 <= h)
        && (ow > 0 && (ow - 1) * pl.s[1] + 2 <= w);
    par_range(n * c, work, |pi| {
        let xp = &x[pi * plane..][..plane];
        // SAFETY: plane pi of y and idx belongs to this task alone.
        let (yp, ip) = unsafe { (part(y, pi * oplane, oplane), part(idx, pi * oplane, oplane)) };
        if pair {
            return max_pool_2x2(xp, w, pl.s, yp, ip, ow);
        }
        for (oy, &(ylo, yhi)) in ytaps.iter().enumerate() {
            for (ox, &(xlo, xhi)) in xtaps.iter().enumerate() {
                let at = |ki: usize, kj: usize| {
                    (oy * pl.s[0] + ki * pl.d[0] - pl.p[0]) * w
                        + (ox * pl.s[1] + kj * pl.d[1] - pl.p[1])
                };
                // PyTorch's rule: start at the first real tap at -inf, take a value that is
                // greater or NaN. Selects, not branches: on real data the comparison is a
                // coin flip, and mispredictions cost more than the loads.
                let first = if ylo < yhi && xlo < xhi {
                    at(ylo, xlo)
                } else {
                    0
                };
                let (mut best, mut bi, mut nan) = (T::lowest(), first, false);
                for ki in ylo..yhi {
                    for kj in xlo..xhi {
                        let i = at(ki, kj);
                        let v = xp[i];
                        bi = if v > best { i } else { bi };
                        best = best.larger(v);
                        nan |= v.is_nan();
                    }
                }
                if nan {
                    (best, bi) = (T::lowest(), first);
                    for ki in ylo..yhi {
                        for kj in xlo..xhi {
                            let (i, v) = (at(ki, kj), xp[at(ki, kj)]);
                            if v > best || v.is_nan() {
                                (best, bi) = (v, i);
                            }
                        }
                    }
                }
                yp[oy * ow + ox] = best;
                ip[oy * ow + ox] = bi as i64;
            }
        }
    });
}

/// One plane of a 2×2 max pool whose windows all lie inside the input (`w` wide).
fn max_pool_2x2<T: Larger>(
    xp: &[T],
    w: usize,
    s: [usize; 2],
    yp: &mut [T],
    ip: &mut [i64],
    ow: usize,
) {
    for (oy, (yr, ir)) in yp
        .chunks_exact_mut(ow)
        .zip(ip.chunks_exact_mut(ow))
        .enumerate()
    {
        let top = oy * s[0] * w;
        let (r0, r1) = (&xp[top..top + w], &xp[top + w..top + 2 * w]);
        for (ox, (yv, iv)) in yr.iter_mut().zip(ir.iter_mut()).enumerate() {
            let j = ox * s[1];
            let v = [r0[j], r0[j + 1], r1[j], r1[j + 1]];
            let at = [top + j, top + j + 1, top + w + j, top + w + j + 1];
            // Branch-free first maximum: the max, then the first tap equal to it (a bit
            // mask and a trailing-zero count); on real data every comparison is a coin
            // flip a branch would mispredict. NaN: the general loop's rule (the last wins).
            let m = v[0].larger(v[1]).larger(v[2].larger(v[3]));
            let (eq, nan) = (bits(&v, |x| x == m), bits(&v, |x| x.is_nan()));
            let k = if nan != 0 {
                (31 - nan.leading_zeros()) as usize
            } else {
                eq.trailing_zeros() as usize & 3
            };
            *yv = v[k];
            *iv = at[k] as i64;
        }
    }
}

/// Bit i set where `f(v[i])`.
#[inline(always)]
fn bits<T: Copy>(v: &[T; 4], f: impl Fn(T) -> bool) -> u32 {
    (f(v[0]) as u32) | (f(v[1]) as u32) << 1 | (f(v[2]) as u32) << 2 | (f(v[3]) as u32) << 3
}

/// The window taps `lo..hi` of output position `o` that fall inside `0..len`.
fn taps(o: usize, len: usize, s: usize, p: usize, d: usize, k: usize) -> (usize, usize) {
    let start = o * s;
    // tap t is at start + t·d - p: inside when p <= start + t·d < len + p.
    let lo = p.saturating_sub(start).div_ceil(d);
    let hi = if len + p > start {
        (len + p - start).div_ceil(d).min(k)
    } else {
        0
    };
    (lo.min(hi), hi)
}

fn max_pool_grad<T: Gemm>(gy: [usize; 4], gx: [usize; 4], g: &[T], idx: &[i64], out: Ptr<T>) {
    let (oplane, plane) = (gy[2] * gy[3], gx[2] * gx[3]);
    let work = (gy[0] * gy[1]).saturating_mul(oplane.saturating_add(plane));
    par_range(gy[0] * gy[1], work, |pi| {
        // SAFETY: plane pi of gx belongs to this task alone.
        let dst = unsafe { part(out, pi * plane, plane) };
        dst.fill(T::zero());
        let (gp, ip) = (&g[pi * oplane..][..oplane], &idx[pi * oplane..][..oplane]);
        for (&v, &i) in gp.iter().zip(ip) {
            // Indices come from the forward kernel; one out of range is skipped, not trusted.
            if let Some(t) = usize::try_from(i).ok().and_then(|i| dst.get_mut(i)) {
                *t = t.add(v);
            }
        }
    });
}
