//! Elementwise CPU kernels: copy, cast, fill, iota, unary, binary, where, random.

use super::elem::{Flt, Num};
use super::walk::{for_each_run, par_range, Ptr};
use super::Arg;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, Distribution, UnaryOp};
use crate::rng;
use core::sync::atomic::{AtomicBool, Ordering};
#[cfg(not(feature = "compact"))]
use half::{bf16, f16};

/// Runs `$body` with `$T` bound to the Rust type of `$dt`.
macro_rules! with_type {
    ($dt:expr, $T:ident => $body:expr) => {
        match $dt {
            DType::Bool => {
                type $T = bool;
                $body
            }
            DType::U8 => {
                type $T = u8;
                $body
            }
            DType::I8 => {
                type $T = i8;
                $body
            }
            DType::I32 => {
                type $T = i32;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            DType::F16 => {
                type $T = half::f16;
                $body
            }
            DType::BF16 => {
                type $T = half::bf16;
                $body
            }
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}
pub(crate) use with_type;

/// Runs `$body` with `$T` bound to an unsigned integer of `$dt`'s size: for kernels that only
/// move elements (copy, where, gather), one instance per element size instead of per dtype.
macro_rules! with_bits {
    ($dt:expr, $T:ident => $body:expr) => {
        match $dt.size() {
            1 => {
                type $T = u8;
                $body
            }
            2 => {
                type $T = u16;
                $body
            }
            4 => {
                type $T = u32;
                $body
            }
            _ => {
                type $T = u64;
                $body
            }
        }
    };
}
pub(crate) use with_bits;

/// `y = f(x)` over two views of one shape.
pub fn map1<T: Copy, U: Copy>(x: &Arg, y: &Arg, f: impl Fn(T) -> U + Sync + Send) {
    let xp = Ptr(x.ptr.0 as *mut T);
    let yp = Ptr(y.ptr.0 as *mut U);
    for_each_run(
        y.layout.dims(),
        [&y.layout.strides, &x.layout.strides],
        [y.layout.offset, x.layout.offset],
        |o, n, s| {
            let (yq, xq) = (yp.at(o[0]), xp.at(o[1]) as *const T);
            // SAFETY: runs stay inside both views; an aliased output has the input's layout,
            // so each element is read before it is written.
            unsafe {
                if s == [1, 1] {
                    for i in 0..n {
                        *yq.add(i) = f(*xq.add(i));
                    }
                } else {
                    for i in 0..n {
                        *yq.add(i * s[0]) = f(*xq.add(i * s[1]));
                    }
                }
            }
        },
    );
}

/// `y = f(a, b)` over three views of one shape.
pub fn map2<A: Copy, B: Copy, U: Copy>(
    a: &Arg,
    b: &Arg,
    y: &Arg,
    f: impl Fn(A, B) -> U + Sync + Send,
) {
    let ap = Ptr(a.ptr.0 as *mut A);
    let bp = Ptr(b.ptr.0 as *mut B);
    let yp = Ptr(y.ptr.0 as *mut U);
    for_each_run(
        y.layout.dims(),
        [&y.layout.strides, &a.layout.strides, &b.layout.strides],
        [y.layout.offset, a.layout.offset, b.layout.offset],
        |o, n, s| {
            let (yq, aq, bq) = (
                yp.at(o[0]),
                ap.at(o[1]) as *const A,
                bp.at(o[2]) as *const B,
            );
            // SAFETY: as in `map1`.
            unsafe {
                match s {
                    [1, 1, 1] => {
                        for i in 0..n {
                            *yq.add(i) = f(*aq.add(i), *bq.add(i));
                        }
                    }
                    [1, 1, 0] => {
                        let bv = *bq;
                        for i in 0..n {
                            *yq.add(i) = f(*aq.add(i), bv);
                        }
                    }
                    [1, 0, 1] => {
                        let av = *aq;
                        for i in 0..n {
                            *yq.add(i) = f(av, *bq.add(i));
                        }
                    }
                    _ => {
                        for i in 0..n {
                            *yq.add(i * s[0]) = f(*aq.add(i * s[1]), *bq.add(i * s[2]));
                        }
                    }
                }
            }
        },
    );
}

/// `y = f(c, a, b)` over four views of one shape.
pub fn map3<C: Copy, A: Copy, B: Copy, U: Copy>(
    c: &Arg,
    a: &Arg,
    b: &Arg,
    y: &Arg,
    f: impl Fn(C, A, B) -> U + Sync + Send,
) {
    let cp = Ptr(c.ptr.0 as *mut C);
    let ap = Ptr(a.ptr.0 as *mut A);
    let bp = Ptr(b.ptr.0 as *mut B);
    let yp = Ptr(y.ptr.0 as *mut U);
    for_each_run(
        y.layout.dims(),
        [
            &y.layout.strides,
            &c.layout.strides,
            &a.layout.strides,
            &b.layout.strides,
        ],
        [
            y.layout.offset,
            c.layout.offset,
            a.layout.offset,
            b.layout.offset,
        ],
        |o, n, s| {
            let yq = yp.at(o[0]);
            let (cq, aq, bq) = (cp.at(o[1]), ap.at(o[2]), bp.at(o[3]));
            // SAFETY: as in `map1`.
            unsafe {
                // Unit strides (a scalar third operand too: relu's backward) vectorise into
                // blends; the strided loop is a mispredicted branch per element on a mask.
                match s {
                    [1, 1, 1, 1] => {
                        for i in 0..n {
                            *yq.add(i) = f(*cq.add(i), *aq.add(i), *bq.add(i));
                        }
                    }
                    [1, 1, 1, 0] => {
                        let bv = *bq;
                        for i in 0..n {
                            *yq.add(i) = f(*cq.add(i), *aq.add(i), bv);
                        }
                    }
                    _ => {
                        for i in 0..n {
                            *yq.add(i * s[0]) =
                                f(*cq.add(i * s[1]), *aq.add(i * s[2]), *bq.add(i * s[3]));
                        }
                    }
                }
            }
        },
    );
}

/// Strided copy of one dtype.
pub fn copy(x: &Arg, y: &Arg) {
    with_bits!(x.dtype, T => map1::<T, T>(x, y, |v| v))
}

/// A cast between any two dtypes with PyTorch's conversions.
pub fn cast(x: &Arg, y: &Arg) {
    #[cfg(not(feature = "compact"))]
    with_type!(x.dtype, S => with_type!(y.dtype, D => map1::<S, D>(x, y, cast_one::<S, D>)));
    #[cfg(feature = "compact")]
    super::compact::cast(x, y);
}

#[inline(always)]
pub(super) fn cast_one<S: Num, D: Num>(s: S) -> D {
    if D::IS_FLOAT {
        if S::IS_FLOAT {
            D::from_f64(s.to_f64())
        } else {
            D::from_f64(s.to_i64() as f64)
        }
    } else if S::IS_FLOAT {
        // Bool from float is "nonzero"; NaN is true, as in PyTorch.
        if D::highest().to_i64() == 1 {
            D::from_i64((s.to_f64() != 0.0) as i64)
        } else {
            D::from_i64(s.to_f64() as i64)
        }
    } else if D::highest().to_i64() == 1 {
        D::from_i64((s.to_i64() != 0) as i64)
    } else {
        D::from_i64(s.to_i64())
    }
}

/// Sets every element to the scalar.
pub fn fill(y: &Arg, v: Scalar) {
    // The value in the dtype, as its bytes; the loop runs once per element size.
    let mut bytes = [0u8; 8];
    with_type!(y.dtype, T => {
        let val: T = match v {
            Scalar::Float(f) => <T as Num>::from_f64(f),
            Scalar::Int(i) => <T as Num>::from_i64(i),
            Scalar::Bool(b) => <T as Num>::from_i64(b as i64),
        };
        // SAFETY: a dtype is at most 8 bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(
                core::ptr::from_ref(&val).cast::<u8>(),
                bytes.as_mut_ptr(),
                core::mem::size_of::<T>(),
            )
        }
    });
    with_bits!(y.dtype, B => {
        // SAFETY: `B` has the dtype's size, so these are exactly the value's bytes.
        let val = unsafe { core::ptr::read_unaligned(bytes.as_ptr() as *const B) };
        let yp = Ptr(y.ptr.0 as *mut B);
        for_each_run(y.layout.dims(), [&y.layout.strides], [y.layout.offset], |o, n, s| {
            let q = yp.at(o[0]);
            // SAFETY: runs stay inside the view.
            unsafe { for i in 0..n { *q.add(i * s[0]) = val; } }
        });
    })
}

/// `y[i] = start + i * step` on a 1-D view.
pub fn iota(y: &Arg, start: f64, step: f64) {
    with_type!(y.dtype, T => {
        let yp = Ptr(y.ptr.0 as *mut T);
        let (n, st, off) = (y.layout.numel(), y.layout.strides.first().copied().unwrap_or(1), y.layout.offset);
        let int = !<T as Num>::IS_FLOAT;
        par_range(n, n, |i| {
            let v = start + i as f64 * step;
            let v = if int { <T as Num>::from_i64(v as i64) } else { <T as Num>::from_f64(v) };
            // SAFETY: i < n elements of the view.
            unsafe { *yp.at(off + i * st) = v }
        });
    })
}

fn unsupported(op: &'static str, dt: DType) -> Error {
    Error::Unsupported {
        op,
        dtype: alloc::string::String::from(dt.name()),
        device: alloc::string::String::from("cpu"),
    }
}

/// Float sign: -1, 0 or 1; NaN and ±0 pass through.
#[inline(always)]
fn fsign<T: Flt>(a: T) -> T {
    if a > T::zero() {
        T::one()
    } else if a < T::zero() {
        T::one().neg()
    } else {
        a
    }
}

/// The float unary ops, each as a closure handed to `$k!` (a loop, or a function pointer in
/// the `compact` build).
macro_rules! float_unary {
    ($op:expr, $dt:expr, $T:ty, $k:ident) => {{
        use UnaryOp::*;
        match $op {
            Neg => $k!(|a: $T| a.neg()),
            Abs => $k!(|a: $T| a.map(crate::math::fabsf, crate::math::fabs)),
            Sign => $k!(fsign::<$T>),
            Recip => $k!(|a: $T| <$T>::one().div(a)),
            Sqrt => $k!(|a: $T| a.map(crate::math::sqrtf, crate::math::sqrt)),
            Rsqrt => $k!(|a: $T| <$T>::one().div(a.map(crate::math::sqrtf, crate::math::sqrt))),
            Exp => $k!(|a: $T| a.map(crate::math::expf, crate::math::exp)),
            Exp2 => $k!(|a: $T| a.map(crate::math::exp2f, crate::math::exp2)),
            Expm1 => $k!(|a: $T| a.map(crate::math::expm1f, crate::math::expm1)),
            Log => $k!(|a: $T| a.map(crate::math::logf, crate::math::log)),
            Log2 => $k!(|a: $T| a.map(crate::math::log2f, crate::math::log2)),
            Log1p => $k!(|a: $T| a.map(crate::math::log1pf, crate::math::log1p)),
            Sin => $k!(|a: $T| a.map(crate::math::sinf, crate::math::sin)),
            Cos => $k!(|a: $T| a.map(crate::math::cosf, crate::math::cos)),
            Tanh => $k!(|a: $T| a.map(crate::math::tanhf, crate::math::tanh)),
            Erf => $k!(|a: $T| a.map(crate::math::erff, crate::math::erf)),
            Floor => $k!(|a: $T| a.map(crate::math::floorf, crate::math::floor)),
            Ceil => $k!(|a: $T| a.map(crate::math::ceilf, crate::math::ceil)),
            Round => $k!(|a: $T| a.map(crate::math::rintf, crate::math::rint)),
            Trunc => $k!(|a: $T| a.map(crate::math::truncf, crate::math::trunc)),
            LogicalNot => return Err(unsupported($op.name(), $dt)),
        }
    }};
}

/// One loop per op (the fast path).
fn unary_float<T: Flt>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! run {
        ($f:expr) => {
            map1(x, y, $f)
        };
    }
    float_unary!(op, x.dtype, T, run);
    Ok(())
}

