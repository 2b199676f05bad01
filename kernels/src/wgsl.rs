//! WGSL kernels for the wgpu driver, as data plus the small specializer that turns a group
//! file into a module for one dtype signature.
//!
//! WGSL has no templates, no 8/16/64-bit integers and (without `shader-f16`) no f16, so
//! every buffer is an `array<u32>` and each binding gets generated accessors:
//!
//! | dtype            | storage in the buffer          | computed as |
//! |------------------|--------------------------------|-------------|
//! | f32, i32         | one word                       | f32, i32    |
//! | f16, bf16        | two per word (unpack/pack)     | f32         |
//! | u8, i8, bool     | four per word, byte addressed  | u32, i32, u32 |
//! | i64              | two words (lo, hi)             | i32: a value whose hi word is not the sign of lo sets the error flag |
//!
//! Host bytes are therefore exactly the CPU driver's (bool is one byte), and `Driver::write`
//! and `read` need no dtype. Sub-word outputs are `array<atomic<u32>>` so that neighbouring
//! elements written by different invocations do not race.
//!
//! A group file (`wgsl/<group>.wgsl`) is WGSL written against these names:
//! - `prm(i)`: word `i` of the op's parameters (binding 0, a uniform block of
//!   [`PARAMS_WORDS`] words: shapes, strides, offsets, scalars);
//! - `fail(code)`: sets bits of the device error flag (binding 1) read back by the driver;
//! - per input `xK` (bindings 2..): `TK` its compute type, `ld_xK(i)` loads element `i`;
//! - per output `yK` (after the inputs): `TYK`, `ld_yK(i)`, `st_yK(i, v)`, and with
//!   [`Spec::atomic`] `add_yK(i, v)` (a compare-and-swap add);
//! - `T`: the compute type of the op's main dtype, `$T` in names: the main dtype's name, so
//!   entry points are `{op}_{dtype}` (`add_f32`, STYLE.md §4);
//! - `//#if a|b|!c` … `//#else` … `//#endif` keep lines when any term holds; terms are the
//!   main dtype's name and class (`float`, `sint`, `uint`, `bool`, `int` = sint or uint) and
//!   the spec's flags.

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

/// Workgroup size of the 1-D kernels (elementwise, reductions, scans).
pub const WORKGROUP: u32 = 256;
/// Words of every parameter block before the shape data (scalars live there).
pub const HEADER_WORDS: usize = 12;
/// Words of a parameter block: a uniform `array<vec4<u32>, 16>` (uniform loads are
/// scalar and cached, where storage loads are per invocation).
pub const PARAMS_WORDS: usize = 64;
/// Matmul output tile edge (a workgroup computes `TILE × TILE` outputs).
pub const MATMUL_TILE: u32 = 64;

/// Bits of the device error flag, set by kernels with `fail(code)`.
pub mod err {
    /// An index outside its dimension (gather, index_select, scatter_add).
    pub const INDEX: u32 = 1;
    /// Integer division (or remainder) by zero.
    pub const DIV_ZERO: u32 = 2;
    /// An int64 value that does not fit in 32 bits (the driver computes int64 as i32).
    pub const I64_RANGE: u32 = 4;
    /// An integer raised to a negative integer power.
    pub const NEG_POW: u32 = 8;
    /// With [`INDEX`]: the op was gather (the index kernels set the op's bit from their
    /// parameter block, so the deferred error can name it).
    pub const GATHER: u32 = 16;
    /// With [`INDEX`]: the op was index_select.
    pub const INDEX_SELECT: u32 = 32;
    /// With [`INDEX`]: the op was scatter_add.
    pub const SCATTER_ADD: u32 = 64;
}

/// The groups of kernels, one WGSL file each, matching the op groups of `lantern::ops::prim`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// copy, cast, fill, iota.
    Layout,
    /// Elementwise ops of one operand.
    Unary,
    /// Elementwise ops of two operands (arithmetic and comparisons).
    Binary,
    /// `where`.
    Ternary,
    /// Reductions (workgroup tree reduction).
    Reduce,
    /// Tiled batched matmul.
    Matmul,
    /// gather, index_select, scatter_add.
    Index,
    /// cumsum, cumprod.
    Scan,
    /// Philox uniform, normal, bernoulli.
    Random,
    /// Fused ops over a row (softmax, log-softmax, layer norm), float dtypes only.
    Fused,
    /// In-place optimizer updates (Adam, SGD), f32 only.
    Optim,
    /// 2-D convolution (implicit GEMM) and its gradients, max pooling and its gradient,
    /// float dtypes only.
    Conv,
}

