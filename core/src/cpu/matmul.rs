//! Batched strided matmul.
//!
//! - f32/f64: `matrixmultiply` (SIMD under no_std too: picked at run time with `std`, from
//!   the compile-time target features without); f32 on x86-64 CPUs with AVX2 and FMA (and
//!   `std` to detect them) goes to our 6×16 kernel in `sgemm_avx2` instead. With `threads`, a large product is split
//!   into row (or column) blocks, one single-threaded GEMM call per rayon task; a batch of
//!   small products runs one matrix per task. Tiny products (m·n·k ≤ 512) skip the packing
//!   GEMM for a direct loop.
//! - f16/bf16: converted to f32 scratch (bounded, in chunks of batches) and sent through the
//!   f32 path; tiny products, and a scratch allocation that fails, use the portable kernel.
//! - ints and bool: the portable row kernel (wrapping, accumulating in i64).

use super::elem::Num;
use super::reduce::Accum;
use super::walk::{offset_of, par_range, Ptr};
use super::Arg;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::Dims;
use alloc::vec::Vec;
use half::{bf16, f16};

/// Products with at most this many multiply-adds (8³) take the direct loop: packing costs
/// more than it saves there.
const TINY_MNK: usize = 512;

/// Products (summed over the batch) with fewer multiply-adds than this (about 101³) stay on
/// the calling thread. Measured with 2 threads on idle cores: splitting loses at 64³, breaks
/// even near 96³ and wins from 128³ (1.6×); on a loaded machine the break-even moves up.
#[cfg(feature = "threads")]
const PAR_MNK: usize = 1 << 20;

/// Row/column blocks of a split product are multiples of this (the GEMM micro-kernels'
/// MR and NR divide it), so no block ends in a partial micro-tile it need not have.
#[cfg(feature = "threads")]
const SPLIT_ALIGN: usize = 16;

/// f16/bf16 products convert at most this many elements (a, b and y, all batches of one
/// chunk) to f32 at a time: 8M elements, 32 MiB.
const SCRATCH_ELEMS: usize = 8 << 20;

struct Dims3 {
    m: usize,
    n: usize,
    k: usize,
    batch: Dims,
}

/// `y = alpha * a @ b + beta * y` over broadcast batch dims (`beta == 0` ignores y's old
/// contents, NaN included).
pub fn matmul(a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) -> Result<()> {
    let r = y.layout.rank();
    let d = Dims3 {
        m: y.layout.shape.0[r - 2],
        n: y.layout.shape.0[r - 1],
        k: a.layout.shape.0[r - 1],
        batch: y.layout.shape.0[..r - 2].iter().copied().collect(),
    };
    match a.dtype {
        DType::F32 => fast::<f32>(&d, a, b, y, alpha, beta),
        DType::F64 => fast::<f64>(&d, a, b, y, alpha, beta),
        DType::F16 => via_f32::<f16>(&d, a, b, y, alpha, beta),
        DType::BF16 => via_f32::<bf16>(&d, a, b, y, alpha, beta),
        DType::I64 => portable::<i64>(&d, a, b, y, alpha, beta),
        DType::I32 => portable::<i32>(&d, a, b, y, alpha, beta),
        DType::I8 => portable::<i8>(&d, a, b, y, alpha, beta),
        DType::U8 => portable::<u8>(&d, a, b, y, alpha, beta),
        DType::Bool => portable::<bool>(&d, a, b, y, alpha, beta),
    }
    Ok(())
}

/// Per-batch element offsets of a, b and y.
fn batch_offsets(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, i: usize) -> (usize, usize, usize) {
    let nb = d.batch.len();
    (
        a.layout.offset + offset_of(i, &d.batch, &a.layout.strides[..nb]),
        b.layout.offset + offset_of(i, &d.batch, &b.layout.strides[..nb]),
        y.layout.offset + offset_of(i, &d.batch, &y.layout.strides[..nb]),
    )
}

fn strides2(x: &Arg) -> (usize, usize) {
    let r = x.layout.rank();
    (x.layout.strides[r - 2], x.layout.strides[r - 1])
}