/// One loop for every op, calling the op through a pointer (the `compact` build's f64).
#[cfg(feature = "compact")]
fn unary_float_ptr<T: Flt>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! ptr {
        ($f:expr) => {{
            let f: fn(T) -> T = $f;
            f
        }};
    }
    map1(x, y, float_unary!(op, x.dtype, T, ptr));
    Ok(())
}

/// Integer ops the float path does not need.
pub trait IntOps: Num {
    /// Truncating division; `None` on division by zero.
    fn div_(self, o: Self) -> Option<Self>;
    /// Python-style remainder (sign of the divisor); `None` on zero.
    fn rem_(self, o: Self) -> Option<Self>;
    /// Floor division; `None` on zero.
    fn floordiv_(self, o: Self) -> Option<Self>;
    /// `self ^ o`; `None` for a negative exponent.
    fn pow_(self, o: Self) -> Option<Self>;
    /// Wrapping negation.
    fn neg_(self) -> Self;
    /// Wrapping absolute value.
    fn abs_(self) -> Self;
    /// -1, 0 or 1.
    fn sign_(self) -> Self;
    /// Bitwise and.
    fn and_(self, o: Self) -> Self;
    /// Bitwise or.
    fn or_(self, o: Self) -> Self;
    /// Bitwise xor.
    fn xor_(self, o: Self) -> Self;
}