impl Group {
    /// Every group.
    pub const ALL: [Group; 12] = [
        Group::Layout,
        Group::Unary,
        Group::Binary,
        Group::Ternary,
        Group::Reduce,
        Group::Matmul,
        Group::Index,
        Group::Scan,
        Group::Random,
        Group::Fused,
        Group::Optim,
        Group::Conv,
    ];

    /// The file stem.
    pub const fn name(self) -> &'static str {
        match self {
            Group::Layout => "layout",
            Group::Unary => "unary",
            Group::Binary => "binary",
            Group::Ternary => "ternary",
            Group::Reduce => "reduce",
            Group::Matmul => "matmul",
            Group::Index => "index",
            Group::Scan => "scan",
            Group::Random => "random",
            Group::Fused => "fused",
            Group::Optim => "optim",
            Group::Conv => "conv",
        }
    }

    /// The WGSL source (before specialization).
    pub const fn source(self) -> &'static str {
        match self {
            Group::Layout => LAYOUT,
            Group::Unary => UNARY,
            Group::Binary => BINARY,
            Group::Ternary => TERNARY,
            Group::Reduce => REDUCE,
            Group::Matmul => MATMUL,
            Group::Index => INDEX,
            Group::Scan => SCAN,
            Group::Random => RANDOM,
            Group::Fused => FUSED,
            Group::Optim => OPTIM,
            Group::Conv => CONV,
        }
    }
}

/// Helpers every module includes (indexing, error flag, special values).
pub const COMMON: &str = include_str!("../wgsl/common.wgsl");
/// `wgsl/layout.wgsl`.
pub const LAYOUT: &str = include_str!("../wgsl/layout.wgsl");
/// `wgsl/unary.wgsl`.
pub const UNARY: &str = include_str!("../wgsl/unary.wgsl");
/// `wgsl/binary.wgsl`.
pub const BINARY: &str = include_str!("../wgsl/binary.wgsl");
/// `wgsl/ternary.wgsl`.
pub const TERNARY: &str = include_str!("../wgsl/ternary.wgsl");
/// `wgsl/reduce.wgsl`.
pub const REDUCE: &str = include_str!("../wgsl/reduce.wgsl");
/// `wgsl/matmul.wgsl`.
pub const MATMUL: &str = include_str!("../wgsl/matmul.wgsl");
/// `wgsl/index.wgsl`.
pub const INDEX: &str = include_str!("../wgsl/index.wgsl");
/// `wgsl/scan.wgsl`.
pub const SCAN: &str = include_str!("../wgsl/scan.wgsl");
/// `wgsl/random.wgsl`.
pub const RANDOM: &str = include_str!("../wgsl/random.wgsl");
/// `wgsl/fused.wgsl`.
pub const FUSED: &str = include_str!("../wgsl/fused.wgsl");
/// `wgsl/optim.wgsl`.
pub const OPTIM: &str = include_str!("../wgsl/optim.wgsl");
/// `wgsl/conv.wgsl`.
pub const CONV: &str = include_str!("../wgsl/conv.wgsl");

/// Element types the WGSL kernels handle (f64 has no WGSL type: drivers report it unsupported).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Elem {
    /// bool, one byte.
    Bool,
    /// u8.
    U8,
    /// i8.
    I8,
    /// i32.
    I32,
    /// i64, two words, computed in 32 bits.
    I64,
    /// IEEE half, computed in f32.
    F16,
    /// bfloat16, computed in f32.
    BF16,
    /// f32.
    F32,
}

impl Elem {
    /// Every element type.
    pub const ALL: [Elem; 8] = [
        Elem::Bool,
        Elem::U8,
        Elem::I8,
        Elem::I32,
        Elem::I64,
        Elem::F16,
        Elem::BF16,
        Elem::F32,
    ];

