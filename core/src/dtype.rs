//! Element types, host element conversions, scalars and PyTorch's type promotion.

use core::fmt;
use half::{bf16, f16};

/// The element type of a tensor, a runtime value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`, one byte (0 or 1) at every host interface.
    Bool,
    /// `u8`.
    U8,
    /// `i8`.
    I8,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// `f32`, the default float dtype.
    F32,
    /// `f64`.
    F64,
}

impl DType {
    /// Every dtype, in promotion order.
    pub const ALL: [DType; 9] = [
        DType::Bool,
        DType::U8,
        DType::I8,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    /// True for floating-point dtypes.
    pub const fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }

    /// True for integer dtypes (not bool).
    pub const fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I8 | DType::I32 | DType::I64)
    }

    /// PyTorch's name for the dtype (`"float32"`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::I8 => "int8",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// Parses PyTorch's dtype names (`"float32"`, `"float"`, `"int64"`, `"long"`, ...).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" => DType::Bool,
            "uint8" => DType::U8,
            "int8" => DType::I8,
            "int32" | "int" => DType::I32,
            "int64" | "long" => DType::I64,
            "float16" | "half" => DType::F16,
            "bfloat16" => DType::BF16,
            "float32" | "float" => DType::F32,
            "float64" | "double" => DType::F64,
            _ => return None,
        })
    }

    fn category(self) -> u8 {
        match self {
            DType::Bool => 0,
            DType::U8 | DType::I8 | DType::I32 | DType::I64 => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// PyTorch's `promote_types` for two tensor dtypes.
pub fn promote_types(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    match (a, b) {
        (F16, BF16) | (BF16, F16) => F32,
        (U8, I8) | (I8, U8) => I32,
        _ => a.max(b),
    }
}

/// A Python-style scalar operand: it keeps the tensor's dtype unless it is of a higher category.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

impl Scalar {
    /// The value as f64.
    pub fn to_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => b as u8 as f64,
            Scalar::Int(i) => i as f64,
            Scalar::Float(x) => x,
        }
    }

    /// The value as i64 (floats truncate toward zero).
    pub fn to_i64(self) -> i64 {
        match self {
            Scalar::Bool(b) => b as i64,
            Scalar::Int(i) => i,
            Scalar::Float(x) => x as i64,
        }
    }

    /// The dtype a scalar has on its own (`bool`, `int64`, `float32` by PyTorch's default).
    pub fn default_dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
            Scalar::Float(_) => DType::F32,
        }
    }

    fn category(self) -> u8 {
        match self {
            Scalar::Bool(_) => 0,
            Scalar::Int(_) => 1,
            Scalar::Float(_) => 2,
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $v:ident as $c:ty),*) => {$(
        impl From<$t> for Scalar {
            fn from(x: $t) -> Self { Scalar::$v(x as $c) }
        }
    )*};
}
scalar_from!(f64 => Float as f64, f32 => Float as f64, i64 => Int as i64, i32 => Int as i64, usize => Int as i64, u8 => Int as i64);

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Scalar::Bool(b)
    }
}

/// The result dtype of `tensor ⊕ scalar` (PyTorch: a scalar only promotes across categories).
pub fn promote_scalar(t: DType, s: Scalar) -> DType {
    if s.category() > t.category() {
        match s {
            Scalar::Float(_) => DType::F32,
            Scalar::Int(_) => DType::I64,
            Scalar::Bool(_) => DType::Bool,
        }
    } else {
        t
    }
}

/// A host type that can be an element of a tensor.
///
/// Implemented for `bool`, `u8`, `i8`, `i32`, `i64`, [`f16`], [`bf16`], `f32` and `f64`:
/// plain-old-data types with no padding, whose every byte pattern is valid except `bool`'s,
/// which is why reading goes through [`Element::from_le_bytes`].
pub trait Element: Copy + Send + Sync + PartialEq + fmt::Debug + 'static {
    /// The matching runtime dtype.
    const DTYPE: DType;
    /// Converts to f64 (for printing and tests).
    fn to_f64(self) -> f64;
    /// Converts from f64 with Rust's `as` semantics.
    fn from_f64(x: f64) -> Self;
    /// Reads one element from little-endian bytes of length `DTYPE.size()`.
    fn from_le_bytes(b: &[u8]) -> Self;
    /// Appends the element's little-endian bytes.
    fn write_le_bytes(self, out: &mut alloc::vec::Vec<u8>);
}

macro_rules! element_num {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64(x: f64) -> Self { x as $t }
            fn from_le_bytes(b: &[u8]) -> Self {
                let mut a = [0u8; core::mem::size_of::<$t>()];
                a.copy_from_slice(&b[..core::mem::size_of::<$t>()]);
                <$t>::from_le_bytes(a)
            }
            fn write_le_bytes(self, out: &mut alloc::vec::Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) }
        }
    )*};
}
element_num!(u8 => U8, i8 => I8, i32 => I32, i64 => I64, f32 => F32, f64 => F64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn from_le_bytes(b: &[u8]) -> Self {
        b[0] != 0
    }
    fn write_le_bytes(self, out: &mut alloc::vec::Vec<u8>) {
        out.push(self as u8)
    }
}

macro_rules! element_half {
    ($($t:ty => $d:ident),*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 { self.to_f64() }
            fn from_f64(x: f64) -> Self {
                // half 2.7's from_f64 double-rounds; f32-exact values take the f32 path.
                let f = x as f32;
                if f as f64 == x || x.is_nan() { <$t>::from_f32(f) } else { <$t>::from_f64(x) }
            }
            fn from_le_bytes(b: &[u8]) -> Self { <$t>::from_le_bytes([b[0], b[1]]) }
            fn write_le_bytes(self, out: &mut alloc::vec::Vec<u8>) { out.extend_from_slice(&self.to_le_bytes()) }
        }
    )*};
}
element_half!(f16 => F16, bf16 => BF16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_follows_pytorch() {
        assert_eq!(promote_types(DType::I64, DType::F32), DType::F32);
        assert_eq!(promote_types(DType::F16, DType::F32), DType::F32);
        assert_eq!(promote_types(DType::F16, DType::BF16), DType::F32);
        assert_eq!(promote_types(DType::Bool, DType::I32), DType::I32);
        assert_eq!(promote_types(DType::U8, DType::I8), DType::I32);
        assert_eq!(promote_scalar(DType::I64, Scalar::Float(0.5)), DType::F32);
        assert_eq!(promote_scalar(DType::F16, Scalar::Float(0.5)), DType::F16);
        assert_eq!(promote_scalar(DType::I32, Scalar::Int(7)), DType::I32);
        assert_eq!(promote_scalar(DType::Bool, Scalar::Int(7)), DType::I64);
    }
}
