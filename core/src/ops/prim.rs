//! The closed table of primitive ops every driver implements (DESIGN.md, "Primitive ops").
//!
//! A new variant is a compile error in every driver's `exec`, which matches without a
//! wildcard arm. A new primitive needs a one-line justification in its commit.

use crate::dtype::{DType, Scalar};
use smallvec::SmallVec;

/// Elementwise ops of one operand. Input and output views have the same shape.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `|x|`.
    Abs,
    /// -1, 0 or 1 (NaN stays NaN).
    Sign,
    /// `1 / x`.
    Recip,
    /// Square root.
    Sqrt,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// `e^x`.
    Exp,
    /// `2^x`.
    Exp2,
    /// `e^x - 1`, exact near 0.
    Expm1,
    /// Natural log.
    Log,
    /// Base-2 log.
    Log2,
    /// `ln(1 + x)`, exact near 0.
    Log1p,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Hyperbolic tangent.
    Tanh,
    /// The error function.
    Erf,
    /// Round toward -inf.
    Floor,
    /// Round toward +inf.
    Ceil,
    /// Round half to even (as `torch.round`).
    Round,
    /// Round toward zero.
    Trunc,
    /// `!x` on bool.
    LogicalNot,
}

impl UnaryOp {
    /// Every unary op.
    pub const ALL: [UnaryOp; 21] = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Recip,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Exp,
        UnaryOp::Exp2,
        UnaryOp::Expm1,
        UnaryOp::Log,
        UnaryOp::Log2,
        UnaryOp::Log1p,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tanh,
        UnaryOp::Erf,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Trunc,
        UnaryOp::LogicalNot,
    ];

    /// The kernel-name stem (`{op}_{dtype}` in every kernel language).
    pub const fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Sign => "sign",
            UnaryOp::Recip => "recip",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Exp2 => "exp2",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Log => "log",
            UnaryOp::Log2 => "log2",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Erf => "erf",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Trunc => "trunc",
            UnaryOp::LogicalNot => "logical_not",
        }
    }

    /// True for ops defined only on floats (transcendentals and roots).
    pub const fn float_only(self) -> bool {
        !matches!(
            self,
            UnaryOp::Neg
                | UnaryOp::Abs
                | UnaryOp::Sign
                | UnaryOp::Floor
                | UnaryOp::Ceil
                | UnaryOp::Round
                | UnaryOp::Trunc
                | UnaryOp::LogicalNot
        )
    }
}

/// Elementwise ops of two operands of one dtype, already broadcast to the output's shape.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b` (floats; ints divide toward zero).
    Div,
    /// `a ^ b`.
    Pow,
    /// Python-style remainder (sign of the divisor), as `torch.remainder`.
    Rem,
    /// `floor(a / b)`.
    FloorDiv,
    /// NaN-propagating maximum (`torch.maximum`).
    Maximum,
    /// NaN-propagating minimum (`torch.minimum`).
    Minimum,
    /// `a == b` → bool.
    Eq,
    /// `a != b` → bool.
    Ne,
    /// `a < b` → bool.
    Lt,
    /// `a <= b` → bool.
    Le,
    /// `a > b` → bool.
    Gt,
    /// `a >= b` → bool.
    Ge,
    /// Logical and of bools.
    LogicalAnd,
    /// Logical or of bools.
    LogicalOr,
    /// Logical xor of bools.
    LogicalXor,
    /// Bitwise and of ints.
    BitAnd,
    /// Bitwise or of ints.
    BitOr,
    /// Bitwise xor of ints.
    BitXor,
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 21] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Pow,
        BinaryOp::Rem,
        BinaryOp::FloorDiv,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::LogicalAnd,
        BinaryOp::LogicalOr,
        BinaryOp::LogicalXor,
        BinaryOp::BitAnd,
        BinaryOp::BitOr,
        BinaryOp::BitXor,
    ];

    /// The kernel-name stem.
    pub const fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Rem => "rem",
            BinaryOp::FloorDiv => "floor_div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::LogicalAnd => "logical_and",
            BinaryOp::LogicalOr => "logical_or",
            BinaryOp::LogicalXor => "logical_xor",
            BinaryOp::BitAnd => "bitwise_and",
            BinaryOp::BitOr => "bitwise_or",
            BinaryOp::BitXor => "bitwise_xor",
        }
    }

    /// True for the comparisons, whose output is bool.
    pub const fn is_cmp(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// True for the logical ops (bool in, bool out).
    pub const fn is_logical(self) -> bool {
        matches!(
            self,
            BinaryOp::LogicalAnd | BinaryOp::LogicalOr | BinaryOp::LogicalXor
        )
    }

    /// True for the bitwise ops (ints and bool).
    pub const fn is_bitwise(self) -> bool {
        matches!(self, BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor)
    }
}