/// The element types `matrixmultiply` multiplies.
pub(super) trait Gemm: Num + Accum<A = Self> {
    /// `c = alpha * a @ b + beta * c` on one strided matrix (c is not read when beta is 0).
    ///
    /// # Safety
    /// The pointers and strides describe matrices inside live buffers; c's elements are
    /// distinct and alias neither a nor b.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    /// One matrix `c = alpha * a @ b + beta * c` on up to `workers` threads that share packed
    /// operands, when this type has such a kernel on this CPU; false (nothing done) otherwise.
    ///
    /// # Safety
    /// As [`Gemm::gemm`].
    #[cfg(feature = "threads")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_shared(
        _workers: usize,
        _m: usize,
        _k: usize,
        _n: usize,
        _alpha: Self,
        _a: *const Self,
        _sa: (isize, isize),
        _b: *const Self,
        _sb: (isize, isize),
        _beta: Self,
        _c: *mut Self,
        _sc: (isize, isize),
    ) -> bool {
        false
    }
}

macro_rules! gemm_impl {
    ($t:ty, $f:ident, $fast:expr, $shared:expr) => {
        impl Gemm for $t {
            #[cfg(feature = "threads")]
            unsafe fn gemm_shared(
                workers: usize,
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: *const $t,
                sa: (isize, isize),
                b: *const $t,
                sb: (isize, isize),
                beta: $t,
                c: *mut $t,
                sc: (isize, isize),
            ) -> bool {
                let shared: Option<Shared<$t>> = $shared;
                match shared {
                    // SAFETY: forwarded from this function's contract; `shared` is only
                    // Some when the CPU has what the kernel needs.
                    Some(f) => unsafe {
                        f(
                            workers, m, k, n, alpha, a, sa.0, sa.1, b, sb.0, sb.1, beta, c, sc.0,
                            sc.1,
                        );
                        true
                    },
                    None => false,
                }
            }
            #[inline]
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: *const $t,
                rsa: isize,
                csa: isize,
                b: *const $t,
                rsb: isize,
                csb: isize,
                beta: $t,
                c: *mut $t,
                rsc: isize,
                csc: isize,
            ) {
                let fast: Option<Fast<$t>> = $fast;
                match fast {
                    // SAFETY: forwarded from this function's contract; `fast` is only Some
                    // when the CPU has what the kernel needs.
                    Some(f) => unsafe {
                        f(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
                    },
                    // SAFETY: forwarded from this function's contract.
                    None => unsafe {
                        matrixmultiply::$f(
                            m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
                        )
                    },
                }
            }
        }
    };
}
/// A GEMM with `matrixmultiply`'s signature.
type Fast<T> = unsafe fn(
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

/// Our AVX2/FMA f32 kernel where the CPU has it (x86-64 with std's feature detection).
fn fast_f32() -> Option<Fast<f32>> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::sgemm_avx2::available() {
        return Some(super::sgemm_avx2::sgemm);
    }
    None
}

/// [`Fast`] on up to `workers` threads sharing packed operands (the first argument).
#[cfg(feature = "threads")]
type Shared<T> = unsafe fn(
    usize,
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

/// The shared-packing form of [`fast_f32`]'s kernel.
#[cfg(feature = "threads")]
fn shared_f32() -> Option<Shared<f32>> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if super::sgemm_avx2::available() {
        return Some(super::sgemm_avx2::sgemm_parallel);
    }
    None
}

#[cfg(feature = "threads")]
gemm_impl!(f32, sgemm, fast_f32(), shared_f32());
#[cfg(not(feature = "threads"))]
gemm_impl!(f32, sgemm, fast_f32(), None);
gemm_impl!(f64, dgemm, None, None);

/// One batched strided product on raw pointers, whatever the pointers came from.
struct Problem<'a, T> {
    m: usize,
    n: usize,
    k: usize,
    nbatch: usize,
    a: Ptr<T>,
    b: Ptr<T>,
    y: Ptr<T>,
    /// Row and column strides of a, b and y.
    sa: (usize, usize),
    sb: (usize, usize),
    sy: (usize, usize),
    /// Element offsets of batch `i`'s a, b and y.
    off: &'a (dyn Fn(usize) -> (usize, usize, usize) + Sync),
    alpha: T,
    beta: T,
}