macro_rules! int_ops {
    ($($t:ty),*) => {$(
        impl IntOps for $t {
            #[inline(always)] fn div_(self, o: Self) -> Option<Self> { if o == 0 { None } else { Some(self.wrapping_div(o)) } }
            #[inline(always)] fn rem_(self, o: Self) -> Option<Self> {
                if o == 0 { return None; }
                let r = self.wrapping_rem(o);
                #[allow(unused_comparisons)]
                Some(if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r })
            }
            #[inline(always)] fn floordiv_(self, o: Self) -> Option<Self> {
                if o == 0 { return None; }
                let q = self.wrapping_div(o);
                #[allow(unused_comparisons)]
                Some(if self.wrapping_rem(o) != 0 && ((self < 0) != (o < 0)) { q.wrapping_sub(1) } else { q })
            }
            #[inline(always)] fn pow_(self, o: Self) -> Option<Self> {
                #[allow(unused_comparisons)]
                if o < 0 { return None; }
                Some(self.wrapping_pow(o as u32))
            }
            #[inline(always)] fn neg_(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[inline(always)] fn abs_(self) -> Self {
                #[allow(unused_comparisons)]
                if self < 0 { self.neg_() } else { self }
            }
            #[inline(always)] fn sign_(self) -> Self {
                #[allow(unused_comparisons)]
                if self > 0 { 1 } else if self < 0 { Self::from_i64(-1) } else { 0 }
            }
            #[inline(always)] fn and_(self, o: Self) -> Self { self & o }
            #[inline(always)] fn or_(self, o: Self) -> Self { self | o }
            #[inline(always)] fn xor_(self, o: Self) -> Self { self ^ o }
        }
    )*};
}
int_ops!(u8, i8, i32, i64);