    /// The name used in entry points (`add_f32`).
    pub const fn name(self) -> &'static str {
        match self {
            Elem::Bool => "bool",
            Elem::U8 => "u8",
            Elem::I8 => "i8",
            Elem::I32 => "i32",
            Elem::I64 => "i64",
            Elem::F16 => "f16",
            Elem::BF16 => "bf16",
            Elem::F32 => "f32",
        }
    }

    /// The WGSL type kernels compute in.
    pub const fn compute(self) -> &'static str {
        match self {
            Elem::Bool | Elem::U8 => "u32",
            Elem::I8 | Elem::I32 | Elem::I64 => "i32",
            Elem::F16 | Elem::BF16 | Elem::F32 => "f32",
        }
    }

    /// The class used by `//#if`: `float`, `sint`, `uint` or `bool`.
    pub const fn class(self) -> &'static str {
        match self {
            Elem::Bool => "bool",
            Elem::U8 => "uint",
            Elem::I8 | Elem::I32 | Elem::I64 => "sint",
            Elem::F16 | Elem::BF16 | Elem::F32 => "float",
        }
    }

    /// Bytes per element in a buffer.
    pub const fn size(self) -> usize {
        match self {
            Elem::Bool | Elem::U8 | Elem::I8 => 1,
            Elem::F16 | Elem::BF16 => 2,
            Elem::I32 | Elem::F32 => 4,
            Elem::I64 => 8,
        }
    }

    /// True when several elements share a word (outputs then need atomics).
    pub const fn sub_word(self) -> bool {
        self.size() < 4
    }

    /// True for the float types.
    pub const fn is_float(self) -> bool {
        matches!(self, Elem::F16 | Elem::BF16 | Elem::F32)
    }
}

/// One module: a group specialized for the dtypes of its bindings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spec {
    /// The group.
    pub group: Group,
    /// The dtype that names entry points (`$T`) and selects `//#if` sections.
    pub main: Elem,
    /// Input bindings, in order.
    pub inputs: Vec<Elem>,
    /// Output bindings, in order.
    pub outputs: Vec<Elem>,
    /// Extra `//#if` terms.
    pub flags: Vec<&'static str>,
    /// Inputs bound read-write: set when an input aliases an output (WGSL forbids binding one
    /// buffer read-only and read-write in a dispatch; two read-write bindings are allowed).
    pub aliased: bool,
    /// Outputs are atomic even when word-sized (`add_yK`).
    pub atomic: bool,
}

impl Spec {
    fn new(group: Group, main: Elem, inputs: &[Elem], outputs: &[Elem]) -> Spec {
        Spec {
            group,
            main,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            flags: Vec::new(),
            aliased: false,
            atomic: false,
        }
    }

    fn flag(mut self, f: &'static str) -> Spec {
        self.flags.push(f);
        self
    }

    /// The same module with inputs bound read-write (an input aliases an output).
    pub fn aliased(mut self) -> Spec {
        self.aliased = true;
        self
    }

