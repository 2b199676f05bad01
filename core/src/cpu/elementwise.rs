//! Elementwise CPU kernels: copy, cast, fill, iota, unary, binary, where, random.

use super::elem::{Flt, Num};
use super::walk::{for_each_run, par_range, Ptr};
use super::Arg;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::ops::{BinaryOp, Distribution, UnaryOp};
use crate::rng;
use core::sync::atomic::{AtomicBool, Ordering};
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
    with_type!(x.dtype, T => map1::<T, T>(x, y, |v| v))
}

/// A cast between any two dtypes with PyTorch's conversions.
pub fn cast(x: &Arg, y: &Arg) {
    with_type!(x.dtype, S => with_type!(y.dtype, D => map1::<S, D>(x, y, cast_one::<S, D>)))
}

#[inline(always)]
fn cast_one<S: Num, D: Num>(s: S) -> D {
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
    with_type!(y.dtype, T => {
        let val: T = match v {
            Scalar::Float(f) => <T as Num>::from_f64(f),
            Scalar::Int(i) => <T as Num>::from_i64(i),
            Scalar::Bool(b) => <T as Num>::from_i64(b as i64),
        };
        let yp = Ptr(y.ptr.0 as *mut T);
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

fn unary_float<T: Flt>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    use UnaryOp::*;
    match op {
        Neg => map1(x, y, |a: T| a.neg()),
        Abs => map1(x, y, |a: T| a.map(libm::fabsf, libm::fabs)),
        Sign => map1(x, y, fsign::<T>),
        Recip => map1(x, y, |a: T| T::one().div(a)),
        Sqrt => map1(x, y, |a: T| a.map(libm::sqrtf, libm::sqrt)),
        Rsqrt => map1(x, y, |a: T| T::one().div(a.map(libm::sqrtf, libm::sqrt))),
        Exp => map1(x, y, |a: T| a.map(libm::expf, libm::exp)),
        Exp2 => map1(x, y, |a: T| a.map(libm::exp2f, libm::exp2)),
        Expm1 => map1(x, y, |a: T| a.map(libm::expm1f, libm::expm1)),
        Log => map1(x, y, |a: T| a.map(libm::logf, libm::log)),
        Log2 => map1(x, y, |a: T| a.map(libm::log2f, libm::log2)),
        Log1p => map1(x, y, |a: T| a.map(libm::log1pf, libm::log1p)),
        Sin => map1(x, y, |a: T| a.map(libm::sinf, libm::sin)),
        Cos => map1(x, y, |a: T| a.map(libm::cosf, libm::cos)),
        Tanh => map1(x, y, |a: T| a.map(libm::tanhf, libm::tanh)),
        Erf => map1(x, y, |a: T| a.map(libm::erff, libm::erf)),
        Floor => map1(x, y, |a: T| a.map(libm::floorf, libm::floor)),
        Ceil => map1(x, y, |a: T| a.map(libm::ceilf, libm::ceil)),
        Round => map1(x, y, |a: T| a.map(libm::rintf, libm::rint)),
        Trunc => map1(x, y, |a: T| a.map(libm::truncf, libm::trunc)),
        LogicalNot => return Err(unsupported(op.name(), x.dtype)),
    }
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

fn unary_int<T: IntOps>(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    use UnaryOp::*;
    match op {
        Neg => map1(x, y, |a: T| a.neg_()),
        Abs => map1(x, y, |a: T| a.abs_()),
        Sign => map1(x, y, |a: T| a.sign_()),
        Floor | Ceil | Round | Trunc => map1(x, y, |a: T| a),
        Recip | Sqrt | Rsqrt | Exp | Exp2 | Expm1 | Log | Log2 | Log1p | Sin | Cos | Tanh | Erf
        | LogicalNot => return Err(unsupported(op.name(), x.dtype)),
    }
    Ok(())
}

/// Dispatches a unary op on the input's dtype.
pub fn unary(op: UnaryOp, x: &Arg, y: &Arg) -> Result<()> {
    match x.dtype {
        DType::F32 => unary_float::<f32>(op, x, y),
        DType::F64 => unary_float::<f64>(op, x, y),
        DType::F16 => unary_float::<f16>(op, x, y),
        DType::BF16 => unary_float::<bf16>(op, x, y),
        DType::I32 => unary_int::<i32>(op, x, y),
        DType::I64 => unary_int::<i64>(op, x, y),
        DType::I8 => unary_int::<i8>(op, x, y),
        DType::U8 => unary_int::<u8>(op, x, y),
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

/// NaN-propagating min (`torch.minimum`).
#[inline(always)]
pub fn nan_min<T: Num>(a: T, b: T) -> T {
    if a.is_nan() || a < b {
        a
    } else {
        b
    }
}

fn cmp<T: Num>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) {
    match op {
        BinaryOp::Eq => map2(a, b, y, |p: T, q: T| p == q),
        BinaryOp::Ne => map2(a, b, y, |p: T, q: T| p != q),
        BinaryOp::Lt => map2(a, b, y, |p: T, q: T| p < q),
        BinaryOp::Le => map2(a, b, y, |p: T, q: T| p <= q),
        BinaryOp::Gt => map2(a, b, y, |p: T, q: T| p > q),
        _ => map2(a, b, y, |p: T, q: T| p >= q),
    }
}

fn binary_float<T: Flt>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    use BinaryOp::*;
    match op {
        Add => map2(a, b, y, |p: T, q: T| p.add(q)),
        Sub => map2(a, b, y, |p: T, q: T| p.sub(q)),
        Mul => map2(a, b, y, |p: T, q: T| p.mul(q)),
        Div => map2(a, b, y, |p: T, q: T| p.div(q)),
        Pow => map2(a, b, y, |p: T, q: T| p.map2(q, libm::powf, libm::pow)),
        Rem => map2(a, b, y, |p: T, q: T| {
            let r = p.map2(q, libm::fmodf, libm::fmod);
            if r != T::zero() && ((r < T::zero()) != (q < T::zero())) {
                r.add(q)
            } else {
                r
            }
        }),
        // One rounding: f16/bf16 divide and floor in f32 (as PyTorch's opmath), else
        // -0.5 / 0.1 rounds to -5.0 in f16 before the floor and gives -5, not -6.
        FloorDiv => map2(a, b, y, |p: T, q: T| {
            p.map2(q, |x, y| libm::floorf(x / y), |x, y| libm::floor(x / y))
        }),
        Maximum => map2(a, b, y, nan_max::<T>),
        Minimum => map2(a, b, y, nan_min::<T>),
        Eq | Ne | Lt | Le | Gt | Ge => cmp::<T>(op, a, b, y),
        LogicalAnd | LogicalOr | LogicalXor | BitAnd | BitOr | BitXor => {
            return Err(unsupported(op.name(), a.dtype))
        }
    }
    Ok(())
}

fn binary_int<T: IntOps>(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    use BinaryOp::*;
    let bad = AtomicBool::new(false);
    let checked = |r: Option<T>| {
        r.unwrap_or_else(|| {
            bad.store(true, Ordering::Relaxed);
            T::zero()
        })
    };
    match op {
        Add => map2(a, b, y, |p: T, q: T| p.add(q)),
        Sub => map2(a, b, y, |p: T, q: T| p.sub(q)),
        Mul => map2(a, b, y, |p: T, q: T| p.mul(q)),
        Div => map2(a, b, y, |p: T, q: T| checked(p.div_(q))),
        Rem => map2(a, b, y, |p: T, q: T| checked(p.rem_(q))),
        FloorDiv => map2(a, b, y, |p: T, q: T| checked(p.floordiv_(q))),
        Pow => map2(a, b, y, |p: T, q: T| checked(p.pow_(q))),
        Maximum => map2(a, b, y, nan_max::<T>),
        Minimum => map2(a, b, y, nan_min::<T>),
        Eq | Ne | Lt | Le | Gt | Ge => cmp::<T>(op, a, b, y),
        BitAnd => map2(a, b, y, |p: T, q: T| p.and_(q)),
        BitOr => map2(a, b, y, |p: T, q: T| p.or_(q)),
        BitXor => map2(a, b, y, |p: T, q: T| p.xor_(q)),
        LogicalAnd | LogicalOr | LogicalXor => return Err(unsupported(op.name(), a.dtype)),
    }
    if bad.load(Ordering::Relaxed) {
        return Err(Error::Arg {
            op: op.name(),
            msg: alloc::string::String::from(match op {
                Pow => "integers to negative integer powers are not allowed",
                _ => "integer division by zero",
            }),
        });
    }
    Ok(())
}

fn binary_bool(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    use BinaryOp::*;
    match op {
        LogicalAnd | BitAnd | Mul | Minimum => map2(a, b, y, |p: bool, q: bool| p & q),
        LogicalOr | BitOr | Add | Maximum => map2(a, b, y, |p: bool, q: bool| p | q),
        LogicalXor | BitXor => map2(a, b, y, |p: bool, q: bool| p ^ q),
        Eq | Ne | Lt | Le | Gt | Ge => cmp::<bool>(op, a, b, y),
        Sub | Div | Pow | Rem | FloorDiv => return Err(unsupported(op.name(), a.dtype)),
    }
    Ok(())
}

/// Dispatches a binary op on the inputs' dtype.
pub fn binary(op: BinaryOp, a: &Arg, b: &Arg, y: &Arg) -> Result<()> {
    match a.dtype {
        DType::F32 => binary_float::<f32>(op, a, b, y),
        DType::F64 => binary_float::<f64>(op, a, b, y),
        DType::F16 => binary_float::<f16>(op, a, b, y),
        DType::BF16 => binary_float::<bf16>(op, a, b, y),
        DType::I32 => binary_int::<i32>(op, a, b, y),
        DType::I64 => binary_int::<i64>(op, a, b, y),
        DType::I8 => binary_int::<i8>(op, a, b, y),
        DType::U8 => binary_int::<u8>(op, a, b, y),
        DType::Bool => binary_bool(op, a, b, y),
    }
}

/// `y = cond ? a : b`.
pub fn where_(c: &Arg, a: &Arg, b: &Arg, y: &Arg) {
    with_type!(a.dtype, T => map3(c, a, b, y, |c: bool, p: T, q: T| if c { p } else { q }))
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
                    let w = rng::philox_at(seed, offset, i);
                    let v = if f64_path {
                        low + rng::unit_f64(w[0], w[1]) * (high - low)
                    } else {
                        let v = rng::uniform_f32(w[0], low as f32, (high - low) as f32) as f64;
                        // Rounding can land on `high`; keep the interval half-open.
                        if v >= high {
                            low
                        } else {
                            v
                        }
                    };
                    // Rounding to the dtype (f16, bf16) can land on `high` too.
                    let t = <$T as Num>::from_f64(v);
                    if <$T as Num>::to_f64(t) >= high {
                        <$T as Num>::from_f64(low)
                    } else {
                        t
                    }
                }),
                Distribution::Normal { mean, std } => run::<$T>(y, |i| {
                    let w = rng::philox_at(seed, offset, i);
                    let z = if f64_path {
                        rng::normal_f64(w)
                    } else {
                        rng::normal_f32(w) as f64
                    };
                    <$T as Num>::from_f64(mean + std * z)
                }),
                Distribution::Bernoulli { p } => run::<$T>(y, |i| {
                    let w = rng::philox_at(seed, offset, i);
                    let hit = if f64_path {
                        rng::unit_f64(w[0], w[1]) < p
                    } else {
                        (rng::unit_f32(w[0]) as f64) < p
                    };
                    <$T as Num>::from_i64(hit as i64)
                }),
            }
        };
    }
    match y.dtype {
        DType::F32 => go!(f32),
        DType::F64 => go!(f64),
        DType::F16 => go!(f16),
        DType::BF16 => go!(bf16),
        DType::Bool => go!(bool),
        DType::U8 => go!(u8),
        DType::I8 => go!(i8),
        DType::I32 => go!(i32),
        DType::I64 => go!(i64),
    }
    Ok(())
}
