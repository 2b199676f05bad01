//! Reductions and scans on the CPU.

use super::elem::Num;
use super::elementwise::{nan_max, nan_min};
use super::walk::{coalesce, offset_of, par_range, Ptr, PAR_THRESHOLD};
use super::Arg;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Dims;
use crate::ops::{ReduceOp, ScanOp};
use half::{bf16, f16};
use smallvec::SmallVec;

/// An element with the accumulator used for sums and products.
pub trait Accum: Num {
    /// The accumulator type (f32 for 16-bit floats, i64 for ints).
    type A: Num;
    /// Widens to the accumulator.
    fn up(self) -> Self::A;
    /// Narrows back.
    fn down(a: Self::A) -> Self;
}

macro_rules! accum {
    ($($t:ty => $a:ty, |$x:ident| $up:expr, |$y:ident| $down:expr);* $(;)?) => {$(
        impl Accum for $t {
            type A = $a;
            #[inline(always)] fn up(self) -> $a { let $x = self; $up }
            #[inline(always)] fn down($y: $a) -> Self { $down }
        }
    )*};
}
accum! {
    f32 => f32, |x| x, |a| a;
    f64 => f64, |x| x, |a| a;
    f16 => f32, |x| x.to_f32(), |a| f16::from_f32(a);
    bf16 => f32, |x| x.to_f32(), |a| bf16::from_f32(a);
    i64 => i64, |x| x, |a| a;
    i32 => i64, |x| x as i64, |a| a as i32;
    i8 => i64, |x| x as i64, |a| a as i8;
    u8 => i64, |x| x as i64, |a| a as u8;
    bool => i64, |x| x as i64, |a| a != 0;
}

/// Pairwise sum of a strided run: 8 independent lanes per block, blocks combined as a tree,
/// so f32 error grows like log(n) (PyTorch's cascade sum does the same).
fn sum_run<T: Accum>(p: *const T, n: usize, s: usize) -> T::A {
    if n <= 256 {
        let mut acc = [T::A::zero(); 8];
        let full = n / 8 * 8;
        // SAFETY: indices < n along the run, which lies inside the view.
        unsafe {
            if s == 1 {
                for i in (0..full).step_by(8) {
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a = a.add((*p.add(i + l)).up());
                    }
                }
            } else {
                for i in (0..full).step_by(8) {
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a = a.add((*p.add((i + l) * s)).up());
                    }
                }
            }
            for i in full..n {
                acc[0] = acc[0].add((*p.add(i * s)).up());
            }
        }
        let a = acc[0].add(acc[1]).add(acc[2].add(acc[3]));
        let b = acc[4].add(acc[5]).add(acc[6].add(acc[7]));
        a.add(b)
    } else {
        let h = (n / 2).div_ceil(8) * 8;
        // SAFETY: the second half starts inside the run.
        let q = unsafe { p.add(h * s) };
        sum_run::<T>(p, h, s).add(sum_run::<T>(q, n - h, s))
    }
}

fn fold_run<T: Num>(p: *const T, n: usize, s: usize, init: T, f: impl Fn(T, T) -> T) -> T {
    let mut a = init;
    // SAFETY: indices < n along the run.
    unsafe {
        for i in 0..n {
            a = f(a, *p.add(i * s));
        }
    }
    a
}

/// Index of the first max (`is_max`) or min; NaN wins as in PyTorch.
fn arg_run<T: Num>(p: *const T, n: usize, s: usize, is_max: bool) -> i64 {
    let mut best = 0usize;
    // SAFETY: indices < n along the run; n >= 1 is checked by core.
    unsafe {
        let mut bv = *p;
        if bv.is_nan() {
            return 0;
        }
        for i in 1..n {
            let v = *p.add(i * s);
            if v.is_nan() {
                return i as i64;
            }
            if (is_max && v > bv) || (!is_max && v < bv) {
                bv = v;
                best = i;
            }
        }
    }
    best as i64
}

struct Split {
    kept: Dims,
    kept_x: Dims,
    kept_y: Dims,
    red: Dims,
    red_x: Dims,
}

fn split(axes: &[usize], x: &Arg, y: &Arg) -> Split {
    let (mut kd, mut kx, mut ky, mut rd, mut rx): (Dims, Dims, Dims, Dims, Dims) =
        Default::default();
    for d in 0..x.layout.rank() {
        if axes.contains(&d) {
            rd.push(x.layout.shape.0[d]);
            rx.push(x.layout.strides[d]);
        } else {
            kd.push(x.layout.shape.0[d]);
            kx.push(x.layout.strides[d]);
            ky.push(y.layout.strides[d]);
        }
    }
    let k = coalesce(&kd, [&kx, &ky]);
    let r = coalesce(&rd, [&rx]);
    let [kx, ky] = k.strides;
    let [rx] = r.strides;
    Split {
        kept: k.dims,
        kept_x: kx,
        kept_y: ky,
        red: r.dims,
        red_x: rx,
    }
}

