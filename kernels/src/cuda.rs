//! CUDA C kernel sources, compiled at run time with NVRTC by `lantern-cuda`.
//!
//! One source per op group (`kernels/cuda/<group>.cu`), each preceded by [`COMMON`] when
//! compiled. Kernels are named `{op}_{dtype}` with Lantern's short dtype names (`f32`, `f64`,
//! `f16`, `bf16`, `i32`, `i64`, `u8`, `i8`, `bool`); casts are `cast_{src}_{dst}`. Defining
//! `LT_ONLY` to a dtype code (see `common.cuh`) compiles one dtype's kernels only, which is
//! how the driver keeps first-use compiles short; without it every kernel is built.

/// Types, conversions, strided indexing and the device error flag shared by every group.
pub const COMMON: &str = include_str!("../cuda/common.cuh");

/// One op group's kernel source.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's name, also its file stem: `unary`, `binary`, ...
    pub name: &'static str,
    /// The CUDA C source (without [`COMMON`]).
    pub source: &'static str,
    /// Extra NVRTC options the group needs.
    pub options: &'static [&'static str],
}

/// Unary elementwise ops (`neg_f32`, `exp_bf16`, `logical_not_bool`, ...).
pub const UNARY: Group = Group {
    name: "unary",
    source: include_str!("../cuda/unary.cu"),
    options: &[],
};
/// Binary elementwise ops and comparisons (`add_f32`, `lt_i64`, `bitwise_xor_i32`, ...).
pub const BINARY: Group = Group {
    name: "binary",
    source: include_str!("../cuda/binary.cu"),
    options: &[],
};
/// `where_{dtype}`.
pub const TERNARY: Group = Group {
    name: "ternary",
    source: include_str!("../cuda/ternary.cu"),
    options: &[],
};
/// Strided copy, cast, fill and iota.
pub const LAYOUT: Group = Group {
    name: "layout",
    source: include_str!("../cuda/layout.cu"),
    options: &[],
};
/// Reductions (with their `_fin` second passes) and scans.
pub const REDUCE: Group = Group {
    name: "reduce",
    source: include_str!("../cuda/reduce.cu"),
    options: &[],
};
/// gather, index_select, scatter_add.
pub const INDEX: Group = Group {
    name: "index",
    source: include_str!("../cuda/index.cu"),
    options: &[],
};
/// The fallback matmul for what cuBLAS cannot express.
pub const MATMUL: Group = Group {
    name: "matmul",
    source: include_str!("../cuda/matmul.cu"),
    options: &[],
};
/// Philox uniform, normal and Bernoulli; no fused multiply-adds, to match the CPU bit for bit.
pub const RANDOM: Group = Group {
    name: "random",
    source: include_str!("../cuda/random.cu"),
    options: &["--fmad=false"],
};

/// Fused ops over a row (`softmax_f32`, `log_softmax_bf16`, ...).
pub const FUSED: Group = Group {
    name: "fused",
    source: include_str!("../cuda/fused.cu"),
    options: &[],
};

/// Every group.
pub const GROUPS: [Group; 9] = [
    UNARY, BINARY, TERNARY, LAYOUT, REDUCE, INDEX, MATMUL, RANDOM, FUSED,
];

/// NVRTC options every group is compiled with (warning 186, "pointless comparison of
/// unsigned integer with zero", comes from templates shared by signed and unsigned ints).
pub const OPTIONS: &[&str] = &["-std=c++17", "--diag-suppress=186"];