/// Reductions over a set of axes. The output view keeps reduced axes with size 1.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum (floats blocked/pairwise; f16/bf16 accumulate in f32).
    Sum,
    /// Product.
    Prod,
    /// Maximum (NaN propagates).
    Max,
    /// Minimum (NaN propagates).
    Min,
    /// Index of the first maximum, as i64; only one axis.
    ArgMax,
    /// Index of the first minimum, as i64; only one axis.
    ArgMin,
}

impl ReduceOp {
    /// Every reduction.
    pub const ALL: [ReduceOp; 6] = [
        ReduceOp::Sum,
        ReduceOp::Prod,
        ReduceOp::Max,
        ReduceOp::Min,
        ReduceOp::ArgMax,
        ReduceOp::ArgMin,
    ];

    /// The kernel-name stem.
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::ArgMax => "argmax",
            ReduceOp::ArgMin => "argmin",
        }
    }
}

/// Prefix scans along one axis.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScanOp {
    /// Running sum.
    CumSum,
    /// Running product.
    CumProd,
}

/// Distributions of the counter-based generator (Philox 4x32-10).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Distribution {
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound (exclusive).
        high: f64,
    },
    /// Normal with the given mean and standard deviation (Box–Muller).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// 1 with probability `p`, else 0.
    Bernoulli {
        /// Probability of a one.
        p: f64,
    },
}

/// A set of axes, inline.
pub type Axes = SmallVec<[usize; 6]>;

/// One primitive op. Inputs and outputs are strided views; see each variant for its arity.
#[derive(Clone, Debug, PartialEq)]
pub enum PrimOp {
    /// ins `[x]`, outs `[y]`, same shape and dtype: `y = x` (strided to strided).
    Copy,
    /// ins `[x]`, outs `[y]`, same shape: converts dtype (float→int truncates toward zero).
    Cast,
    /// outs `[y]`: every element set to the scalar.
    Fill(Scalar),
    /// outs `[y]` (1-D): `y[i] = start + i * step`.
    Iota {
        /// First value.
        start: f64,
        /// Increment.
        step: f64,
    },
    /// ins `[x]`, outs `[y]`.
    Unary(UnaryOp),
    /// ins `[a, b]` (broadcast to out's shape), outs `[y]`; comparisons output bool.
    Binary(BinaryOp),
    /// ins `[cond (bool), a, b]`, outs `[y]`: `cond ? a : b`.
    Where,
    /// ins `[x]`, outs `[y]` with the reduced axes of size 1.
    Reduce {
        /// The reduction.
        op: ReduceOp,
        /// Axes to reduce (sorted, unique).
        axes: Axes,
    },
    /// ins `[a: [..., m, k], b: [..., k, n]]` (batch dims broadcast), outs `[y: [..., m, n]]`:
    /// `y = alpha * a @ b + beta * y`.
    Matmul {
        /// Scale of the product.
        alpha: f64,
        /// Scale of the existing output (0 ignores its contents, NaN included).
        beta: f64,
    },
    /// ins `[x, index (i64, same rank)]`, outs `[y]` shaped like index: `y[..i..] = x[..index[..i..]..]` along `dim`.
    Gather {
        /// The axis indexed.
        dim: usize,
    },
    /// ins `[x, index (i64, 1-D)]`, outs `[y]`: picks slices of x along `dim`.
    IndexSelect {
        /// The axis indexed.
        dim: usize,
    },
    /// ins `[src, index (i64, shaped like src)]`, outs `[y]` (read and written):
    /// `y[..index[..i..]..] += src[..i..]` along `dim`.
    ScatterAdd {
        /// The axis indexed.
        dim: usize,
    },
    /// ins `[x]`, outs `[y]`, same shape: prefix scan along `dim`.
    Scan {
        /// The scan.
        op: ScanOp,
        /// The axis.
        dim: usize,
    },
    /// outs `[y]` (contiguous): element `i` comes from Philox counter `offset + i` under key `seed`.
    Random {
        /// The distribution.
        dist: Distribution,
        /// Generator key.
        seed: u64,
        /// Counter offset of element 0.
        offset: u64,
    },
}

impl PrimOp {
    /// A short name for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            PrimOp::Copy => "copy",
            PrimOp::Cast => "cast",
            PrimOp::Fill(_) => "fill",
            PrimOp::Iota { .. } => "iota",
            PrimOp::Unary(u) => u.name(),
            PrimOp::Binary(b) => b.name(),
            PrimOp::Where => "where",
            PrimOp::Reduce { op, .. } => op.name(),
            PrimOp::Matmul { .. } => "matmul",
            PrimOp::Gather { .. } => "gather",
            PrimOp::IndexSelect { .. } => "index_select",
            PrimOp::ScatterAdd { .. } => "scatter_add",
            PrimOp::Scan { op, .. } => match op {
                ScanOp::CumSum => "cumsum",
                ScanOp::CumProd => "cumprod",
            },
            PrimOp::Random { .. } => "random",
        }
    }
}

/// Dtypes a driver should support for the op families in conformance tests.
pub const FLOAT_DTYPES: [DType; 2] = [DType::F32, DType::F64];