/// Reduces `x` over `axes` into `y` (same rank, reduced axes of size 1).
pub fn reduce(op: ReduceOp, axes: &[usize], x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! go {
        ($T:ty) => {
            reduce_t::<$T>(op, axes, x, y)
        };
    }
    match x.dtype {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        DType::I64 => go!(i64),
        #[cfg(not(feature = "compact"))]
        DType::F16 => go!(f16),
        #[cfg(not(feature = "compact"))]
        DType::BF16 => go!(bf16),
        #[cfg(not(feature = "compact"))]
        DType::I32 => go!(i32),
        #[cfg(not(feature = "compact"))]
        DType::I8 => go!(i8),
        #[cfg(not(feature = "compact"))]
        DType::U8 => go!(u8),
        #[cfg(not(feature = "compact"))]
        DType::Bool => go!(bool),
        #[cfg(feature = "compact")]
        _ => super::compact::widened(x.dtype, &[x], y, &|a: &[&Arg], y: &Arg| {
            reduce(op, axes, a[0], y)
        }),
    }
}

fn reduce_t<T: Accum>(op: ReduceOp, axes: &[usize], x: &Arg, y: &Arg) -> Result<()> {
    let sp = split(axes, x, y);
    let nout: usize = sp.kept.iter().product();
    let nred: usize = sp.red.iter().product();
    let xp = Ptr(x.ptr.0 as *mut T);
    if nout == 0 {
        return Ok(());
    }
    if nred == 0 && !matches!(op, ReduceOp::Sum | ReduceOp::Prod) {
        return Err(Error::Arg {
            op: op.name(),
            msg: alloc::string::String::from("cannot reduce over an empty dimension"),
        });
    }
    // Sum over outer axes with a contiguous kept inner axis (bias gradients, batch means):
    // accumulate whole rows so the inner loop stays contiguous.
    if op == ReduceOp::Sum
        && !sp.kept.is_empty()
        && sp.kept_x[sp.kept.len() - 1] == 1
        && sp.kept_y[sp.kept.len() - 1] == 1
        && sp.red_x.last().is_some_and(|&s| s != 1)
        && y.dtype == x.dtype
    {
        return sum_rows::<T>(&sp, x, y);
    }
    let run_n = sp.red.last().copied().unwrap_or(1);
    let run_s = sp.red_x.last().copied().unwrap_or(0);
    let outer_red = &sp.red[..sp.red.len().saturating_sub(1)];
    let outer_rx = &sp.red_x[..sp.red_x.len().saturating_sub(1)];
    let nruns: usize = outer_red.iter().product();
    let work = nout * nred;
    // One output of a big contiguous input: split the run across threads.
    if nout == 1 && nruns == 1 && work >= PAR_THRESHOLD && matches!(op, ReduceOp::Sum) {
        let chunk = 16 * 1024;
        let nch = run_n.div_ceil(chunk);
        let mut parts: alloc::vec::Vec<T::A> = alloc::vec![T::A::zero(); nch];
        let pp = Ptr(parts.as_mut_ptr());
        par_range(nch, work, |c| {
            let start = c * chunk;
            let len = chunk.min(run_n - start);
            let p = xp.at(x.layout.offset + start * run_s) as *const T;
            // SAFETY: each task writes its own slot.
            unsafe { *pp.at(c) = sum_run::<T>(p, len, run_s) }
        });
        let total = parts.iter().fold(T::A::zero(), |a, &b| a.add(b));
        // SAFETY: y has one element at its offset.
        unsafe { *(y.ptr.0 as *mut T).add(y.layout.offset) = T::down(total) };
        return Ok(());
    }
    let yo = y.layout.offset;
    let xo = x.layout.offset;
    let kept = &sp.kept;
    macro_rules! per_output {
        ($OutT:ty, |$p:ident| $body:expr) => {{
            let yp = Ptr(y.ptr.0 as *mut $OutT);
            par_range(nout, work, |o| {
                let xb = xo + offset_of(o, kept, &sp.kept_x);
                let yb = yo + offset_of(o, kept, &sp.kept_y);
                let v = {
                    let $p = |r: usize| xp.at(xb + offset_of(r, outer_red, outer_rx)) as *const T;
                    $body
                };
                // SAFETY: each output index is written by one task.
                unsafe { *yp.at(yb) = v }
            });
        }};
    }
    match op {
        ReduceOp::Sum => per_output!(T, |run| {
            let mut a = T::A::zero();
            for r in 0..nruns {
                a = a.add(sum_run::<T>(run(r), run_n, run_s));
            }
            T::down(a)
        }),
        ReduceOp::Prod => per_output!(T, |run| {
            let mut a = T::A::one();
            for r in 0..nruns {
                let p = run(r);
                for i in 0..run_n {
                    // SAFETY: inside the run.
                    a = a.mul(unsafe { *p.add(i * run_s) }.up());
                }
            }
            T::down(a)
        }),
        ReduceOp::Max => per_output!(T, |run| {
            let mut a = T::lowest();
            for r in 0..nruns {
                a = fold_run(run(r), run_n, run_s, a, nan_max::<T>);
            }
            a
        }),
        ReduceOp::Min => per_output!(T, |run| {
            let mut a = T::highest();
            for r in 0..nruns {
                a = fold_run(run(r), run_n, run_s, a, nan_min::<T>);
            }
            a
        }),
        ReduceOp::ArgMax | ReduceOp::ArgMin => {
            if nruns != 1 {
                return Err(Error::Arg {
                    op: op.name(),
                    msg: alloc::string::String::from("reduces over exactly one axis"),
                });
            }
            let is_max = op == ReduceOp::ArgMax;
            per_output!(i64, |run| arg_run(run(0), run_n, run_s, is_max))
        }
    }
    Ok(())
}