/// The integer unary ops, each as a closure handed to `$k!`.
macro_rules! int_unary {
    ($op:expr, $dt:expr, $T:ty, $k:ident) => {{
        use UnaryOp::*;
        match $op {
            Neg => $k!(|a: $T| a.neg_()),
            Abs => $k!(|a: $T| a.abs_()),
            Sign => $k!(|a: $T| a.sign_()),
            Floor | Ceil | Round | Trunc => $k!(|a: $T| a),
            Recip | Sqrt | Rsqrt | Exp | Exp2 | Expm1 | Log | Log2 | Log1p | Sin | Cos | Tanh
            | Erf | LogicalNot => return Err(unsupported($op.name(), $dt)),
        }
    }};
}

#[cfg(not(feature = "compact"))]
fn unary_int<T: IntOps>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! run {
        ($f:expr) => {
            map1(x, y, $f)
        };
    }
    int_unary!(op, x.dtype, T, run);
    Ok(())
}

#[cfg(feature = "compact")]
fn unary_int_ptr<T: IntOps>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    macro_rules! ptr {
        ($f:expr) => {{
            let f: fn(T) -> T = $f;
            f
        }};
    }
    map1(x, y, int_unary!(op, x.dtype, T, ptr));
    Ok(())
}

/// Dispatches a unary op on the input's dtype.
pub fn unary(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    match x.dtype {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        DType::F32 if op == UnaryOp::Exp && super::simd128::exp(x, y) => Ok(()),
        DType::F32 => unary_float::<f32>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::F64 => unary_float::<f64>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::F16 => unary_float::<f16>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::BF16 => unary_float::<bf16>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::I32 => unary_int::<i32>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::I64 => unary_int::<i64>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::I8 => unary_int::<i8>(op, x, y),
        #[cfg(not(feature = "compact"))]
        DType::U8 => unary_int::<u8>(op, x, y),
        #[cfg(feature = "compact")]
        DType::F64 => unary_float_ptr::<f64>(op, x, y),
        #[cfg(feature = "compact")]
        DType::I64 => unary_int_ptr::<i64>(op, x, y),
        // f16/bf16 round after the square root, then after the division, as the direct
        // kernel does; the widened one would round once.
        #[cfg(feature = "compact")]
        DType::F16 | DType::BF16 if op == UnaryOp::Rsqrt => {
            unary(UnaryOp::Sqrt, x, y)?;
            unary(UnaryOp::Recip, y, y)
        }
        #[cfg(feature = "compact")]
        DType::F16 | DType::BF16 | DType::I32 | DType::I8 | DType::U8 => {
            super::compact::widened(x.dtype, &[x], y, &|a: &[&Arg], y: &Arg| unary(op, a[0], y))
        }
        DType::Bool => match op {
            UnaryOp::LogicalNot => {
                map1(x, y, |a: bool| !a);
                Ok(())
            }
            UnaryOp::Abs | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round | UnaryOp::Trunc => {
                map1(x, y, |a: bool| a);
                Ok(())
            }
            _ => Err(unsupported(op.name(), x.dtype)),
        },
    }
}