    /// copy: `[e] -> [e]`, raw element bits (no range checks).
    pub fn copy(e: Elem) -> Spec {
        Spec::new(Group::Layout, e, &[e], &[e]).flag("copy")
    }
    /// cast: `[a] -> [b]`.
    pub fn cast(a: Elem, b: Elem) -> Spec {
        Spec::new(Group::Layout, a, &[a], &[b]).flag("cast")
    }
    /// fill: `[] -> [e]`.
    pub fn fill(e: Elem) -> Spec {
        Spec::new(Group::Layout, e, &[], &[e]).flag("fill")
    }
    /// iota: `[] -> [e]`.
    pub fn iota(e: Elem) -> Spec {
        Spec::new(Group::Layout, e, &[], &[e]).flag("iota")
    }
    /// Unary ops: `[e] -> [e]`.
    pub fn unary(e: Elem) -> Spec {
        Spec::new(Group::Unary, e, &[e], &[e])
    }
    /// Arithmetic and logical binary ops: `[e, e] -> [e]`.
    pub fn binary(e: Elem) -> Spec {
        Spec::new(Group::Binary, e, &[e, e], &[e])
    }
    /// Comparisons: `[e, e] -> [bool]`.
    pub fn compare(e: Elem) -> Spec {
        Spec::new(Group::Binary, e, &[e, e], &[Elem::Bool]).flag("cmp")
    }
    /// where: `[bool, e, e] -> [e]`.
    pub fn where_(e: Elem) -> Spec {
        Spec::new(Group::Ternary, e, &[Elem::Bool, e, e], &[e])
    }
    /// sum, prod, max, min: `[e] -> [e]`.
    pub fn reduce(e: Elem) -> Spec {
        Spec::new(Group::Reduce, e, &[e], &[e])
    }
    /// argmax, argmin: `[e] -> [i64]`.
    pub fn arg_reduce(e: Elem) -> Spec {
        Spec::new(Group::Reduce, e, &[e], &[Elem::I64]).flag("arg")
    }
    /// matmul: `[e, e] -> [e]` (the output is read for `beta`).
    pub fn matmul(e: Elem) -> Spec {
        Spec::new(Group::Matmul, e, &[e, e], &[e])
    }
    /// gather and index_select: `[e, index] -> [e]`.
    pub fn gather(e: Elem, index: Elem) -> Spec {
        Spec::new(Group::Index, e, &[e, index], &[e]).flag("gather")
    }
    /// scatter_add: `[e, index] -> [e]`, atomic output.
    pub fn scatter_add(e: Elem, index: Elem) -> Spec {
        let mut s = Spec::new(Group::Index, e, &[e, index], &[e]).flag("scatter");
        s.atomic = true;
        s
    }
    /// cumsum, cumprod: `[e] -> [e]`.
    pub fn scan(e: Elem) -> Spec {
        Spec::new(Group::Scan, e, &[e], &[e])
    }
    /// uniform, normal, bernoulli: `[] -> [e]`.
    pub fn random(e: Elem) -> Spec {
        Spec::new(Group::Random, e, &[], &[e])
    }
    /// softmax, log-softmax over rows: `[e] -> [e]`, float `e` only.
    pub fn fused(e: Elem) -> Spec {
        Spec::new(Group::Fused, e, &[e], &[e])
    }
    /// Layer norm over rows: `[e]`, `[e, e]` (weight) or `[e, e, e]` (weight, bias) ->
    /// `[e, f32, f32]` (y, mean, rstd), float `e` only.
    pub fn layer_norm(e: Elem, weight: bool, bias: bool) -> Spec {
        let n_in = 1 + weight as usize + (weight && bias) as usize;
        let mut s = Spec::new(Group::Fused, e, &[e; 3][..n_in], &[e, Elem::F32, Elem::F32])
            .flag("layer_norm");
        if weight {
            s = s.flag("weight");
            if bias {
                s = s.flag("bias");
            }
        }
        s
    }
    /// One Adam step in place: `[grad] -> [param, exp_avg, exp_avg_sq]`, each read and written.
    pub fn adam(e: Elem) -> Spec {
        Spec::new(Group::Optim, e, &[e], &[e, e, e]).flag("adam")
    }
    /// One momentum SGD step in place: `[grad] -> [param, momentum_buffer]`.
    pub fn sgd(e: Elem) -> Spec {
        Spec::new(Group::Optim, e, &[e], &[e, e])
    }
    /// conv2d: `[x, w, bias] -> [y]` (without a bias the weight is bound again in its place).
    pub fn conv2d(e: Elem) -> Spec {
        Spec::new(Group::Conv, e, &[e, e, e], &[e]).flag("conv")
    }
    /// conv2d's input and weight gradients: `[gy, w] -> [gx]` and `[x, gy] -> [gw]`.
    pub fn conv2d_grad(e: Elem) -> Spec {
        Spec::new(Group::Conv, e, &[e, e], &[e]).flag("grad")
    }
    /// max_pool2d: `[x] -> [y, indices]`.
    pub fn max_pool2d(e: Elem) -> Spec {
        Spec::new(Group::Conv, e, &[e], &[e, Elem::I64]).flag("pool")
    }
    /// max_pool2d's gradient: `[gy, indices] -> [gx]`.
    pub fn max_pool2d_grad(e: Elem) -> Spec {
        Spec::new(Group::Conv, e, &[e, Elem::I64], &[e]).flag("pool_grad")
    }

