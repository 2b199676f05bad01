//! Strided iteration shared by the CPU kernels: coalesce dims, then visit rows of the
//! innermost dim, in parallel when the work is large enough (and the `threads` feature is on).

use crate::layout::Dims;
use smallvec::SmallVec;

/// Work below this many elements stays on the calling thread (DESIGN.md: ~32K).
pub const PAR_THRESHOLD: usize = 32 * 1024;

/// A raw pointer that may cross threads: kernels split disjoint output ranges.
#[derive(Copy, Clone)]
pub struct Ptr<T>(pub *mut T);
// SAFETY: kernels only write disjoint elements from different threads, and buffers
// outlive the call that uses them.
unsafe impl<T> Send for Ptr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Ptr<T> {}

impl<T> Ptr<T> {
    /// The element at `i` (in elements).
    #[inline(always)]
    pub fn at(self, i: usize) -> *mut T {
        // SAFETY: callers pass offsets inside the view they were given.
        unsafe { self.0.add(i) }
    }
}

/// Dims after dropping size-1 dims and merging dims that are contiguous for every operand.
pub struct Coalesced<const N: usize> {
    /// Sizes, outermost first.
    pub dims: Dims,
    /// Per-operand strides for `dims`.
    pub strides: [Dims; N],
}

/// Merges adjacent dims `i, i+1` when every operand has `stride[i] == stride[i+1] * dims[i+1]`.
pub fn coalesce<const N: usize>(shape: &[usize], strides: [&[usize]; N]) -> Coalesced<N> {
    let mut dims: Dims = SmallVec::new();
    let mut st: [Dims; N] = core::array::from_fn(|_| SmallVec::new());
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let mergeable = !dims.is_empty()
            && (0..N).all(|k| {
                let last = *st[k].last().expect("internal: non-empty");
                last == strides[k][i] * d
            });
        if mergeable {
            let j = dims.len() - 1;
            dims[j] *= d;
            for k in 0..N {
                st[k][j] = strides[k][i];
            }
        } else {
            dims.push(d);
            for k in 0..N {
                st[k].push(strides[k][i]);
            }
        }
    }
    Coalesced { dims, strides: st }
}

/// Visits every element of `shape` as runs of the innermost dim: `f(offsets, len, inner_strides)`
/// where `offsets[k]` is operand k's element offset of the run's first element.
/// Runs are split across threads when `numel >= PAR_THRESHOLD`.
pub fn for_each_run<const N: usize, F>(
    shape: &[usize],
    strides: [&[usize]; N],
    base: [usize; N],
    f: F,
) where
    F: Fn([usize; N], usize, [usize; N]) + Sync + Send,
{
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return;
    }
    // Small contiguous operands (most ops in a training step): one run, no coalescing.
    if numel < PAR_THRESHOLD && all_contiguous(shape, strides) {
        f(base, numel, [1; N]);
        return;
    }
    let c = coalesce(shape, strides);
    if c.dims.is_empty() {
        f(base, 1, [0; N]);
        return;
    }
    let r = c.dims.len();
    let inner = c.dims[r - 1];
    let inner_st: [usize; N] = core::array::from_fn(|k| c.strides[k][r - 1]);
    let outer = &c.dims[..r - 1];
    let rows: usize = outer.iter().product();
    // Split long rows into blocks so a contiguous tensor still spreads over threads.
    let block = if numel >= PAR_THRESHOLD && rows < 64 {
        (inner.div_ceil(64)).max(4096)
    } else {
        inner
    };
    let nblocks = inner.div_ceil(block);
    let unit = |u: usize| {
        let (row, b) = (u / nblocks, u % nblocks);
        let mut off = base;
        let mut rem = row;
        for d in (0..r - 1).rev() {
            let i = rem % outer[d];
            rem /= outer[d];
            for (o, st) in off.iter_mut().zip(&c.strides) {
                *o += i * st[d];
            }
        }
        let start = b * block;
        for (o, st) in off.iter_mut().zip(&inner_st) {
            *o += start * st;
        }
        f(off, block.min(inner - start), inner_st);
    };
    let units = rows * nblocks;
    #[cfg(feature = "threads")]
    if numel >= PAR_THRESHOLD && units > 1 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        let min_len = (PAR_THRESHOLD / (numel / units).max(1)).max(1);
        (0..units)
            .into_par_iter()
            .with_min_len(min_len)
            .for_each(unit);
        return;
    }
    (0..units).for_each(unit);
}

/// Whether every operand is row-major contiguous over `shape` (size-1 dims ignored).
#[inline]
fn all_contiguous<const N: usize>(shape: &[usize], strides: [&[usize]; N]) -> bool {
    let mut acc = 1;
    for (i, &d) in shape.iter().enumerate().rev() {
        if d != 1 {
            if strides.iter().any(|st| st[i] != acc) {
                return false;
            }
            acc *= d;
        }
    }
    true
}

/// Runs `f(i)` for `i in 0..n`, in parallel when `work` (elements touched) is large.
pub fn par_range<F: Fn(usize) + Sync + Send>(n: usize, work: usize, f: F) {
    #[cfg(feature = "threads")]
    // One thread: run here, not as a job handed to the pool's only worker (a wake-up and
    // a sleep per call).
    if work >= PAR_THRESHOLD && n > 1 && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        let min_len = (PAR_THRESHOLD / (work / n).max(1)).max(1);
        (0..n).into_par_iter().with_min_len(min_len).for_each(f);
        return;
    }
    let _ = work;
    (0..n).for_each(f);
}

/// Element offsets of linear index `i` under `dims` and `strides` (row-major order).
#[inline]
pub fn offset_of(mut i: usize, dims: &[usize], strides: &[usize]) -> usize {
    let mut off = 0;
    for d in (0..dims.len()).rev() {
        off += (i % dims[d]) * strides[d];
        i /= dims[d];
    }
    off
}
