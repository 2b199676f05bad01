//! Batched strided matmul: the `gemm` crate for f32/f64 under `std`, a portable blocked
//! kernel for everything else (no_std, ints, 16-bit floats accumulate in f32).

use super::elem::Num;
use super::reduce::Accum;
use super::walk::{offset_of, par_range, Ptr};
use super::Arg;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::Dims;
use half::{bf16, f16};

struct Dims3 {
    m: usize,
    n: usize,
    k: usize,
    batch: Dims,
}

/// `y = alpha * a @ b + beta * y` over broadcast batch dims.
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
        DType::F16 => portable::<f16>(&d, a, b, y, alpha, beta),
        DType::BF16 => portable::<bf16>(&d, a, b, y, alpha, beta),
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

#[cfg(feature = "std")]
fn fast<T: Num + Accum>(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) {
    let nbatch: usize = d.batch.iter().product();
    let (ars, acs) = strides2(a);
    let (brs, bcs) = strides2(b);
    let (yrs, ycs) = strides2(y);
    let (ap, bp, yp) = (
        Ptr(a.ptr.0 as *mut T),
        Ptr(b.ptr.0 as *mut T),
        Ptr(y.ptr.0 as *mut T),
    );
    let flops = d.m * d.n * d.k;
    let run = |i: usize, par: gemm::Parallelism| {
        let (ao, bo, yo) = batch_offsets(d, a, b, y, i);
        // SAFETY: the views lie inside their buffers (checked by the driver) and y does not
        // alias a or b (core allocates matmul outputs fresh).
        unsafe {
            gemm::gemm(
                d.m,
                d.n,
                d.k,
                yp.at(yo),
                ycs as isize,
                yrs as isize,
                beta != 0.0,
                ap.at(ao) as *const T,
                acs as isize,
                ars as isize,
                bp.at(bo) as *const T,
                bcs as isize,
                brs as isize,
                T::from_f64(beta),
                T::from_f64(alpha),
                false,
                false,
                false,
                par,
            )
        }
    };
    #[cfg(feature = "threads")]
    let threads = rayon::current_num_threads();
    #[cfg(not(feature = "threads"))]
    let threads = 1;
    if nbatch > 1 && flops < 128 * 128 * 128 {
        par_range(nbatch, nbatch * flops / 8, |i| {
            run(i, gemm::Parallelism::None)
        });
    } else {
        let par = if threads > 1 && flops >= 64 * 64 * 64 {
            #[cfg(feature = "threads")]
            {
                gemm::Parallelism::Rayon(threads)
            }
            #[cfg(not(feature = "threads"))]
            {
                gemm::Parallelism::None
            }
        } else {
            gemm::Parallelism::None
        };
        for i in 0..nbatch {
            run(i, par);
        }
    }
}

#[cfg(not(feature = "std"))]
fn fast<T: Num + Accum>(d: &Dims3, a: &Arg, b: &Arg, y: &Arg, alpha: f64, beta: f64) {
    portable::<T>(d, a, b, y, alpha, beta)
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
        let mut acc: alloc::vec::Vec<T::A> = alloc::vec![T::A::zero(); n];
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