    /// The entry point of `op` in this module: `{op}_{dtype}`.
    pub fn entry(&self, op: &str) -> String {
        alloc::format!("{op}_{}", self.main.name())
    }

    fn term(&self, t: &str) -> bool {
        let t = t.trim();
        if let Some(rest) = t.strip_prefix('!') {
            return !self.term(rest);
        }
        let class = self.main.class();
        t == self.main.name()
            || t == class
            || (t == "int" && (class == "sint" || class == "uint"))
            || self.flags.contains(&t)
    }

    /// The complete module source: bindings and accessors, common helpers, then the group's
    /// file with `//#if` sections resolved and `$T` replaced.
    pub fn source(&self) -> String {
        let mut s = String::new();
        self.prelude(&mut s);
        s.push_str(COMMON);
        s.push('\n');
        let mut keep: Vec<(bool, bool)> = Vec::new(); // (this section kept, any branch taken)
        for line in self.group.source().lines() {
            let l = line.trim_start();
            let live = keep.iter().all(|k| k.0);
            if let Some(cond) = l.strip_prefix("//#if ") {
                let v = cond.split('|').any(|t| self.term(t));
                keep.push((v, v));
            } else if l.starts_with("//#else") {
                if let Some(k) = keep.last_mut() {
                    k.0 = !k.1;
                    k.1 = true;
                }
            } else if l.starts_with("//#endif") {
                keep.pop();
            } else if live {
                s.push_str(&line.replace("$T", self.main.name()));
                s.push('\n');
            }
        }
        s
    }

    fn prelude(&self, s: &mut String) {
        let _ = writeln!(s, "// {:?}", self);
        let _ = writeln!(s, "alias T = {};", self.main.compute());
        let _ = writeln!(
            s,
            "@group(0) @binding(0) var<uniform> P: array<vec4<u32>, 16>;\n\
             @group(0) @binding(1) var<storage, read_write> ERR: array<atomic<u32>>;"
        );
        let mut b = 2;
        for (k, &e) in self.inputs.iter().enumerate() {
            let access = if self.aliased { "read_write" } else { "read" };
            let _ = writeln!(
                s,
                "@group(0) @binding({b}) var<storage, {access}> X{k}: array<u32>;\nalias T{k} = {};",
                e.compute()
            );
            load(
                s,
                &alloc::format!("x{k}"),
                &alloc::format!("X{k}"),
                e,
                false,
            );
            b += 1;
        }
        for (k, &e) in self.outputs.iter().enumerate() {
            let atomic = self.atomic || e.sub_word();
            let ty = if atomic {
                "array<atomic<u32>>"
            } else {
                "array<u32>"
            };
            let _ = writeln!(
                s,
                "@group(0) @binding({b}) var<storage, read_write> Y{k}: {ty};\nalias TY{k} = {};",
                e.compute()
            );
            let (n, v) = (alloc::format!("y{k}"), alloc::format!("Y{k}"));
            load(s, &n, &v, e, atomic);
            store(s, &n, &v, e, atomic);
            if self.atomic {
                cas_add(s, &n, &v, e);
            }
            b += 1;
        }
        if let (Some(&a), Some(&y)) = (self.inputs.first(), self.outputs.first()) {
            // Raw copy of one element (no range check: copying an int64 never fails).
            let _ = write!(s, "fn cp_x0_y0(xi: u32, yi: u32) {{ ");
            // An atomic output takes atomicStore: WGSL (and Chromium's Tint, unlike naga)
            // rejects plain assignment to `atomic<u32>`.
            let y_atomic = self.atomic || y.sub_word();
            match (a.size(), a == y && !y_atomic) {
                (8, true) => {
                    let _ = write!(
                        s,
                        "Y0[2u * yi] = X0[2u * xi]; Y0[2u * yi + 1u] = X0[2u * xi + 1u];"
                    );
                }
                (4, true) => {
                    let _ = write!(s, "Y0[yi] = X0[xi];");
                }
                _ => {
                    let _ = write!(s, "st_y0(yi, TY0(ld_x0(xi)));");
                }
            }
            let _ = writeln!(s, " }}");
            cast_fn(s, a, y);
        }
    }
}