/// NaN-propagating max (`torch.maximum`).
#[inline(always)]
pub fn nan_max<T: Num>(a: T, b: T) -> T {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

/// `max(x, 0)` on f32, NaN propagating (`torch.relu`).
pub fn relu_f32(x: &Arg, y: &Arg) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if super::simd128::relu(x, y) {
        return;
    }
    map1(x, y, |a: f32| nan_max(a, 0.0))
}

/// NaN-propagating min (`torch.minimum`).
#[inline(always)]
pub fn nan_min<T: Num>(a: T, b: T) -> T {
    if a.is_nan() || a < b {
        a
    } else {
        b
    }
}

/// The comparisons, each as a closure handed to `$k!`.
macro_rules! cmp_ops {
    ($op:expr, $T:ty, $k:ident) => {
        match $op {
            BinaryOp::Eq => $k!(|p: $T, q: $T| p == q),
            BinaryOp::Ne => $k!(|p: $T, q: $T| p != q),
            BinaryOp::Lt => $k!(|p: $T, q: $T| p < q),
            BinaryOp::Le => $k!(|p: $T, q: $T| p <= q),
            BinaryOp::Gt => $k!(|p: $T, q: $T| p > q),
            _ => $k!(|p: $T, q: $T| p >= q),
        }
    };
}

fn cmp<T: Num>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) {
    macro_rules! run {
        ($f:expr) => {
            map2(a, b, y, $f)
        };
    }
    cmp_ops!(op, T, run)
}

#[cfg(feature = "compact")]
fn cmp_ptr<T: Num>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) {
    macro_rules! ptr {
        ($f:expr) => {{
            let f: fn(T, T) -> bool = $f;
            f
        }};
    }
    map2(a, b, y, cmp_ops!(op, T, ptr))
}