fn sum_rows<T: Accum>(sp: &Split, x: &Arg, y: &Arg) -> Result<()> {
    let k = sp.kept.len();
    let inner = sp.kept[k - 1];
    let outer = &sp.kept[..k - 1];
    let nouter: usize = outer.iter().product();
    let nred: usize = sp.red.iter().product();
    let xp = Ptr(x.ptr.0 as *mut T);
    let yp = Ptr(y.ptr.0 as *mut T);
    // Parallel over blocks of the inner axis so each task owns its output columns.
    let block = 256usize;
    let nb = inner.div_ceil(block);
    par_range(nouter * nb, nouter * nred * inner, |u| {
        let (o, b) = (u / nb, u % nb);
        let c0 = b * block;
        let len = block.min(inner - c0);
        let xb = x.layout.offset + offset_of(o, outer, &sp.kept_x[..k - 1]) + c0;
        let yb = y.layout.offset + offset_of(o, outer, &sp.kept_y[..k - 1]) + c0;
        let mut acc = [T::A::zero(); 256];
        for r in 0..nred {
            let p = xp.at(xb + offset_of(r, &sp.red, &sp.red_x)) as *const T;
            for (i, a) in acc[..len].iter_mut().enumerate() {
                // SAFETY: column c0 + i < inner of this row.
                *a = a.add(unsafe { *p.add(i) }.up());
            }
        }
        for (i, a) in acc[..len].iter().enumerate() {
            // SAFETY: this task owns output columns c0..c0+len.
            unsafe { *yp.at(yb + i) = T::down(*a) }
        }
    });
    Ok(())
}

/// Prefix scan along `dim` (same layout shapes for x and y).
pub fn scan(op: ScanOp, dim: usize, x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! go {
        ($T:ty) => {
            scan_t::<$T>(op, dim, x, y)
        };
    }
    match x.dtype {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        DType::I64 => go!(i64),
        #[cfg(not(feature = "compact"))]
        DType::F16 => go!(f16),
        #[cfg(not(feature = "compact"))]
        DType::BF16 => go!(bf16),
        #[cfg(not(feature = "compact"))]
        DType::I32 => go!(i32),
        #[cfg(not(feature = "compact"))]
        DType::I8 => go!(i8),
        #[cfg(not(feature = "compact"))]
        DType::U8 => go!(u8),
        #[cfg(not(feature = "compact"))]
        DType::Bool => go!(bool),
        #[cfg(feature = "compact")]
        _ => {
            return super::compact::widened(x.dtype, &[x], y, &|a: &[&Arg], y: &Arg| {
                scan(op, dim, a[0], y)
            })
        }
    }
    Ok(())
}

fn scan_t<T: Accum>(op: ScanOp, dim: usize, x: &Arg, y: &Arg) {
    let mut od: Dims = SmallVec::new();
    let (mut ox, mut oy): (Dims, Dims) = Default::default();
    for d in 0..x.layout.rank() {
        if d != dim {
            od.push(x.layout.shape.0[d]);
            ox.push(x.layout.strides[d]);
            oy.push(y.layout.strides[d]);
        }
    }
    let n = x.layout.shape.0[dim];
    let (sx, sy) = (x.layout.strides[dim], y.layout.strides[dim]);
    let rows: usize = od.iter().product();
    let xp = Ptr(x.ptr.0 as *mut T);
    let yp = Ptr(y.ptr.0 as *mut T);
    par_range(rows, rows * n, |r| {
        let xb = x.layout.offset + offset_of(r, &od, &ox);
        let yb = y.layout.offset + offset_of(r, &od, &oy);
        let mut a = match op {
            ScanOp::CumSum => T::A::zero(),
            ScanOp::CumProd => T::A::one(),
        };
        for i in 0..n {
            // SAFETY: inside both views; y may alias x with the same layout.
            unsafe {
                let v = (*xp.at(xb + i * sx)).up();
                a = match op {
                    ScanOp::CumSum => a.add(v),
                    ScanOp::CumProd => a.mul(v),
                };
                *yp.at(yb + i * sy) = T::down(a);
            }
        }
    });
}