/// Writes `ld_{n}(i)`: element `i` of buffer `v` as its compute type.
fn load(s: &mut String, n: &str, v: &str, e: Elem, atomic: bool) {
    let w = |idx: &str| {
        if atomic {
            alloc::format!("atomicLoad(&{v}[{idx}])")
        } else {
            alloc::format!("{v}[{idx}]")
        }
    };
    let body = match e {
        Elem::F32 => alloc::format!("return bitcast<f32>({});", w("i")),
        Elem::I32 => alloc::format!("return bitcast<i32>({});", w("i")),
        Elem::I64 => alloc::format!(
            "let lo = bitcast<i32>({}); if ({} != bitcast<u32>(lo >> 31u)) {{ fail(4u); }} return lo;",
            w("2u * i"),
            w("2u * i + 1u")
        ),
        Elem::F16 => alloc::format!("return unpack2x16float({})[i & 1u];", w("i >> 1u")),
        Elem::BF16 => alloc::format!(
            "return bitcast<f32>((({} >> ((i & 1u) * 16u)) & 0xffffu) << 16u);",
            w("i >> 1u")
        ),
        Elem::U8 => alloc::format!("return ({} >> ((i & 3u) * 8u)) & 0xffu;", w("i >> 2u")),
        Elem::Bool => alloc::format!(
            "return select(0u, 1u, (({} >> ((i & 3u) * 8u)) & 0xffu) != 0u);",
            w("i >> 2u")
        ),
        Elem::I8 => alloc::format!(
            "return bitcast<i32>({} << (24u - (i & 3u) * 8u)) >> 24u;",
            w("i >> 2u")
        ),
    };
    let _ = writeln!(s, "fn ld_{n}(i: u32) -> {} {{ {body} }}", e.compute());
}

/// The bits of a compute value in the element's storage (low bits of a word).
fn bits(e: Elem, v: &str) -> String {
    match e {
        Elem::F32 | Elem::I32 | Elem::I64 => alloc::format!("bitcast<u32>({v})"),
        Elem::F16 => alloc::format!("f16_bits({v})"),
        Elem::BF16 => alloc::format!("bf16_bits({v})"),
        Elem::U8 | Elem::I8 => alloc::format!("(bitcast<u32>({v}) & 0xffu)"),
        Elem::Bool => alloc::format!("select(0u, 1u, {v} != 0u)"),
    }
}

/// Writes `st_{n}(i, v)`.
fn store(s: &mut String, n: &str, v: &str, e: Elem, atomic: bool) {
    let put = |idx: &str, val: &str| {
        if atomic {
            alloc::format!("atomicStore(&{v}[{idx}], {val});")
        } else {
            alloc::format!("{v}[{idx}] = {val};")
        }
    };
    let b = bits(e, "v");
    let body = match e.size() {
        4 => put("i", &b),
        8 => alloc::format!(
            "{} {}",
            put("2u * i", &b),
            put("2u * i + 1u", "bitcast<u32>(v >> 31u)")
        ),
        sz => {
            let per = 4 / sz;
            let width = sz * 8;
            alloc::format!(
                "let sh = (i & {m}u) * {width}u; let m = {mask}u << sh; \
                 atomicAnd(&{v}[i / {per}u], ~m); atomicOr(&{v}[i / {per}u], ({b} << sh) & m);",
                m = per - 1,
                mask = if sz == 1 { "0xff" } else { "0xffff" },
            )
        }
    };
    let _ = writeln!(s, "fn st_{n}(i: u32, v: {}) {{ {body} }}", e.compute());
}