/// The float binary ops, each as a closure handed to `$k!`; comparisons go to `$cmp!()`.
macro_rules! float_binary {
    ($op:expr, $dt:expr, $T:ty, $k:ident, $cmp:ident) => {{
        use BinaryOp::*;
        match $op {
            Add => $k!(|p: $T, q: $T| p.add(q)),
            Sub => $k!(|p: $T, q: $T| p.sub(q)),
            Mul => $k!(|p: $T, q: $T| p.mul(q)),
            Div => $k!(|p: $T, q: $T| p.div(q)),
            // x^2 as x*x, as PyTorch's CPU kernel: exactly rounded, and no pow call per
            // element for the most common exponent.
            Pow => $k!(|p: $T, q: $T| {
                if q == <$T>::one().add(<$T>::one()) {
                    p.mul(p)
                } else {
                    p.map2(q, crate::math::powf, crate::math::pow)
                }
            }),
            Rem => $k!(|p: $T, q: $T| {
                let r = p.map2(q, crate::math::fmodf, crate::math::fmod);
                if r != <$T>::zero() && ((r < <$T>::zero()) != (q < <$T>::zero())) {
                    r.add(q)
                } else {
                    r
                }
            }),
            // One rounding: f16/bf16 divide and floor in f32 (as PyTorch's opmath), else
            // -0.5 / 0.1 rounds to -5.0 in f16 before the floor and gives -5, not -6.
            FloorDiv => $k!(|p: $T, q: $T| {
                p.map2(
                    q,
                    |x, y| crate::math::floorf(x / y),
                    |x, y| crate::math::floor(x / y),
                )
            }),
            Maximum => $k!(nan_max::<$T>),
            Minimum => $k!(nan_min::<$T>),
            Eq | Ne | Lt | Le | Gt | Ge => $cmp!(),
            LogicalAnd | LogicalOr | LogicalXor | BitAnd | BitOr | BitXor => {
                return Err(unsupported($op.name(), $dt))
            }
        }
    }};
}

fn binary_float<T: Flt>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    macro_rules! run {
        ($f:expr) => {
            map2(a, b, y, $f)
        };
    }
    macro_rules! cmp {
        () => {
            cmp::<T>(op, a, b, y)
        };
    }
    float_binary!(op, a.dtype, T, run, cmp);
    Ok(())
}

#[cfg(feature = "compact")]
fn binary_float_ptr<T: Flt>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    macro_rules! ptr {
        ($f:expr) => {{
            let f: fn(T, T) -> T = $f;
            f
        }};
    }
    macro_rules! cmp {
        () => {{
            cmp_ptr::<T>(op, a, b, y);
            return Ok(());
        }};
    }
    map2(a, b, y, float_binary!(op, a.dtype, T, ptr, cmp));
    Ok(())
}

/// The integer binary ops, each as a closure handed to `$plain!`, or to `$checked!` when it
/// returns `None` for an invalid pair; comparisons go to `$cmp!()`.
macro_rules! int_binary {
    ($op:expr, $dt:expr, $T:ty, $plain:ident, $checked:ident, $cmp:ident) => {{
        use BinaryOp::*;
        match $op {
            Add => $plain!(|p: $T, q: $T| p.add(q)),
            Sub => $plain!(|p: $T, q: $T| p.sub(q)),
            Mul => $plain!(|p: $T, q: $T| p.mul(q)),
            Div => $checked!(|p: $T, q: $T| p.div_(q)),
            Rem => $checked!(|p: $T, q: $T| p.rem_(q)),
            FloorDiv => $checked!(|p: $T, q: $T| p.floordiv_(q)),
            Pow => $checked!(|p: $T, q: $T| p.pow_(q)),
            Maximum => $plain!(nan_max::<$T>),
            Minimum => $plain!(nan_min::<$T>),
            Eq | Ne | Lt | Le | Gt | Ge => $cmp!(),
            BitAnd => $plain!(|p: $T, q: $T| p.and_(q)),
            BitOr => $plain!(|p: $T, q: $T| p.or_(q)),
            BitXor => $plain!(|p: $T, q: $T| p.xor_(q)),
            LogicalAnd | LogicalOr | LogicalXor => return Err(unsupported($op.name(), $dt)),
        }
    }};
}

/// The error of a checked integer op that hit an invalid pair.
fn int_error(op: BinaryOp) -> Error {
    Error::Arg {
        op: op.name(),
        msg: alloc::string::String::from(match op {
            BinaryOp::Pow => "integers to negative integer powers are not allowed",
            _ => "integer division by zero",
        }),
    }
}