impl<T: Gemm> Problem<'_, T> {
    /// Runs the product: the direct loop when tiny, else GEMM calls, in parallel when the
    /// work is large and `threads` is on.
    fn run(&self) {
        let (m, n, k, nbatch) = (self.m, self.n, self.k, self.nbatch);
        if m == 0 || n == 0 || nbatch == 0 {
            return;
        }
        let mnk = m.saturating_mul(n).saturating_mul(k);
        if mnk <= TINY_MNK {
            par_range(nbatch, nbatch.saturating_mul(mnk), |i| {
                let (ao, bo, yo) = (self.off)(i);
                direct(self, ao, bo, yo);
            });
            return;
        }
        #[cfg(feature = "threads")]
        {
            let threads = rayon::current_num_threads();
            if threads > 1 && nbatch.saturating_mul(mnk) >= PAR_MNK {
                return self.run_parallel(threads, mnk);
            }
        }
        for i in 0..nbatch {
            self.block(i, true, 0, m);
        }
    }

    /// Splits the batch and, when there are fewer matrices than threads, each matrix along
    /// its longer output dim (rows: every task packs all of b; columns: all of a).
    #[cfg(feature = "threads")]
    fn run_parallel(&self, threads: usize, mnk: usize) {
        use rayon::prelude::*;
        let (m, n, nbatch) = (self.m, self.n, self.nbatch);
        let along_m = m >= n;
        if nbatch == 1 && along_m {
            let (ao, bo, yo) = (self.off)(0);
            let s = |(r, c): (usize, usize)| (r as isize, c as isize);
            // SAFETY: as in `block`: the views lie inside their buffers, y's elements are
            // distinct and alias neither a nor b.
            let done = unsafe {
                T::gemm_shared(
                    threads,
                    m,
                    self.k,
                    n,
                    self.alpha,
                    self.a.at(ao),
                    s(self.sa),
                    self.b.at(bo),
                    s(self.sb),
                    self.beta,
                    self.y.at(yo),
                    s(self.sy),
                )
            };
            if done {
                return;
            }
        }
        let len = if along_m { m } else { n };
        let want = if nbatch >= threads {
            1
        } else {
            threads.div_ceil(nbatch)
        };
        let chunk = len
            .div_ceil(want)
            .next_multiple_of(SPLIT_ALIGN)
            .min(len)
            .max(1);
        let parts = len.div_ceil(chunk);
        let units = nbatch * parts;
        // Keep each task at PAR_MNK / 4 multiply-adds or more.
        let unit_mnk = (mnk / parts).max(1);
        let min_len = (PAR_MNK / 4 / unit_mnk).max(1);
        (0..units)
            .into_par_iter()
            .with_min_len(min_len)
            .for_each(|u| {
                let (i, p) = (u / parts, u % parts);
                let start = p * chunk;
                self.block(i, along_m, start, chunk.min(len - start));
            });
    }

    /// One GEMM call: batch `i`, output rows (or columns) `start..start + len`.
    fn block(&self, i: usize, along_m: bool, start: usize, len: usize) {
        let (ao, bo, yo) = (self.off)(i);
        let (m, n, ao, bo, yo) = if along_m {
            (
                len,
                self.n,
                ao + start * self.sa.0,
                bo,
                yo + start * self.sy.0,
            )
        } else {
            (
                self.m,
                len,
                ao,
                bo + start * self.sb.1,
                yo + start * self.sy.1,
            )
        };
        let s = |x: usize| x as isize;
        // SAFETY: the views lie inside their buffers (checked by the driver, or scratch sized
        // for them), y's elements are distinct (a fresh or contiguous output) and y aliases
        // neither a nor b; concurrent blocks write disjoint rows or columns of y.
        unsafe {
            T::gemm(
                m,
                self.k,
                n,
                self.alpha,
                self.a.at(ao),
                s(self.sa.0),
                s(self.sa.1),
                self.b.at(bo),
                s(self.sb.0),
                s(self.sb.1),
                self.beta,
                self.y.at(yo),
                s(self.sy.0),
                s(self.sy.1),
            )
        }
    }
}

/// The direct loop for tiny products: each output element is a dot product, summed in
/// order of `k` in the accumulator type.
fn direct<T: Accum>(p: &Problem<T>, ao: usize, bo: usize, yo: usize) {
    let alpha = p.alpha.up();
    let beta = p.beta.up();
    let keep = beta != <T::A as Num>::zero();
    for i in 0..p.m {
        for j in 0..p.n {
            let mut s = <T::A as Num>::zero();
            for q in 0..p.k {
                // SAFETY: i < m, j < n, q < k index inside the views.
                let (x, w) = unsafe {
                    (
                        *p.a.at(ao + i * p.sa.0 + q * p.sa.1),
                        *p.b.at(bo + q * p.sb.0 + j * p.sb.1),
                    )
                };
                s = s.add(x.up().mul(w.up()));
            }
            let dst = p.y.at(yo + i * p.sy.0 + j * p.sy.1);
            // SAFETY: inside y's view; each (batch, i, j) is written by one task only.
            unsafe {
                let mut v = s.mul(alpha);
                if keep {
                    v = v.add((*dst).up().mul(beta));
                }
                *dst = T::down(v);
            }
        }
    }
}