/// Writes `add_{n}(i, v)`: `y[i] += v` with a compare-and-swap loop on the element's word
/// (for int64 only the low word: not used, the driver refuses int64 scatter_add).
fn cas_add(s: &mut String, n: &str, v: &str, e: Elem) {
    let c = e.compute();
    let (word, sh, mask) = match e.size() {
        1 => ("i >> 2u", "(i & 3u) * 8u", "0xffu"),
        2 => ("i >> 1u", "(i & 1u) * 16u", "0xffffu"),
        8 => ("2u * i", "0u", "0xffffffffu"),
        _ => ("i", "0u", "0xffffffffu"),
    };
    // The current value, decoded from the word the loop compares against.
    let cur = match e {
        Elem::F32 => "bitcast<f32>(old)".to_string(),
        Elem::I32 | Elem::I64 => "bitcast<i32>(old)".to_string(),
        Elem::F16 => "unpack2x16float(old)[i & 1u]".to_string(),
        Elem::BF16 => "bitcast<f32>(((old >> sh) & 0xffffu) << 16u)".to_string(),
        Elem::U8 => "((old >> sh) & 0xffu)".to_string(),
        Elem::Bool => "select(0u, 1u, ((old >> sh) & 0xffu) != 0u)".to_string(),
        Elem::I8 => "(bitcast<i32>(old << (24u - sh)) >> 24u)".to_string(),
    };
    let sum = if e == Elem::Bool {
        alloc::format!("select(0u, 1u, ({cur} + v) != 0u)")
    } else {
        alloc::format!("{cur} + v")
    };
    let nb = bits(e, "nv");
    let _ = writeln!(
        s,
        "fn add_{n}(i: u32, v: {c}) {{ let w = {word}; let sh = {sh}; let m = {mask} << sh; \
         loop {{ let old = atomicLoad(&{v}[w]); let nv: {c} = {sum}; \
         let nw = (old & ~m) | (({nb} << sh) & m); \
         if (atomicCompareExchangeWeak(&{v}[w], old, nw).exchanged) {{ break; }} }} }}"
    );
}

/// Writes `cast_x0_y0(v)`: PyTorch's conversions between compute types.
fn cast_fn(s: &mut String, a: Elem, y: Elem) {
    let (ca, cy) = (a.compute(), y.compute());
    let body = if y == Elem::Bool && a.is_float() {
        // NaN is nonzero, hence true; naga's float `!=` is ordered (false for NaN).
        "select(0u, 1u, v != 0.0 || is_nan(v))".to_string()
    } else if y == Elem::Bool {
        alloc::format!("select(0u, 1u, v != {ca}(0))")
    } else if a.is_float() && !y.is_float() {
        // Truncate toward zero through i32, so -1.0 -> u8 gives 255 as on the CPU.
        alloc::format!("{cy}(i32(v))")
    } else {
        alloc::format!("{cy}(v)")
    };
    let _ = writeln!(s, "fn cast_x0_y0(v: {ca}) -> {cy} {{ return {body}; }}");
}

/// Every module the wgpu driver may build (what the naga test validates).
pub fn all_specs() -> Vec<Spec> {
    let mut v = Vec::new();
    for &e in &Elem::ALL {
        v.push(Spec::copy(e));
        v.push(Spec::fill(e));
        v.push(Spec::iota(e));
        for &b in &Elem::ALL {
            v.push(Spec::cast(e, b));
        }
        v.push(Spec::unary(e));
        v.push(Spec::binary(e));
        v.push(Spec::compare(e));
        v.push(Spec::where_(e));
        v.push(Spec::reduce(e));
        v.push(Spec::arg_reduce(e));
        v.push(Spec::matmul(e));
        for idx in [Elem::I64, Elem::I32] {
            v.push(Spec::gather(e, idx));
            // An int64's two words cannot be updated in one atomic: the driver refuses it.
            if e != Elem::I64 {
                v.push(Spec::scatter_add(e, idx));
            }
        }
        v.push(Spec::scan(e));
        v.push(Spec::random(e));
        if e.is_float() {
            v.push(Spec::fused(e));
            for (w, b) in [(false, false), (true, false), (true, true)] {
                v.push(Spec::layer_norm(e, w, b));
            }
            v.push(Spec::conv2d(e));
            v.push(Spec::conv2d_grad(e));
            v.push(Spec::max_pool2d(e));
            v.push(Spec::max_pool2d_grad(e));
        }
        if e == Elem::F32 {
            v.push(Spec::adam(e));
            v.push(Spec::sgd(e));
        }
    }
    let aliased: Vec<Spec> = v
        .iter()
        .filter(|s| !s.inputs.is_empty())
        .map(|s| s.clone().aliased())
        .collect();
    v.extend(aliased);
    v
}