#[cfg(not(feature = "compact"))]
fn binary_int<T: IntOps>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    let bad = AtomicBool::new(false);
    let checked = |r: Option<T>| {
        r.unwrap_or_else(|| {
            bad.store(true, Ordering::Relaxed);
            T::zero()
        })
    };
    macro_rules! plain {
        ($f:expr) => {
            map2(a, b, y, $f)
        };
    }
    macro_rules! checked {
        ($f:expr) => {{
            let f = $f;
            map2(a, b, y, |p: T, q: T| checked(f(p, q)))
        }};
    }
    macro_rules! cmp {
        () => {
            cmp::<T>(op, a, b, y)
        };
    }
    int_binary!(op, a.dtype, T, plain, checked, cmp);
    if bad.load(Ordering::Relaxed) {
        return Err(int_error(op));
    }
    Ok(())
}

#[cfg(feature = "compact")]
fn binary_int_ptr<T: IntOps>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    enum F<T> {
        Plain(fn(T, T) -> T),
        Checked(fn(T, T) -> Option<T>),
    }
    macro_rules! plain {
        ($f:expr) => {
            F::Plain($f)
        };
    }
    macro_rules! checked {
        ($f:expr) => {
            F::Checked($f)
        };
    }
    macro_rules! cmp {
        () => {{
            cmp_ptr::<T>(op, a, b, y);
            return Ok(());
        }};
    }
    match int_binary!(op, a.dtype, T, plain, checked, cmp) {
        F::Plain(f) => map2(a, b, y, f),
        F::Checked(f) => {
            let bad = AtomicBool::new(false);
            map2(a, b, y, |p: T, q: T| {
                f(p, q).unwrap_or_else(|| {
                    bad.store(true, Ordering::Relaxed);
                    T::zero()
                })
            });
            if bad.load(Ordering::Relaxed) {
                return Err(int_error(op));
            }
        }
    }
    Ok(())
}

fn binary_bool(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    use BinaryOp::*;
    match op {
        LogicalAnd | BitAnd | Mul | Minimum => map2(a, b, y, |p: bool, q: bool| p & q),
        LogicalOr | BitOr | Add | Maximum => map2(a, b, y, |p: bool, q: bool| p | q),
        LogicalXor | BitXor => map2(a, b, y, |p: bool, q: bool| p ^ q),
        #[cfg(not(feature = "compact"))]
        Eq | Ne | Lt | Le | Gt | Ge => cmp::<bool>(op, a, b, y),
        #[cfg(feature = "compact")]
        Eq | Ne | Lt | Le | Gt | Ge => cmp_ptr::<bool>(op, a, b, y),
        Sub | Div | Pow | Rem | FloorDiv => return Err(unsupported(op.name(), a.dtype)),
    }
    Ok(())
}

/// Dispatches a binary op on the inputs' dtype.
pub fn binary(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    match a.dtype {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        DType::F32 if super::simd128::binary_f32(op, a, b, y) => Ok(()),
        DType::F32 => binary_float::<f32>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::F64 => binary_float::<f64>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::F16 => binary_float::<f16>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::BF16 => binary_float::<bf16>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::I32 => binary_int::<i32>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::I64 => binary_int::<i64>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::I8 => binary_int::<i8>(op, a, b, y),
        #[cfg(not(feature = "compact"))]
        DType::U8 => binary_int::<u8>(op, a, b, y),
        #[cfg(feature = "compact")]
        DType::F64 => binary_float_ptr::<f64>(op, a, b, y),
        #[cfg(feature = "compact")]
        DType::I64 => binary_int_ptr::<i64>(op, a, b, y),
        #[cfg(feature = "compact")]
        DType::F16 | DType::BF16 | DType::I32 | DType::I8 | DType::U8 => {
            let f = |ab: &[&Arg], y: &Arg| binary(op, ab[0], ab[1], y);
            super::compact::widened(a.dtype, &[a, b], y, &f)
        }
        DType::Bool => binary_bool(op, a, b, y),
    }
}

/// `y = cond ? a : b`.
pub fn where_(c: &Arg, a: &Arg, b: &Arg, y: &Arg) {
    with_bits!(a.dtype, T => map3(c, a, b, y, |c: bool, p: T, q: T| if c { p } else { q }))
}