fn fast<T: Gemm>(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) {
    let off = |i: usize| batch_offsets(d, a, b, y, i);
    Problem::<T> {
        m: d.m,
        n: d.n,
        k: d.k,
        nbatch: d.batch.iter().product(),
        a: Ptr(a.ptr.0 as *mut T),
        b: Ptr(b.ptr.0 as *mut T),
        y: Ptr(y.ptr.0 as *mut T),
        sa: strides2(a),
        sb: strides2(b),
        sy: strides2(y),
        off: &off,
        alpha: T::from_f64(alpha),
        beta: T::from_f64(beta),
    }
    .run()
}

/// f16/bf16 through f32 GEMM: per chunk of batches, convert a and b to contiguous f32,
/// multiply (alpha folded in), then `y = down(c + beta * up(y))`, as the portable kernel
/// rounds: once, at the end.
fn via_f32<T: Accum<A = f32>>(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) {
    let (m, n, k) = (d.m, d.n, d.k);
    let nbatch: usize = d.batch.iter().product();
    if m == 0 || n == 0 || nbatch == 0 {
        return;
    }
    if m.saturating_mul(n).saturating_mul(k) <= TINY_MNK {
        return portable::<T>(d, a, b, y, alpha, beta);
    }
    // Scratch elements per batch: a, b and the f32 product.
    let per = m
        .checked_mul(k)
        .zip(k.checked_mul(n))
        .and_then(|(x, z)| x.checked_add(z)?.checked_add(m.checked_mul(n)?));
    let Some(per) = per else {
        return portable::<T>(d, a, b, y, alpha, beta);
    };
    let chunk = (SCRATCH_ELEMS / per.max(1)).clamp(1, nbatch);
    let mut buf: Vec<f32> = Vec::new();
    if chunk
        .checked_mul(per)
        .is_none_or(|len| buf.try_reserve_exact(len).is_err())
    {
        return portable::<T>(d, a, b, y, alpha, beta);
    }
    buf.resize(chunk * per, 0.0);
    let (ars, acs) = strides2(a);
    let (brs, bcs) = strides2(b);
    let (yrs, ycs) = strides2(y);
    let (ap, bp, yp) = (
        Ptr(a.ptr.0 as *mut T),
        Ptr(b.ptr.0 as *mut T),
        Ptr(y.ptr.0 as *mut T),
    );
    let s = Ptr(buf.as_mut_ptr());
    let (sa, sb) = (0, chunk * m * k);
    let sc = sb + chunk * k * n;
    let mut first = 0;
    while first < nbatch {
        let cnt = chunk.min(nbatch - first);
        // Convert: one task per (batch, row of a) and (batch, row of b).
        par_range(cnt * (m + k), cnt * (m * k + k * n), |u| {
            let (j, r) = (u / (m + k), u % (m + k));
            let (ao, bo, _) = batch_offsets(d, a, b, y, first + j);
            let (src, st, dst, len) = if r < m {
                (ap.at(ao + r * ars), acs, s.at(sa + (j * m + r) * k), k)
            } else {
                let r = r - m;
                (bp.at(bo + r * brs), bcs, s.at(sb + (j * k + r) * n), n)
            };
            for c in 0..len {
                // SAFETY: the row lies inside its view; each task owns one scratch row.
                unsafe { *dst.add(c) = (*src.add(c * st)).up() };
            }
        });
        let off = |j: usize| (sa + j * m * k, sb + j * k * n, sc + j * m * n);
        Problem::<f32> {
            m,
            n,
            k,
            nbatch: cnt,
            a: s,
            b: s,
            y: s,
            sa: (k, 1),
            sb: (n, 1),
            sy: (n, 1),
            off: &off,
            alpha: alpha as f32,
            beta: 0.0,
        }
        .run();
        // Write back, one task per (batch, row of y).
        par_range(cnt * m, cnt * m * n, |u| {
            let (j, r) = (u / m, u % m);
            let (_, _, yo) = batch_offsets(d, a, b, y, first + j);
            let src = s.at(sc + (j * m + r) * n);
            let dst = yp.at(yo + r * yrs);
            for c in 0..n {
                // SAFETY: inside y's view and the scratch; each task owns one row of y.
                unsafe {
                    let mut v = *src.add(c);
                    if beta != 0.0 {
                        v += (*dst.add(c * ycs)).up() * beta as f32;
                    }
                    *dst.add(c * ycs) = T::down(v);
                }
            }
        });
        first += cnt;
    }
}

