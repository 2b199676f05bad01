//! Hand-vectorised wasm `simd128` loops for the npm package's build, which rustc does not
//! auto-vectorise at its size-optimising levels. Also for V8: it compiles a scalar f32
//! `select` into a branch, so a scalar `max(x, 0)` mispredicts on random signs.

use super::elementwise::{nan_max, nan_min};
use super::walk::{for_each_run, Ptr};
use super::Arg;
use crate::ops::BinaryOp;
use core::arch::wasm32::{
    f32x4_add, f32x4_div, f32x4_max, f32x4_min, f32x4_mul, f32x4_nearest, f32x4_splat, f32x4_sub,
    i32x4_add, i32x4_shl, i32x4_shr, i32x4_splat, i32x4_sub, i32x4_trunc_sat_f32x4, v128,
    v128_load, v128_store,
};

/// `y = relu(x)` on two contiguous f32 views of one shape, NaN propagating (`torch.relu`):
/// wasm's `f32x4.max` returns NaN if either lane is NaN and orders -0 below +0, as
/// `nan_max(x, 0)` does. False (nothing written) when either view is strided.
pub fn relu(x: &Arg, y: &Arg) -> bool {
    map_views::<Relu>(x, y)
}

/// `y = e^x` on two contiguous f32 views of one shape (see [`exp4`]); false (nothing
/// written) when either view is strided.
pub fn exp(x: &Arg, y: &Arg) -> bool {
    map_views::<Exp>(x, y)
}

/// `e^x` in place over a row (the softmax kernel's exp pass; see [`exp4`]).
pub fn exp_row(row: &mut [f32]) {
    let p = row.as_mut_ptr();
    // SAFETY: the row holds `len` elements; input and output may be the same buffer.
    unsafe { map::<Exp>(p, p, row.len()) }
}

/// A lane-wise f32 function. A type, not a closure: at opt-level "z" a closure's body (exp's
/// is large) stays a call per vector, where `#[inline(always)]` on `apply` is honoured.
trait Lanes {
    fn apply(v: v128) -> v128;
}

struct Relu;
impl Lanes for Relu {
    #[inline(always)]
    fn apply(v: v128) -> v128 {
        f32x4_max(v, f32x4_splat(0.0))
    }
}

struct Exp;
impl Lanes for Exp {
    #[inline(always)]
    fn apply(v: v128) -> v128 {
        exp4(v)
    }
}

/// `y = L(x)` over two contiguous views; false when either is strided.
fn map_views<L: Lanes>(x: &Arg, y: &Arg) -> bool {
    if !(x.layout.is_contiguous() && y.layout.is_contiguous()) {
        return false;
    }
    // SAFETY: both views are contiguous with one shape, so `numel` elements from their
    // offsets are inside their buffers.
    unsafe {
        map::<L>(
            Ptr(x.ptr.0 as *mut f32).at(x.layout.offset),
            Ptr(y.ptr.0 as *mut f32).at(y.layout.offset),
            y.layout.numel(),
        )
    };
    true
}

/// `y[i] = L(x[i])` over `n` contiguous elements; the tail goes through a zero-padded
/// vector, so every element gets the same function.
///
/// # Safety
/// `x` and `y` hold `n` elements each; they may be the same buffer.
unsafe fn map<L: Lanes>(x: *const f32, y: *mut f32, n: usize) {
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: lanes i..i+4 are inside both buffers; unaligned v128 access is allowed.
        unsafe {
            v128_store(
                y.add(i) as *mut v128,
                L::apply(v128_load(x.add(i) as *const v128)),
            )
        };
        i += 4;
    }
    if i < n {
        let mut t = [0f32; 4];
        // SAFETY: n - i < 4 elements remain in both buffers; `t` holds 4.
        unsafe {
            core::ptr::copy_nonoverlapping(x.add(i), t.as_mut_ptr(), n - i);
            v128_store(
                t.as_mut_ptr() as *mut v128,
                L::apply(v128_load(t.as_ptr() as *const v128)),
            );
            core::ptr::copy_nonoverlapping(t.as_ptr(), y.add(i), n - i);
        }
    }
}