/// A uniform draw in `[low, high)` before rounding to the dtype.
#[inline(always)]
fn uniform_value(w: [u32; 4], low: f64, high: f64, f64_path: bool) -> f64 {
    if f64_path {
        low + rng::unit_f64(w[0], w[1]) * (high - low)
    } else {
        let v = rng::uniform_f32(w[0], low as f32, (high - low) as f32) as f64;
        // Rounding can land on `high`; keep the interval half-open.
        if v >= high {
            low
        } else {
            v
        }
    }
}

/// Rounds a uniform draw to the dtype; rounding (f16, bf16) can land on `high` too.
#[inline(always)]
fn uniform_round<T: Num>(v: f64, low: f64, high: f64) -> T {
    let t = T::from_f64(v);
    if t.to_f64() >= high {
        T::from_f64(low)
    } else {
        t
    }
}

/// A normal draw before rounding to the dtype.
#[inline(always)]
fn normal_value(w: [u32; 4], mean: f64, std: f64, f64_path: bool) -> f64 {
    let z = if f64_path {
        rng::normal_f64(w)
    } else {
        rng::normal_f32(w) as f64
    };
    mean + std * z
}

/// A Bernoulli draw.
#[inline(always)]
fn bernoulli_value(w: [u32; 4], p: f64, f64_path: bool) -> bool {
    if f64_path {
        rng::unit_f64(w[0], w[1]) < p
    } else {
        (rng::unit_f32(w[0]) as f64) < p
    }
}

/// Fills a contiguous view from the Philox stream.
pub fn random(y: &Arg, dist: Distribution, seed: u64, offset: u64) -> Result<()> {
    fn run<T: Num>(y: &Arg, f: impl Fn(u64) -> T + Sync + Send) {
        let yp = Ptr(y.ptr.0 as *mut T);
        let n = y.layout.numel();
        let off = y.layout.offset;
        par_range(n, n * 16, |i| {
            // SAFETY: the view is contiguous with n elements.
            unsafe { *yp.at(off + i) = f(i as u64) }
        });
    }
    let f64_path = y.dtype == DType::F64;
    macro_rules! go {
        ($T:ty) => {
            match dist {
                Distribution::Uniform { low, high } => run::<$T>(y, |i| {
                    let v = uniform_value(rng::philox_at(seed, offset, i), low, high, f64_path);
                    uniform_round::<$T>(v, low, high)
                }),
                Distribution::Normal { mean, std } => run::<$T>(y, |i| {
                    let w = rng::philox_at(seed, offset, i);
                    <$T as Num>::from_f64(normal_value(w, mean, std, f64_path))
                }),
                Distribution::Bernoulli { p } => run::<$T>(y, |i| {
                    let hit = bernoulli_value(rng::philox_at(seed, offset, i), p, f64_path);
                    <$T as Num>::from_i64(hit as i64)
                }),
            }
        };
    }
    match y.dtype {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        #[cfg(not(feature = "compact"))]
        DType::F16 => go!(f16),
        #[cfg(not(feature = "compact"))]
        DType::BF16 => go!(bf16),
        #[cfg(not(feature = "compact"))]
        DType::Bool => go!(bool),
        #[cfg(not(feature = "compact"))]
        DType::U8 => go!(u8),
        #[cfg(not(feature = "compact"))]
        DType::I8 => go!(i8),
        #[cfg(not(feature = "compact"))]
        DType::I32 => go!(i32),
        #[cfg(not(feature = "compact"))]
        DType::I64 => go!(i64),
        // One loop for the other dtypes, rounding each draw through a dtype switch.
        #[cfg(feature = "compact")]
        _ => {
            let off = y.layout.offset;
            for i in 0..y.layout.numel() {
                let w = rng::philox_at(seed, offset, i as u64);
                with_type!(y.dtype, T => {
                    let t: T = match dist {
                        Distribution::Uniform { low, high } => {
                            uniform_round(uniform_value(w, low, high, false), low, high)
                        }
                        Distribution::Normal { mean, std } => {
                            T::from_f64(normal_value(w, mean, std, false))
                        }
                        Distribution::Bernoulli { p } => {
                            T::from_i64(bernoulli_value(w, p, false) as i64)
                        }
                    };
                    // SAFETY: the view is contiguous with numel elements.
                    unsafe { *(y.ptr.0 as *mut T).add(off + i) = t }
                })
            }
        }
    }
    Ok(())
}