/// Row-by-row kernel: for each output row, accumulate `a[i, p] * b[p, :]` in the
/// accumulator type, so the inner loop runs along b's rows.
fn portable<T: Accum>(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) {
    let nbatch: usize = d.batch.iter().product();
    let (ars, acs) = strides2(a);
    let (brs, bcs) = strides2(b);
    let (yrs, ycs) = strides2(y);
    let (ap, bp, yp) = (
        Ptr(a.ptr.0 as *mut T),
        Ptr(b.ptr.0 as *mut T),
        Ptr(y.ptr.0 as *mut T),
    );
    let (m, n, k) = (d.m, d.n, d.k);
    let alpha_a = <T::A as Num>::from_f64(alpha);
    let beta_a = <T::A as Num>::from_f64(beta);
    par_range(nbatch * m, nbatch * m * n * k / 4, |row| {
        let (bi, i) = (row / m, row % m);
        let (ao, bo, yo) = batch_offsets(d, a, b, y, bi);
        let mut acc: Vec<T::A> = alloc::vec![T::A::zero(); n];
        for p in 0..k {
            // SAFETY: indices stay inside the views' shapes.
            let av = unsafe { *ap.at(ao + i * ars + p * acs) }.up();
            let brow = bp.at(bo + p * brs) as *const T;
            for (j, c) in acc.iter_mut().enumerate() {
                // SAFETY: j < n.
                *c = c.add(av.mul(unsafe { *brow.add(j * bcs) }.up()));
            }
        }
        for (j, c) in acc.iter().enumerate() {
            let dst = yp.at(yo + i * yrs + j * ycs);
            // SAFETY: each task owns output row `row`.
            unsafe {
                let mut v = c.mul(alpha_a);
                if beta != 0.0 {
                    v = v.add((*dst).up().mul(beta_a));
                }
                *dst = T::down(v);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    //! The fast paths (direct loop, split and batched GEMM, f16/bf16 through f32) against the
    //! portable kernel on random strided, transposed, broadcast and batched views.
    use super::*;
    use crate::layout::{Layout, Shape};
    use alloc::vec;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        }
    }

    /// A random view of logical shape `batch ++ [rows, cols]` over a fresh buffer: maybe
    /// transposed, maybe every other column, maybe an offset, maybe a broadcast batch dim.
    fn view(rng: &mut Rng, batch: &[usize], rows: usize, cols: usize, out: bool) -> Layout {
        let transposed = !out && rng.below(2) == 0;
        let gap = if !out && rng.below(3) == 0 { 2 } else { 1 };
        let offset = if rng.below(2) == 0 { 3 } else { 0 };
        let (rs, cs) = if transposed {
            (gap, rows * gap)
        } else {
            (cols * gap, gap)
        };
        let mat = rows * cols * gap;
        let mut strides: Dims = Dims::new();
        let mut step = mat;
        for &bd in batch.iter().rev() {
            if !out && bd > 1 && rng.below(3) == 0 {
                strides.push(0);
            } else {
                strides.push(step);
                step *= bd;
            }
        }
        strides.reverse();
        strides.extend([rs, cs]);
        let mut dims: Vec<usize> = batch.to_vec();
        dims.extend([rows, cols]);
        Layout {
            shape: Shape::new(&dims),
            strides,
            offset,
        }
    }

    fn arg<'a, T>(buf: &mut [T], layout: &'a Layout, dtype: DType) -> Arg<'a> {
        assert!(layout.span_end() <= buf.len());
        Arg {
            ptr: Ptr(buf.as_mut_ptr() as *mut u8),
            layout,
            dtype,
        }
    }

    /// Runs `matmul` and `portable` on the same random case and compares the outputs.
    fn case<T: Accum>(rng: &mut Rng, dtype: DType, dims: (usize, usize, usize, usize)) {
        let (nb, m, n, k) = dims;
        let batch: Vec<usize> = if nb == 0 { vec![] } else { vec![nb, 2] };
        let la = view(rng, &batch, m, k, false);
        let lb = view(rng, &batch, k, n, false);
        let ly = view(rng, &batch, m, n, true);
        let fill = |rng: &mut Rng, len: usize| -> Vec<T> {
            (0..len)
                .map(|_| {
                    if T::IS_FLOAT {
                        T::from_f64(rng.unit())
                    } else {
                        T::from_f64((rng.below(7) as f64) - 3.0)
                    }
                })
                .collect()
        };
        let mut va = fill(rng, la.span_end());
        let mut vb = fill(rng, lb.span_end());
        let (alpha, beta) = match rng.below(3) {
            0 => (1.0, 0.0),
            1 => (-0.5, 2.0),
            _ => (2.0, 0.0),
        };
        let mut vy0 = if beta == 0.0 && T::IS_FLOAT {
            vec![T::from_f64(f64::NAN); ly.span_end()]
        } else {
            fill(rng, ly.span_end())
        };
        let mut vy1 = vy0.clone();
        let a = arg(&mut va, &la, dtype);
        let b = arg(&mut vb, &lb, dtype);
        matmul(&a, &b, &arg(&mut vy0, &ly, dtype), alpha, beta).unwrap();
        let r = ly.rank();
        let d = Dims3 {
            m,
            n,
            k,
            batch: ly.shape.0[..r - 2].iter().copied().collect(),
        };
        portable::<T>(&d, &a, &b, &arg(&mut vy1, &ly, dtype), alpha, beta);
        let tol = match dtype {
            DType::F32 => 1e-5 * (k as f64 + 1.0),
            DType::F64 => 1e-12 * (k as f64 + 1.0),
            DType::F16 => 4e-3 * (k as f64).sqrt().max(1.0),
            DType::BF16 => 3e-2 * (k as f64).sqrt().max(1.0),
            _ => 0.0,
        };
        for i in 0..ly.numel() {
            let o = ly.offset + offset_of(i, ly.dims(), &ly.strides);
            let (x, w) = (vy0[o].to_f64(), vy1[o].to_f64());
            assert!(
                (x - w).abs() <= tol * (1.0 + w.abs()),
                "{dtype} {dims:?} alpha {alpha} beta {beta} at {i}: fast {x} vs portable {w}"
            );
        }
    }

    fn sizes(rng: &mut Rng) -> (usize, usize, usize, usize) {
        let pick = |rng: &mut Rng| [1, 2, 3, 5, 8, 17, 33, 64, 70, 129][rng.below(10)];
        (rng.below(3), pick(rng), pick(rng), pick(rng))
    }

    #[test]
    fn fast_paths_match_the_portable_kernel() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..120 {
            let dims = sizes(&mut rng);
            case::<f32>(&mut rng, DType::F32, dims);
            case::<f64>(&mut rng, DType::F64, dims);
        }
        for _ in 0..40 {
            let dims = sizes(&mut rng);
            case::<f16>(&mut rng, DType::F16, dims);
            case::<bf16>(&mut rng, DType::BF16, dims);
            case::<i32>(&mut rng, DType::I32, dims);
        }
        // Large enough to split over threads (rows, then columns), and a batch of them.
        let large = |rng: &mut Rng| {
            for dims in [
                (0, 300, 40, 200),
                (0, 40, 300, 200),
                (1, 150, 97, 60),
                (0, 4, 5, 6),
            ] {
                case::<f32>(rng, DType::F32, dims);
                case::<f64>(rng, DType::F64, dims);
                case::<f16>(rng, DType::F16, dims);
            }
        };
        large(&mut rng);
        // Whatever this machine's core count: 2 and 3 threads (uneven blocks) split too.
        #[cfg(feature = "threads")]
        for threads in [2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| large(&mut rng));
        }
    }

    #[test]
    fn beta_zero_ignores_nan_and_k_zero_scales() {
        let mut va = [1.0f32; 4];
        let mut vy = [f32::NAN; 4];
        let la = Layout::contiguous(Shape::new(&[2, 0]));
        let lb = Layout::contiguous(Shape::new(&[0, 2]));
        let ly = Layout::contiguous(Shape::new(&[2, 2]));
        let a = arg(&mut va, &la, DType::F32);
        let mut vb = [1.0f32; 4];
        let b = arg(&mut vb, &lb, DType::F32);
        matmul(&a, &b, &arg(&mut vy, &ly, DType::F32), 1.0, 0.0).unwrap();
        assert_eq!(vy, [0.0; 4]);
        let mut vy = [1.0f32, 2.0, 3.0, 4.0];
        matmul(&a, &b, &arg(&mut vy, &ly, DType::F32), 1.0, 2.0).unwrap();
        assert_eq!(vy, [2.0, 4.0, 6.0, 8.0]);
    }
}