/// `y = a op b` on f32 views of one shape for the ops with a lane-wise wasm instruction;
/// false (nothing written) for the others. Unit-stride runs and runs with one operand
/// broadcast take four lanes at a time, the rest goes element by element; both give the
/// scalar op's exact results (IEEE add/sub/mul/div; `f32x4.max`/`min` propagate NaN and
/// order -0 below +0, as `torch.maximum`/`minimum`).
pub fn binary_f32(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> bool {
    match op {
        BinaryOp::Add => runs(a, b, y, |p, q| f32x4_add(p, q), |p, q| p + q),
        BinaryOp::Sub => runs(a, b, y, |p, q| f32x4_sub(p, q), |p, q| p - q),
        BinaryOp::Mul => runs(a, b, y, |p, q| f32x4_mul(p, q), |p, q| p * q),
        BinaryOp::Div => runs(a, b, y, |p, q| f32x4_div(p, q), |p, q| p / q),
        BinaryOp::Maximum => runs(a, b, y, |p, q| f32x4_max(p, q), nan_max),
        BinaryOp::Minimum => runs(a, b, y, |p, q| f32x4_min(p, q), nan_min),
        _ => return false,
    }
    true
}

fn runs(
    a: &Arg,
    b: &Arg,
    y: &Arg,
    lanes: impl Fn(v128, v128) -> v128 + Sync + Send,
    scalar: impl Fn(f32, f32) -> f32 + Sync + Send,
) {
    let (ap, bp, yp) = (
        Ptr(a.ptr.0 as *mut f32),
        Ptr(b.ptr.0 as *mut f32),
        Ptr(y.ptr.0 as *mut f32),
    );
    for_each_run(
        y.layout.dims(),
        [&y.layout.strides, &a.layout.strides, &b.layout.strides],
        [y.layout.offset, a.layout.offset, b.layout.offset],
        |o, n, s| {
            let (yq, aq, bq) = (yp.at(o[0]), ap.at(o[1]), bp.at(o[2]));
            let vector = s[0] == 1 && s[1] <= 1 && s[2] <= 1;
            let mut i = 0;
            if vector {
                // SAFETY: runs stay inside the views; a stride-0 operand is read at its one
                // element, splatted; unaligned v128 access is allowed. An output aliasing an
                // input has its layout, so each lane is read before it is written.
                unsafe {
                    let load = |q: *mut f32, st: usize, i: usize| {
                        if st == 0 {
                            f32x4_splat(*q)
                        } else {
                            v128_load(q.add(i) as *const v128)
                        }
                    };
                    while i + 4 <= n {
                        let v = lanes(load(aq, s[1], i), load(bq, s[2], i));
                        v128_store(yq.add(i) as *mut v128, v);
                        i += 4;
                    }
                }
            }
            while i < n {
                // SAFETY: i < n elements of each run.
                unsafe { *yq.add(i * s[0]) = scalar(*aq.add(i * s[1]), *bq.add(i * s[2])) };
                i += 1;
            }
        },
    );
}

/// `e^x` on four lanes: Cephes' `expf` (range reduction by ln 2 in two parts, a degree-5
/// polynomial), within 2 ulp of the exact value (tested against f64 in wasm/test). Inputs are
/// clamped to [-104, 89], where the result is already 0 or inf; NaN stays NaN. 2^n is applied
/// in two halves so subnormal and overflowing results round like one multiplication.
#[inline(always)]
fn exp4(x: v128) -> v128 {
    let x = f32x4_min(f32x4_max(x, f32x4_splat(-104.0)), f32x4_splat(89.0));
    let n = f32x4_nearest(f32x4_mul(x, f32x4_splat(core::f32::consts::LOG2_E)));
    let r = f32x4_sub(x, f32x4_mul(n, f32x4_splat(0.693_359_4)));
    let r = f32x4_sub(r, f32x4_mul(n, f32x4_splat(-2.121_944_4e-4)));
    // Horner written out, no closures: at opt-level "z" neither a loop nor a closure call
    // over the coefficients is unrolled or inlined.
    let mut p = f32x4_splat(1.987_569_1e-4);
    p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.398_2e-3));
    p = f32x4_add(f32x4_mul(p, r), f32x4_splat(8.333_452e-3));
    p = f32x4_add(f32x4_mul(p, r), f32x4_splat(4.166_579_6e-2));
    p = f32x4_add(f32x4_mul(p, r), f32x4_splat(1.666_666_5e-1));
    p = f32x4_add(f32x4_mul(p, r), f32x4_splat(0.5));
    let p = f32x4_add(
        f32x4_add(f32x4_mul(f32x4_mul(p, r), r), r),
        f32x4_splat(1.0),
    );
    // NaN converts to 0: its lanes stay NaN through p.
    let ni = i32x4_trunc_sat_f32x4(n);
    let half = i32x4_shr(ni, 1);
    let bias = i32x4_splat(127);
    let s1 = i32x4_shl(i32x4_add(half, bias), 23);
    let s2 = i32x4_shl(i32x4_add(i32x4_sub(ni, half), bias), 23);
    f32x4_mul(f32x4_mul(p, s1), s2)
}
