//! Element traits for the CPU kernels: arithmetic on every dtype, float math through libm
//! (f16/bf16 compute in f32).

use half::{bf16, f16};

/// An element the CPU kernels can compute with.
pub trait Num: Copy + Send + Sync + PartialOrd + 'static {
    /// True for float types.
    const IS_FLOAT: bool;
    /// Additive identity.
    fn zero() -> Self;
    /// Multiplicative identity.
    fn one() -> Self;
    /// `self + o` (wrapping for ints).
    fn add(self, o: Self) -> Self;
    /// `self - o` (wrapping for ints).
    fn sub(self, o: Self) -> Self;
    /// `self * o` (wrapping for ints).
    fn mul(self, o: Self) -> Self;
    /// Lossy conversion to f64.
    fn to_f64(self) -> f64;
    /// Conversion from f64 (`as` semantics).
    fn from_f64(x: f64) -> Self;
    /// Conversion to i64 (floats truncate).
    fn to_i64(self) -> i64;
    /// Conversion from i64 (`as` semantics).
    fn from_i64(x: i64) -> Self;
    /// NaN test (false for ints).
    fn is_nan(self) -> bool;
    /// The smallest value (-inf for floats).
    fn lowest() -> Self;
    /// The largest value (+inf for floats).
    fn highest() -> Self;
}

/// Float math.
pub trait Flt: Num {
    /// Applies a libm function pair: `f32` for 32-bit and smaller types, `f64` for f64.
    fn map(self, f32f: fn(f32) -> f32, f64f: fn(f64) -> f64) -> Self;
    /// Applies a binary libm function pair.
    fn map2(self, o: Self, f32f: fn(f32, f32) -> f32, f64f: fn(f64, f64) -> f64) -> Self;
    /// `self / o`.
    fn div(self, o: Self) -> Self;
    /// `-self`.
    fn neg(self) -> Self;
}

macro_rules! num_int {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const IS_FLOAT: bool = false;
            #[inline(always)] fn zero() -> Self { 0 }
            #[inline(always)] fn one() -> Self { 1 }
            #[inline(always)] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline(always)] fn to_f64(self) -> f64 { self as f64 }
            #[inline(always)] fn from_f64(x: f64) -> Self { x as $t }
            #[inline(always)] fn to_i64(self) -> i64 { self as i64 }
            #[inline(always)] fn from_i64(x: i64) -> Self { x as $t }
            #[inline(always)] fn is_nan(self) -> bool { false }
            #[inline(always)] fn lowest() -> Self { <$t>::MIN }
            #[inline(always)] fn highest() -> Self { <$t>::MAX }
        }
    )*};
}
num_int!(u8, i8, i32, i64);

impl Num for bool {
    const IS_FLOAT: bool = false;
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
    fn add(self, o: Self) -> Self {
        self | o
    }
    fn sub(self, o: Self) -> Self {
        self ^ o
    }
    fn mul(self, o: Self) -> Self {
        self & o
    }
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
    fn from_i64(x: i64) -> Self {
        x != 0
    }
    fn is_nan(self) -> bool {
        false
    }
    fn lowest() -> Self {
        false
    }
    fn highest() -> Self {
        true
    }
}

macro_rules! num_float {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const IS_FLOAT: bool = true;
            #[inline(always)] fn zero() -> Self { 0.0 }
            #[inline(always)] fn one() -> Self { 1.0 }
            #[inline(always)] fn add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
            #[inline(always)] fn to_f64(self) -> f64 { self as f64 }
            #[inline(always)] fn from_f64(x: f64) -> Self { x as $t }
            #[inline(always)] fn to_i64(self) -> i64 { self as i64 }
            #[inline(always)] fn from_i64(x: i64) -> Self { x as $t }
            #[inline(always)] fn is_nan(self) -> bool { self != self }
            #[inline(always)] fn lowest() -> Self { <$t>::NEG_INFINITY }
            #[inline(always)] fn highest() -> Self { <$t>::INFINITY }
        }
    )*};
}
num_float!(f32, f64);

impl Flt for f32 {
    #[inline(always)]
    fn map(self, f32f: fn(f32) -> f32, _: fn(f64) -> f64) -> Self {
        f32f(self)
    }
    #[inline(always)]
    fn map2(self, o: Self, f32f: fn(f32, f32) -> f32, _: fn(f64, f64) -> f64) -> Self {
        f32f(self, o)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    fn neg(self) -> Self {
        -self
    }
}

impl Flt for f64 {
    #[inline(always)]
    fn map(self, _: fn(f32) -> f32, f64f: fn(f64) -> f64) -> Self {
        f64f(self)
    }
    #[inline(always)]
    fn map2(self, o: Self, _: fn(f32, f32) -> f32, f64f: fn(f64, f64) -> f64) -> Self {
        f64f(self, o)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    fn neg(self) -> Self {
        -self
    }
}

macro_rules! num_half {
    ($($t:ty),*) => {$(
        impl Num for $t {
            const IS_FLOAT: bool = true;
            #[inline(always)] fn zero() -> Self { <$t>::ZERO }
            #[inline(always)] fn one() -> Self { <$t>::ONE }
            #[inline(always)] fn add(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() + o.to_f32()) }
            #[inline(always)] fn sub(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() - o.to_f32()) }
            #[inline(always)] fn mul(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() * o.to_f32()) }
            #[inline(always)] fn to_f64(self) -> f64 { self.to_f64() }
            // half 2.7's from_f64 truncates the low mantissa bits before rounding (double
            // rounding); values exact in f32 (every f32 and f16 input) take the f32 path.
            #[inline(always)] fn from_f64(x: f64) -> Self {
                let f = x as f32;
                if f as f64 == x || x.is_nan() { <$t>::from_f32(f) } else { <$t>::from_f64(x) }
            }
            #[inline(always)] fn to_i64(self) -> i64 { self.to_f32() as i64 }
            #[inline(always)] fn from_i64(x: i64) -> Self { <$t>::from_f64(x as f64) }
            #[inline(always)] fn is_nan(self) -> bool { self.is_nan() }
            #[inline(always)] fn lowest() -> Self { <$t>::NEG_INFINITY }
            #[inline(always)] fn highest() -> Self { <$t>::INFINITY }
        }
        impl Flt for $t {
            #[inline(always)] fn map(self, f32f: fn(f32) -> f32, _: fn(f64) -> f64) -> Self { <$t>::from_f32(f32f(self.to_f32())) }
            #[inline(always)] fn map2(self, o: Self, f32f: fn(f32, f32) -> f32, _: fn(f64, f64) -> f64) -> Self { <$t>::from_f32(f32f(self.to_f32(), o.to_f32())) }
            #[inline(always)] fn div(self, o: Self) -> Self { <$t>::from_f32(self.to_f32() / o.to_f32()) }
            #[inline(always)] fn neg(self) -> Self { -self }
        }
    )*};
}
num_half!(f16, bf16);
