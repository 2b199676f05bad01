//! The driver conformance suite (DESIGN.md, "Tests"; STYLE.md §8): every driver crate runs
//! [`conformance`] (or [`assert_conformance`], or the [`conformance_tests!`] macro) on its
//! device, and the suite compares it with core's CPU driver.
//!
//! What it covers:
//! - **Every `PrimOp` on views**, through `device.driver().exec(..)` directly: `Copy`,
//!   `Cast` (all dtype pairs), `Fill`, `Iota`, every `UnaryOp::ALL`, every `BinaryOp::ALL`,
//!   `Where`, every `ReduceOp::ALL`, `Matmul` (alpha/beta, batched, broadcast batch,
//!   transposed operands), `Gather`, `IndexSelect`, `ScatterAdd`, both `ScanOp`s and
//!   `Random` (every distribution: the same seed must give the CPU's numbers element for
//!   element). Each op runs over dtypes (f32, f64, f16, bf16, i32, i64, bool; u8/i8 for the
//!   storage ops) and layouts: contiguous, offset, transposed, sliced with a step,
//!   broadcast (stride 0) inputs, strided output views, outputs aliasing their input
//!   (in-place), zero-size, 0-dim, rank 7, and sizes past the CPU's 32K threading threshold.
//! - **The public Tensor API** on the device against the same calls on a CPU device:
//!   broadcasting and promotion, activations and the fused ops (a driver's `fused` override
//!   included), reductions, matmul, convolution, pooling, views and copies, indexing,
//!   creation, in-place ops and seeded random draws.
//! - **Memory and contract checks**: `memory()` counters, `set_memory_limit` and
//!   `Error::OutOfMemory` (the driver keeps working afterwards), `Error::Device` when an op
//!   mixes devices, async and blocking reads, `write` at an offset, views past a buffer,
//!   integer division by zero and out-of-range indices reported (at once or deferred).
//!
//! How a case is judged: the inputs are host values written to the device's buffers; the
//! reference is the CPU driver (a private instance) run on the *dense* gathers of the same
//! views, its result scattered into the output buffer's initial contents on the host. The
//! device's whole output buffer is read back, so elements outside the output view must be
//! untouched. Values are dyadic rationals, so most sums are exact in every order.
//! Tolerances are named per dtype and op class ([`tolerance`]); ints and bool are exact.
//!
//! A driver that returns `Error::Unsupported` is recorded as unsupported, not as a failure,
//! except where the case is mandatory (f32 data; see [`Outcome`]). A case whose CPU
//! reference returns `Unsupported` (e.g. `sqrt` of int32 at the driver level) is skipped.

use lantern::cpu::CpuDriver;
use lantern::ops::{Axes, BinaryOp, Distribution, PrimOp, ReduceOp, ScanOp, UnaryOp};
use lantern::{BufId, DType, Device, Driver, Error, Layout, Scalar, Shape, Tensor, View};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

/// The verdict on one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Matches the CPU driver within the case's tolerance.
    Pass,
    /// Wrong values, an unexpected error, a panic, or `Unsupported` on a mandatory case.
    Fail(String),
    /// The driver returned `Error::Unsupported` (allowed for non-f32 dtypes).
    Unsupported(String),
    /// The CPU reference does not define the case either (e.g. `sqrt` of ints in a kernel).
    Skipped,
}

/// One case and its verdict.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// `family/op/dtype/layout`, e.g. `binary/add/float32/transposed-a+bcast-b`.
    pub name: String,
    /// The verdict.
    pub outcome: Outcome,
}

/// Everything the suite found on one device.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The device, as printed (`cpu`, `cuda:0`).
    pub device: String,
    /// Every case, in the order run.
    pub results: Vec<CaseResult>,
}

impl Report {
    fn push(&mut self, name: impl Into<String>, outcome: Outcome) {
        self.results.push(CaseResult {
            name: name.into(),
            outcome,
        });
    }

    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    /// Cases skipped because the CPU reference does not define them.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped))
    }

    /// The failed cases.
    pub fn failures(&self) -> Vec<&CaseResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
            .collect()
    }

    /// The cases the driver reported as unsupported.
    pub fn unsupported(&self) -> Vec<&CaseResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Unsupported(_)))
            .collect()
    }

    /// True when nothing failed.
    pub fn is_ok(&self) -> bool {
        self.failures().is_empty()
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }

    /// Per family (the name up to the first `/`): (passed, failed, unsupported, skipped).
    pub fn by_family(&self) -> Vec<(String, [usize; 4])> {
        let mut out: Vec<(String, [usize; 4])> = Vec::new();
        for r in &self.results {
            let fam = r.name.split('/').next().unwrap_or("").to_string();
            let k = match r.outcome {
                Outcome::Pass => 0,
                Outcome::Fail(_) => 1,
                Outcome::Unsupported(_) => 2,
                Outcome::Skipped => 3,
            };
            match out.iter_mut().find(|(f, _)| *f == fam) {
                Some((_, c)) => c[k] += 1,
                None => {
                    let mut c = [0; 4];
                    c[k] = 1;
                    out.push((fam, c));
                }
            }
        }
        out
    }

    /// Panics listing every failure (and the counts) unless all cases passed or were
    /// unsupported where that is allowed.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.is_ok() {
            panic!("{self}");
        }
    }

    /// The report as JSON (for CI artifacts).
    pub fn to_json(&self) -> serde_json::Value {
        let cases: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                let (status, msg) = match &r.outcome {
                    Outcome::Pass => ("pass", String::new()),
                    Outcome::Fail(m) => ("fail", m.clone()),
                    Outcome::Unsupported(m) => ("unsupported", m.clone()),
                    Outcome::Skipped => ("skipped", String::new()),
                };
                serde_json::json!({ "name": r.name, "status": status, "message": msg })
            })
            .collect();
        serde_json::json!({
            "device": self.device,
            "passed": self.passed(),
            "failed": self.failures().len(),
            "unsupported": self.unsupported().len(),
            "skipped": self.skipped(),
            "cases": cases,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance on {}: {} cases, {} passed, {} failed, {} unsupported, {} skipped",
            self.device,
            self.results.len(),
            self.passed(),
            self.failures().len(),
            self.unsupported().len(),
            self.skipped()
        )?;
        for (fam, [p, x, u, s]) in self.by_family() {
            writeln!(
                f,
                "  {fam:<10} {p:>5} passed {x:>4} failed {u:>4} unsupported {s:>4} skipped"
            )?;
        }
        let unsup = self.unsupported();
        if !unsup.is_empty() {
            // Grouped by case name without its layout (`unary/exp/float64`).
            let mut groups: Vec<(String, usize)> = Vec::new();
            for r in &unsup {
                let key = r.name.rsplit_once('/').map_or(&*r.name, |(k, _)| k);
                match groups.iter_mut().find(|(g, _)| g == key) {
                    Some((_, n)) => *n += 1,
                    None => groups.push((key.to_string(), 1)),
                }
            }
            writeln!(
                f,
                "unsupported ({} cases in {} groups):",
                unsup.len(),
                groups.len()
            )?;
            for (g, n) in groups.iter().take(60) {
                writeln!(f, "  {g} ({n})")?;
            }
            if groups.len() > 60 {
                writeln!(f, "  ... and {} more groups", groups.len() - 60)?;
            }
        }
        let fails = self.failures();
        if !fails.is_empty() {
            writeln!(f, "FAILURES ({}):", fails.len())?;
            for r in fails {
                if let Outcome::Fail(m) = &r.outcome {
                    writeln!(f, "  {}: {m}", r.name)?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Tolerances
// ---------------------------------------------------------------------------------------

/// Machine epsilon of f64.
pub const EPS_F64: f64 = f64::EPSILON;
/// Machine epsilon of f32.
pub const EPS_F32: f64 = f32::EPSILON as f64;
/// Machine epsilon of f16 (2^-10).
pub const EPS_F16: f64 = 9.765_625e-4;
/// Machine epsilon of bf16 (2^-7).
pub const EPS_BF16: f64 = 7.812_5e-3;

/// How far apart the device and the CPU may be, by kind of op.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TolClass {
    /// Bit-exact: data movement, comparisons, min/max, rounding ops, + - * of floats.
    Exact,
    /// One correctly rounded op (div, sqrt, casts from f64 to 16-bit floats): a few ulps.
    Rounded,
    /// libm-style functions (exp, log, tanh, erf, pow, sin, Box–Muller): per-dtype rtol/atol.
    Transcendental,
    /// Sums in any order (reductions, matmul, scans, composed Tensor ops): NMSE, like
    /// ggml's `test-backend-ops`.
    Accumulate,
    /// Normal draws (Box–Muller: log, sqrt, cos of Philox uniforms): the same numbers as
    /// the CPU to f32 rounding of O(1) intermediates, so absolute near zero.
    RandomNormal,
}

/// A tolerance: an element passes when `|got - want| <= atol + rtol·|want|`, or, when
/// `nmse` is set, the case passes when `Σ(got - want)² / Σ want² <= nmse`. NaN must match
/// NaN and infinities must match exactly in every class.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Tol {
    /// Relative tolerance per element.
    pub rtol: f64,
    /// Absolute tolerance per element.
    pub atol: f64,
    /// Normalized mean squared error over the case, instead of per-element bounds.
    pub nmse: Option<f64>,
}

/// Bit-exact.
pub const EXACT: Tol = Tol {
    rtol: 0.0,
    atol: 0.0,
    nmse: None,
};
/// Ulps allowed for [`TolClass::Rounded`].
pub const ROUNDED_ULPS: f64 = 2.0;
/// f32 transcendentals: about 80 ulps, and 1e-6 absolute near zero (sin(π), tanh(0)).
pub const TRANSCENDENTAL_F32: Tol = Tol {
    rtol: 1e-5,
    atol: 1e-6,
    nmse: None,
};
/// f64 transcendentals.
pub const TRANSCENDENTAL_F64: Tol = Tol {
    rtol: 1e-12,
    atol: 1e-14,
    nmse: None,
};
/// f16 transcendentals (computed in f32, rounded once): 2 ulps.
pub const TRANSCENDENTAL_F16: Tol = Tol {
    rtol: 2.0 * EPS_F16,
    atol: 1e-4,
    nmse: None,
};
/// bf16 transcendentals: 2 ulps.
pub const TRANSCENDENTAL_BF16: Tol = Tol {
    rtol: 2.0 * EPS_BF16,
    atol: 1e-3,
    nmse: None,
};
/// f32 normal draws: 1e-5 relative, 1e-5 absolute (a draw near 0 is `r·cos(θ)` with θ
/// near π/2, where GPU `cos` is good to about 1e-7·r absolute, not relative).
pub const RANDOM_NORMAL_F32: Tol = Tol {
    rtol: 1e-5,
    atol: 1e-5,
    nmse: None,
};
/// NMSE bound for sums in f64.
pub const ACCUMULATE_F64_NMSE: f64 = 1e-24;
/// NMSE bound for sums in f32 (a single wrong element of a 100K-element case gives ~1e-5).
pub const ACCUMULATE_F32_NMSE: f64 = 1e-10;
/// NMSE bound for f16 (accumulated in f32, rounded once: at most an ulp apart everywhere).
pub const ACCUMULATE_F16_NMSE: f64 = 5e-6;
/// NMSE bound for bf16.
pub const ACCUMULATE_BF16_NMSE: f64 = 3e-4;

/// The named tolerance for an op class and the dtype of the compared values.
pub fn tolerance(class: TolClass, dtype: DType) -> Tol {
    if !dtype.is_float() {
        return EXACT;
    }
    let eps = match dtype {
        DType::F64 => EPS_F64,
        DType::F32 => EPS_F32,
        DType::F16 => EPS_F16,
        _ => EPS_BF16,
    };
    match class {
        TolClass::Exact => EXACT,
        TolClass::Rounded => Tol {
            rtol: ROUNDED_ULPS * eps,
            atol: f64::MIN_POSITIVE,
            nmse: None,
        },
        TolClass::Transcendental => match dtype {
            DType::F64 => TRANSCENDENTAL_F64,
            DType::F32 => TRANSCENDENTAL_F32,
            DType::F16 => TRANSCENDENTAL_F16,
            _ => TRANSCENDENTAL_BF16,
        },
        TolClass::RandomNormal => match dtype {
            DType::F32 => RANDOM_NORMAL_F32,
            _ => tolerance(TolClass::Transcendental, dtype),
        },
        TolClass::Accumulate => Tol {
            rtol: 0.0,
            atol: 0.0,
            nmse: Some(match dtype {
                DType::F64 => ACCUMULATE_F64_NMSE,
                DType::F32 => ACCUMULATE_F32_NMSE,
                DType::F16 => ACCUMULATE_F16_NMSE,
                _ => ACCUMULATE_BF16_NMSE,
            }),
        },
    }
}

/// Compares values (`got` from the device, `want` from the CPU). `Err` describes the
/// first mismatches.
pub fn compare_values(got: &[f64], want: &[f64], tol: Tol) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} elements, expected {}", got.len(), want.len()));
    }
    let mut bad = Vec::new();
    let mut nbad = 0usize;
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if !w.is_finite() || !g.is_finite() {
            g == w
        } else if tol.nmse.is_some() {
            num += (g - w) * (g - w);
            den += w * w;
            true
        } else {
            (g - w).abs() <= tol.atol + tol.rtol * w.abs()
        };
        if !ok {
            nbad += 1;
            if bad.len() < 5 {
                bad.push(format!("[{i}] got {g:e}, want {w:e}"));
            }
        }
    }
    if nbad > 0 {
        return Err(format!(
            "{nbad} of {} elements differ: {}",
            got.len(),
            bad.join(", ")
        ));
    }
    if let Some(max) = tol.nmse {
        let nmse = if den > 0.0 { num / den } else { num };
        if nmse > max {
            let worst = got
                .iter()
                .zip(want)
                .enumerate()
                .filter(|(_, (g, w))| g.is_finite() && w.is_finite())
                .max_by(|a, b| {
                    let da = (a.1 .0 - a.1 .1).abs();
                    let db = (b.1 .0 - b.1 .1).abs();
                    da.total_cmp(&db)
                })
                .map(|(i, (g, w))| format!("[{i}] got {g:e}, want {w:e}"))
                .unwrap_or_default();
            return Err(format!("NMSE {nmse:e} > {max:e} (worst {worst})"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Host data: encoding, a PRNG, layouts
// ---------------------------------------------------------------------------------------

/// f32 → IEEE half bits, round to nearest even.
fn f32_to_f16(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1u32 << (shift - 1);
        let mut r = m >> shift;
        let rem = m & ((1 << shift) - 1);
        if rem > half || (rem == half && r & 1 == 1) {
            r += 1;
        }
        return sign | r as u16;
    }
    let mut r = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    if rem > 0x1000 || (rem == 0x1000 && r & 1 == 1) {
        r += 1;
    }
    sign | r as u16
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let man = (h & 0x3ff) as f64;
    sign * match exp {
        0 => man * 2f64.powi(-24),
        0x1f if man == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1024.0 + man) * 2f64.powi(exp - 25),
    }
}

fn f32_to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// Host values as little-endian bytes of `dtype` (`as` conversions; bool is "nonzero").
pub fn encode(dtype: DType, vals: &[f64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(vals.len() * dtype.size());
    for &v in vals {
        match dtype {
            DType::Bool => out.push((v != 0.0) as u8),
            DType::U8 => out.push(v as u8),
            DType::I8 => out.push(v as i8 as u8),
            DType::I32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            DType::I64 => out.extend_from_slice(&(v as i64).to_le_bytes()),
            DType::F16 => out.extend_from_slice(&f32_to_f16(v as f32).to_le_bytes()),
            DType::BF16 => out.extend_from_slice(&f32_to_bf16(v as f32).to_le_bytes()),
            DType::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
            DType::F64 => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
    out
}

/// Little-endian bytes of `dtype` as f64. Bool bytes are read as their value, so a driver
/// that writes 0xFF for `true` fails the exact comparison.
pub fn decode(dtype: DType, bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(dtype.size())
        .map(|c| match dtype {
            DType::Bool | DType::U8 => c[0] as f64,
            DType::I8 => c[0] as i8 as f64,
            DType::I32 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            DType::I64 => i64::from_le_bytes(c.try_into().expect("8 bytes")) as f64,
            DType::F16 => f16_to_f64(u16::from_le_bytes([c[0], c[1]])),
            DType::BF16 => f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64,
            DType::F32 => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
            DType::F64 => f64::from_le_bytes(c.try_into().expect("8 bytes")),
        })
        .collect()
}

/// `v` rounded to `dtype` (what `decode(encode(v))` gives, without the bytes).
fn quantize(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::Bool => (v != 0.0) as u8 as f64,
        DType::U8 => v as u8 as f64,
        DType::I8 => v as i8 as f64,
        DType::I32 => v as i32 as f64,
        DType::I64 => v as i64 as f64,
        DType::F16 => f16_to_f64(f32_to_f16(v as f32)),
        DType::BF16 => f32::from_bits((f32_to_bf16(v as f32) as u32) << 16) as f64,
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
    }
}

/// xorshift64*: a tiny deterministic generator for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from any seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A generator seeded by a name (each case draws the same data in any order).
    pub fn named(name: &str) -> Rng {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in name.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        Rng::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Value domains for generated data. Floats are multiples of 1/16 (exact in every float
/// dtype, so sums and products of a few are exact in any order).
#[derive(Copy, Clone, Debug, PartialEq)]
enum Dom {
    /// Floats k/16 in [-3, 3]; ints in [-20, 20] (u8 [0, 40]).
    General,
    /// Floats in [1/16, 4]; ints in [1, 20].
    Positive,
    /// Like General without zero.
    NonZero,
    /// Floats k/4 in [-1.5, 1.5], ints in [-3, 3]: ties and equal pairs happen.
    Small,
    /// Floats in [0.5, 1.5]; ints in {-1, 1, 2}: long products stay finite.
    Near1,
    /// Floats k/16 in (-1, 3] (log1p's domain).
    AboveM1,
    /// Exponents: floats k/4 in [-3, 3]; ints in [0, 5].
    PowExp,
    /// Bases: floats in [1/16, 4]; ints in [-4, 4].
    PowBase,
    /// Indices in `0..n`.
    Index(usize),
}

fn draw(dom: Dom, dt: DType, r: &mut Rng) -> f64 {
    if dt == DType::Bool {
        return r.int(0, 1) as f64;
    }
    let float = dt.is_float();
    let u8_ = dt == DType::U8;
    match dom {
        Dom::Index(n) => r.below(n.max(1)) as f64,
        Dom::General if float => r.int(-48, 48) as f64 / 16.0,
        Dom::General if u8_ => r.int(0, 40) as f64,
        Dom::General => r.int(-20, 20) as f64,
        Dom::Positive if float => r.int(1, 64) as f64 / 16.0,
        Dom::Positive => r.int(1, 20) as f64,
        Dom::NonZero => loop {
            let v = draw(Dom::General, dt, r);
            if v != 0.0 {
                break v;
            }
        },
        Dom::Small if float => r.int(-6, 6) as f64 / 4.0,
        Dom::Small if u8_ => r.int(0, 3) as f64,
        Dom::Small => r.int(-3, 3) as f64,
        Dom::Near1 if float => r.int(8, 24) as f64 / 16.0,
        Dom::Near1 => [-1.0, 1.0, 1.0, 2.0][r.below(4)],
        Dom::AboveM1 if float => r.int(-15, 48) as f64 / 16.0,
        Dom::AboveM1 => r.int(0, 20) as f64,
        Dom::PowExp if float => r.int(-12, 12) as f64 / 4.0,
        Dom::PowExp => r.int(0, 5) as f64,
        Dom::PowBase if float => r.int(1, 64) as f64 / 16.0,
        Dom::PowBase if u8_ => r.int(0, 4) as f64,
        Dom::PowBase => r.int(-4, 4) as f64,
    }
}

/// Layout variants for an operand of a given shape.
#[derive(Copy, Clone, Debug, PartialEq)]
enum V {
    /// Row-major at offset 0.
    C,
    /// Row-major at offset 3.
    Off,
    /// Column-major (every dim reversed), offset 1.
    T,
    /// The last two dims swapped (a transposed matrix), offset 0.
    Swap,
    /// Every row padded by one element and a step of 2 in the last dim, offset 1.
    Step,
    /// Stride 0 in the first dim (broadcast rows).
    BLead,
    /// Stride 0 in the last dim.
    BLast,
    /// Every stride 0 (a broadcast scalar), offset 2.
    BAll,
}

fn contig_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![0; shape.len()];
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        s[i] = acc;
        acc *= shape[i].max(1);
    }
    s
}

fn layout(v: V, shape: &[usize]) -> Layout {
    let r = shape.len();
    let (strides, offset): (Vec<usize>, usize) = match v {
        V::C => (contig_strides(shape), 0),
        V::Off => (contig_strides(shape), 3),
        V::T => {
            let mut s = vec![0; r];
            let mut acc = 1;
            for i in 0..r {
                s[i] = acc;
                acc *= shape[i].max(1);
            }
            (s, 1)
        }
        V::Swap if r >= 2 => {
            let mut sh = shape.to_vec();
            sh.swap(r - 2, r - 1);
            let mut s = contig_strides(&sh);
            s.swap(r - 2, r - 1);
            (s, 0)
        }
        V::Swap => (contig_strides(shape), 0),
        V::Step => {
            let mut s = vec![0; r];
            if r > 0 {
                s[r - 1] = 2;
                for i in (0..r - 1).rev() {
                    s[i] = s[i + 1] * shape[i + 1].max(1) + 1;
                }
            }
            (s, 1)
        }
        V::BLead | V::BLast if r == 0 => (vec![], 0),
        V::BLead => {
            let mut sh = shape.to_vec();
            sh[0] = 1;
            let mut s = contig_strides(&sh);
            s[0] = 0;
            (s, 0)
        }
        V::BLast => {
            let mut sh = shape.to_vec();
            sh[r - 1] = 1;
            let mut s = contig_strides(&sh);
            s[r - 1] = 0;
            (s, 0)
        }
        V::BAll => (vec![0; r], 2),
    };
    Layout {
        shape: Shape::new(shape),
        strides: strides.into_iter().collect(),
        offset,
    }
}

/// Row-major element offsets of a view (host-side index arithmetic, the reference for
/// every layout).
fn offsets(l: &Layout) -> Vec<usize> {
    let dims = l.dims();
    let n = l.numel();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; dims.len()];
    let mut off = l.offset;
    for _ in 0..n {
        out.push(off);
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            off += l.strides[d];
            if idx[d] < dims[d] {
                break;
            }
            off -= l.strides[d] * dims[d];
            idx[d] = 0;
        }
    }
    out
}

/// Extra elements after every view's span, to catch writes past the view.
const SLACK: usize = 2;

fn sentinel(dt: DType) -> f64 {
    match dt {
        DType::Bool => 1.0,
        DType::U8 => 77.0,
        _ => -77.0,
    }
}

// ---------------------------------------------------------------------------------------
// Driver-level cases
// ---------------------------------------------------------------------------------------

struct HostBuf {
    dtype: DType,
    vals: Vec<f64>,
}

#[derive(Clone)]
struct Opnd {
    buf: usize,
    layout: Layout,
}

struct Case {
    name: String,
    op: PrimOp,
    bufs: Vec<HostBuf>,
    ins: Vec<Opnd>,
    out: Opnd,
    tol: TolClass,
    mandatory: bool,
    skip: bool,
}

/// Builds one case's host buffers with data drawn from a generator seeded by its name.
struct Builder {
    name: String,
    rng: Rng,
    bufs: Vec<HostBuf>,
    /// Filtered out: operands get no data and the case does not run.
    skip: bool,
}

impl Builder {
    fn new(name: String) -> Builder {
        Builder {
            rng: Rng::named(&name),
            name,
            bufs: Vec::new(),
            skip: false,
        }
    }

    fn buf_len(l: &Layout) -> usize {
        (l.span_end() + SLACK).max(1)
    }

    /// An operand whose whole buffer is drawn from `dom`.
    fn input(&mut self, dt: DType, l: Layout, dom: Dom) -> Opnd {
        if self.skip {
            return self.push(dt, Vec::new(), l);
        }
        let n = Builder::buf_len(&l);
        let vals = (0..n)
            .map(|_| quantize(dt, draw(dom, dt, &mut self.rng)))
            .collect();
        self.push(dt, vals, l)
    }

    /// An operand whose buffer cycles through `vals`.
    fn listed(&mut self, dt: DType, l: Layout, vals: &[f64]) -> Opnd {
        if self.skip {
            return self.push(dt, Vec::new(), l);
        }
        let n = Builder::buf_len(&l);
        let v = (0..n).map(|i| quantize(dt, vals[i % vals.len()])).collect();
        self.push(dt, v, l)
    }

    /// An output filled with a sentinel, so writes outside the view show.
    fn output(&mut self, dt: DType, l: Layout) -> Opnd {
        if self.skip {
            return self.push(dt, Vec::new(), l);
        }
        let n = Builder::buf_len(&l);
        self.push(dt, vec![quantize(dt, sentinel(dt)); n], l)
    }

    fn push(&mut self, dtype: DType, vals: Vec<f64>, layout: Layout) -> Opnd {
        self.bufs.push(HostBuf { dtype, vals });
        Opnd {
            buf: self.bufs.len() - 1,
            layout,
        }
    }

    fn case(self, op: PrimOp, ins: Vec<Opnd>, out: Opnd, tol: TolClass, mandatory: bool) -> Case {
        Case {
            skip: self.skip,
            name: self.name,
            op,
            bufs: self.bufs,
            ins,
            out,
            tol,
            mandatory,
        }
    }
}

/// Buffers freed on drop, so a failing case leaks nothing.
struct Bufs<'d> {
    d: &'d dyn Driver,
    ids: Vec<BufId>,
}

impl<'d> Bufs<'d> {
    fn new(d: &'d dyn Driver) -> Bufs<'d> {
        Bufs { d, ids: Vec::new() }
    }

    fn upload(&mut self, dt: DType, vals: &[f64]) -> lantern::Result<BufId> {
        let bytes = encode(dt, vals);
        let id = self.d.alloc(bytes.len().max(1))?;
        self.ids.push(id);
        self.d.write(id, 0, &bytes)?;
        Ok(id)
    }
}

impl Drop for Bufs<'_> {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            self.d.free(id);
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_string()
    }
}

/// The CPU reference on dense copies of the views; `Ok(None)` when the CPU does not
/// define the case. Returns the expected contents of the whole output buffer.
fn reference(refdev: &Device, case: &Case) -> Result<Option<Vec<f64>>, String> {
    let d = refdev.driver();
    let mut bufs = Bufs::new(d);
    let dense = |o: &Opnd| -> Vec<f64> {
        let hb = &case.bufs[o.buf];
        offsets(&o.layout).iter().map(|&i| hb.vals[i]).collect()
    };
    let mut views = Vec::new();
    for o in case.ins.iter().chain(std::iter::once(&case.out)) {
        let dt = case.bufs[o.buf].dtype;
        let id = bufs
            .upload(dt, &dense(o))
            .map_err(|e| format!("reference upload: {e}"))?;
        views.push(View {
            buf: id,
            layout: Layout::contiguous(o.layout.shape.clone()),
            dtype: dt,
        });
    }
    let out = views.pop().expect("output view");
    match d.exec(&case.op, &views, std::slice::from_ref(&out)) {
        Ok(()) => {}
        Err(Error::Unsupported { .. }) => return Ok(None),
        Err(e) => return Err(format!("the CPU reference failed: {e}")),
    }
    let bytes = d
        .read_blocking(&out)
        .map_err(|e| format!("reference read: {e}"))?;
    let res = decode(out.dtype, &bytes);
    let mut full = case.bufs[case.out.buf].vals.clone();
    for (k, off) in offsets(&case.out.layout).into_iter().enumerate() {
        full[off] = res[k];
    }
    Ok(Some(full))
}

/// Runs the case on the device's views; returns the whole output buffer.
fn on_device(dev: &Device, case: &Case) -> lantern::Result<Vec<f64>> {
    let d = dev.driver();
    let mut bufs = Bufs::new(d);
    let mut ids = Vec::new();
    for hb in &case.bufs {
        ids.push(bufs.upload(hb.dtype, &hb.vals)?);
    }
    let view = |o: &Opnd| View {
        buf: ids[o.buf],
        layout: o.layout.clone(),
        dtype: case.bufs[o.buf].dtype,
    };
    let ins: Vec<View> = case.ins.iter().map(view).collect();
    d.exec(&case.op, &ins, &[view(&case.out)])?;
    d.synchronize()?;
    let ob = &case.bufs[case.out.buf];
    let whole = View {
        buf: ids[case.out.buf],
        layout: Layout::contiguous(Shape::new(&[ob.vals.len()])),
        dtype: ob.dtype,
    };
    Ok(decode(ob.dtype, &d.read_blocking(&whole)?))
}

fn judge_case(dev: &Device, refdev: &Device, case: &Case) -> Outcome {
    let want = match catch_unwind(AssertUnwindSafe(|| reference(refdev, case))) {
        Ok(Ok(Some(w))) => w,
        Ok(Ok(None)) => return Outcome::Skipped,
        Ok(Err(m)) => return Outcome::Fail(m),
        Err(p) => {
            return Outcome::Fail(format!("the CPU reference panicked: {}", panic_message(p)))
        }
    };
    let got = match catch_unwind(AssertUnwindSafe(|| on_device(dev, case))) {
        Ok(Ok(g)) => g,
        Ok(Err(e @ Error::Unsupported { .. })) => {
            return if case.mandatory {
                Outcome::Fail(format!("f32 is mandatory on every op: {e}"))
            } else {
                Outcome::Unsupported(e.to_string())
            }
        }
        Ok(Err(e)) => return Outcome::Fail(format!("error: {e}")),
        Err(p) => return Outcome::Fail(format!("the driver panicked: {}", panic_message(p))),
    };
    let dt = case.bufs[case.out.buf].dtype;
    if got.len() != want.len() {
        return Outcome::Fail(format!(
            "read {} elements of the output buffer, expected {}",
            got.len(),
            want.len()
        ));
    }
    let inside = offsets(&case.out.layout);
    let mut mask = vec![false; want.len()];
    for &o in &inside {
        mask[o] = true;
    }
    for (i, m) in mask.iter().enumerate() {
        let same = got[i] == want[i] || (got[i].is_nan() && want[i].is_nan());
        if !m && !same {
            return Outcome::Fail(format!(
                "element {i} of the output buffer, outside the output view {:?}, was changed from {} to {}",
                case.out.layout, want[i], got[i]
            ));
        }
    }
    let g: Vec<f64> = inside.iter().map(|&o| got[o]).collect();
    let w: Vec<f64> = inside.iter().map(|&o| want[o]).collect();
    match compare_values(&g, &w, tolerance(case.tol, dt)) {
        Ok(()) => Outcome::Pass,
        Err(m) => Outcome::Fail(m),
    }
}

struct Suite<'a> {
    dev: &'a Device,
    refdev: Device,
    report: Report,
    /// Only cases whose name contains this run.
    filter: String,
}

impl Suite<'_> {
    fn wants(&self, name: &str) -> bool {
        name.contains(self.filter.as_str())
    }

    fn builder(&self, name: String) -> Builder {
        let mut b = Builder::new(name);
        b.skip = !self.wants(&b.name);
        b
    }

    /// Whether the CPU reference defines `op` for these dtypes (probed on one element):
    /// when it does not, the op's cases for them are recorded as one skip.
    fn defined(&mut self, name: &str, op: &PrimOp, ins: &[DType], out: DType) -> bool {
        let mut b = Builder::new(format!("{name}/defined"));
        let ins: Vec<Opnd> = ins
            .iter()
            .map(|&dt| b.input(dt, layout(V::C, &[1]), Dom::Positive))
            .collect();
        let o = b.output(out, layout(V::C, &[1]));
        let case = b.case(op.clone(), ins, o, TolClass::Exact, false);
        match reference(&self.refdev, &case) {
            Ok(None) => {
                if self.wants(name) {
                    self.report.push(name, Outcome::Skipped);
                }
                false
            }
            _ => true,
        }
    }

    fn run(&mut self, case: Case) {
        if case.skip {
            return;
        }
        let o = judge_case(self.dev, &self.refdev, &case);
        self.report.push(case.name, o);
    }

    fn check(&mut self, name: &str, f: impl FnOnce() -> Result<(), String>) {
        if !self.wants(name) {
            return;
        }
        let o = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => Outcome::Pass,
            Ok(Err(m)) => Outcome::Fail(m),
            Err(p) => Outcome::Fail(format!("panicked: {}", panic_message(p))),
        };
        self.report.push(name, o);
    }
}

/// The dtypes the compute ops run on.
const MAIN_DTYPES: [DType; 7] = [
    DType::F32,
    DType::F64,
    DType::F16,
    DType::BF16,
    DType::I32,
    DType::I64,
    DType::Bool,
];

/// Float edge values: signed zeros, halves (round half to even), infinities, NaN.
const EDGE: [f64; 18] = [
    0.0,
    -0.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    1.0,
    -1.0,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    0.1,
    100.0,
    -100.0,
    3.0,
    1e-3,
    -7.25,
];

/// Dtypes that also run the large (past 32K elements, threaded) layouts: the suite runs
/// in debug builds, so the others stop at the small ones.
fn large_ok(dt: DType) -> bool {
    matches!(dt, DType::F32 | DType::I32)
}

/// Elementwise layouts of one input: (name, shape, input, output).
type Ew1 = (&'static str, &'static [usize], V, V);
const EW1: [Ew1; 12] = [
    ("contig", &[3, 5], V::C, V::C),
    ("0-dim", &[], V::Off, V::Off),
    ("empty", &[0, 4], V::C, V::C),
    ("empty-mid", &[2, 0, 3], V::T, V::Step),
    ("transposed-in", &[3, 5], V::T, V::C),
    ("stepped-in-out", &[3, 5], V::Step, V::Step),
    ("bcast-in+transposed-out", &[3, 5], V::BLead, V::T),
    ("bcast-scalar-in", &[4, 3], V::BAll, V::C),
    ("rank3-perm", &[2, 3, 4], V::T, V::Off),
    ("rank7", &[2, 1, 3, 1, 2, 1, 2], V::Step, V::T),
    ("large-transposed", &[129, 257], V::T, V::C),
    ("large", &[33000], V::C, V::Off),
];

/// Elementwise layouts of two inputs: (name, shape, a, b, output).
type Ew2 = (&'static str, &'static [usize], V, V, V);
const EW2: [Ew2; 10] = [
    ("contig", &[3, 5], V::C, V::C, V::C),
    ("0-dim", &[], V::Off, V::Off, V::Off),
    ("empty", &[0, 4], V::C, V::BLead, V::C),
    ("transposed-a+bcast-b", &[3, 5], V::T, V::BLead, V::C),
    (
        "bcast-last-a+stepped-b+stepped-out",
        &[3, 5],
        V::BLast,
        V::Step,
        V::Step,
    ),
    ("scalar-a+transposed-out", &[4, 3], V::BAll, V::C, V::T),
    ("scalar-b", &[4, 3], V::C, V::BAll, V::C),
    ("rank7", &[2, 1, 3, 1, 2, 1, 2], V::Step, V::T, V::Off),
    ("large", &[129, 257], V::C, V::T, V::C),
    ("large-scalar-b", &[33000], V::C, V::BAll, V::C),
];

fn storage_cases(s: &mut Suite) {
    // Copy: every dtype, every layout, and an aliased (in-place) copy.
    for dt in DType::ALL {
        for &(ln, shape, vi, vo) in EW1.iter() {
            if ln.starts_with("large") && !large_ok(dt) {
                continue;
            }
            let mut b = s.builder(format!("copy/{dt}/{ln}"));
            let x = b.input(dt, layout(vi, shape), Dom::General);
            let y = b.output(dt, layout(vo, shape));
            s.run(b.case(PrimOp::Copy, vec![x], y, TolClass::Exact, dt == DType::F32));
        }
        let mut b = s.builder(format!("copy/{dt}/inplace"));
        let x = b.input(dt, layout(V::Step, &[3, 5]), Dom::General);
        let y = x.clone();
        s.run(b.case(PrimOp::Copy, vec![x], y, TolClass::Exact, dt == DType::F32));
    }
    // Cast: every pair, values inside both ranges; specials where the target is a float or
    // bool (NaN → true), and values that round for 16-bit targets.
    let mand = [DType::F32, DType::I32, DType::I64, DType::Bool];
    for src in DType::ALL {
        for dst in DType::ALL {
            let range = |d: DType| -> (f64, f64) {
                match d {
                    DType::U8 => (0.0, 255.0),
                    DType::I8 => (-128.0, 127.0),
                    DType::Bool => (0.0, 1.0),
                    _ => (-300.0, 300.0),
                }
            };
            let (lo, hi) = {
                let (a, b) = range(src);
                let (c, d) = range(if dst == DType::Bool { DType::I32 } else { dst });
                (a.max(c), b.min(d))
            };
            // Specials first, so the small layouts (15 elements) hold them too.
            let mut vals: Vec<f64> = Vec::new();
            if src.is_float() && (dst.is_float() || dst == DType::Bool) {
                vals.extend([
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    -0.0,
                    0.1,
                    1.0 / 3.0,
                    1e-5,
                    65519.0,
                    70000.0,
                    -1e-30,
                ]);
            }
            let mut r = Rng::named(&format!("cast/{src}/{dst}"));
            for _ in 0..40 {
                let v = r.int(lo as i64 * 16, hi as i64 * 16) as f64 / 16.0;
                vals.push(if src.is_float() { v } else { v.trunc() });
            }
            let tol = if src == DType::F64 && matches!(dst, DType::F16 | DType::BF16) {
                TolClass::Rounded
            } else {
                TolClass::Exact
            };
            let mandatory = mand.contains(&src)
                && mand.contains(&dst)
                && (src == DType::F32 || dst == DType::F32);
            let cast_layouts: [Ew1; 6] = [
                EW1[0],
                EW1[1],
                EW1[2],
                ("transposed-in+stepped-out", &[3, 5], V::T, V::Step),
                ("bcast-in", &[3, 5], V::BLead, V::C),
                EW1[11],
            ];
            for &(ln, shape, vi, vo) in cast_layouts.iter() {
                if ln == "large" && src != DType::F32 && dst != DType::F32 {
                    continue;
                }
                let mut b = s.builder(format!("cast/{src}->{dst}/{ln}"));
                let x = if ln == "large" {
                    let mut r = Rng::named(ln);
                    let big: Vec<f64> = (0..64).map(|_| vals[r.below(vals.len())]).collect();
                    b.listed(src, layout(vi, shape), &big)
                } else {
                    b.listed(src, layout(vi, shape), &vals)
                };
                let y = b.output(dst, layout(vo, shape));
                s.run(b.case(PrimOp::Cast, vec![x], y, tol, mandatory));
            }
        }
    }
    // Fill: every dtype, scalar kinds, output layouts.
    for dt in DType::ALL {
        let vals: Vec<(&str, Scalar)> = {
            let mut v = vec![
                ("int", Scalar::Int(if dt == DType::U8 { 3 } else { -3 })),
                ("bool", Scalar::Bool(true)),
                ("float", Scalar::Float(2.5)),
            ];
            if dt.is_float() {
                v.push(("nan", Scalar::Float(f64::NAN)));
                v.push(("-inf", Scalar::Float(f64::NEG_INFINITY)));
            }
            v
        };
        for (vn, v) in vals {
            for (ln, shape, vo) in [
                ("contig", &[3usize, 5][..], V::C),
                ("0-dim", &[], V::Off),
                ("empty", &[0, 3], V::C),
                ("stepped", &[3, 5], V::Step),
                ("transposed", &[2, 3, 4], V::T),
                ("large", &[40000], V::Off),
            ] {
                if ln == "large" && (!large_ok(dt) || vn != "float") {
                    continue;
                }
                let mut b = s.builder(format!("fill/{dt}/{vn}/{ln}"));
                let y = b.output(dt, layout(vo, shape));
                let mand = dt == DType::F32;
                s.run(b.case(PrimOp::Fill(v), vec![], y, TolClass::Exact, mand));
            }
        }
    }
    // Iota: 1-D outputs, strided, empty, large.
    for dt in DType::ALL {
        if dt == DType::Bool {
            continue;
        }
        let params: &[(f64, f64)] = if dt.is_float() {
            &[(0.0, 1.0), (-3.5, 0.25), (2.0, -0.5)]
        } else if dt == DType::U8 {
            &[(0.0, 1.0), (3.0, 2.0)]
        } else {
            &[(0.0, 1.0), (-3.0, 2.0), (5.0, -2.0)]
        };
        for &(start, step) in params {
            for (ln, n, vo) in [
                ("contig", 10usize, V::C),
                ("offset", 10, V::Off),
                ("stepped", 10, V::Step),
                ("empty", 0, V::C),
                ("large", 40000, V::C),
            ] {
                if n == 40000 && !large_ok(dt) {
                    continue;
                }
                let mut b = s.builder(format!("iota/{dt}/{start}:{step}/{ln}"));
                let y = b.output(dt, layout(vo, &[n]));
                s.run(b.case(
                    PrimOp::Iota { start, step },
                    vec![],
                    y,
                    TolClass::Rounded,
                    dt == DType::F32,
                ));
            }
        }
    }
}

fn unary_dom(op: UnaryOp) -> Dom {
    use UnaryOp::*;
    match op {
        Sqrt | Rsqrt | Log | Log2 => Dom::Positive,
        Log1p => Dom::AboveM1,
        Recip => Dom::NonZero,
        _ => Dom::General,
    }
}

fn unary_tol(op: UnaryOp) -> TolClass {
    use UnaryOp::*;
    match op {
        Neg | Abs | Sign | Floor | Ceil | Round | Trunc | LogicalNot => TolClass::Exact,
        Recip | Sqrt => TolClass::Rounded,
        _ => TolClass::Transcendental,
    }
}

fn unary_cases(s: &mut Suite) {
    for op in UnaryOp::ALL {
        for dt in MAIN_DTYPES {
            let mand = dt == DType::F32;
            let base = format!("unary/{}/{dt}", op.name());
            if !s.defined(&base, &PrimOp::Unary(op), &[dt], dt) {
                continue;
            }
            for &(ln, shape, vi, vo) in EW1.iter() {
                if ln.starts_with("large") && !large_ok(dt) {
                    continue;
                }
                let mut b = s.builder(format!("{base}/{ln}"));
                let x = b.input(dt, layout(vi, shape), unary_dom(op));
                let y = b.output(dt, layout(vo, shape));
                s.run(b.case(PrimOp::Unary(op), vec![x], y, unary_tol(op), mand));
            }
            let mut b = s.builder(format!("{base}/inplace"));
            let x = b.input(dt, layout(V::Step, &[3, 5]), unary_dom(op));
            let y = x.clone();
            s.run(b.case(PrimOp::Unary(op), vec![x], y, unary_tol(op), mand));
            if dt.is_float() {
                let mut b = s.builder(format!("{base}/edge-values"));
                let x = b.listed(dt, layout(V::C, &[EDGE.len()]), &EDGE);
                let y = b.output(dt, layout(V::C, &[EDGE.len()]));
                s.run(b.case(PrimOp::Unary(op), vec![x], y, unary_tol(op), mand));
            }
        }
    }
}

fn binary_doms(op: BinaryOp) -> (Dom, Dom) {
    use BinaryOp::*;
    match op {
        Div | Rem | FloorDiv => (Dom::General, Dom::NonZero),
        Pow => (Dom::PowBase, Dom::PowExp),
        Eq | Ne | Lt | Le | Gt | Ge | Maximum | Minimum => (Dom::Small, Dom::Small),
        _ => (Dom::General, Dom::General),
    }
}

fn binary_tol(op: BinaryOp) -> TolClass {
    use BinaryOp::*;
    match op {
        Div | Rem | FloorDiv => TolClass::Rounded,
        Pow => TolClass::Transcendental,
        _ => TolClass::Exact,
    }
}

fn binary_cases(s: &mut Suite) {
    // Pairs of edge values: NaN on either side, infinities, zeros of both signs.
    let ea: Vec<f64> = EDGE
        .iter()
        .flat_map(|&a| EDGE.iter().map(move |_| a))
        .collect();
    let eb: Vec<f64> = EDGE.iter().flat_map(|_| EDGE.iter().copied()).collect();
    for op in BinaryOp::ALL {
        for dt in MAIN_DTYPES {
            let mand = dt == DType::F32;
            let odt = if op.is_cmp() || op.is_logical() {
                DType::Bool
            } else {
                dt
            };
            let (da, db) = binary_doms(op);
            let base = format!("binary/{}/{dt}", op.name());
            if !s.defined(&base, &PrimOp::Binary(op), &[dt, dt], odt) {
                continue;
            }
            for &(ln, shape, va, vb, vo) in EW2.iter() {
                if ln.starts_with("large") && !large_ok(dt) {
                    continue;
                }
                let mut b = s.builder(format!("{base}/{ln}"));
                let x = b.input(dt, layout(va, shape), da);
                let y = b.input(dt, layout(vb, shape), db);
                let o = b.output(odt, layout(vo, shape));
                s.run(b.case(PrimOp::Binary(op), vec![x, y], o, binary_tol(op), mand));
            }
            if odt == dt {
                let mut b = s.builder(format!("{base}/inplace"));
                let x = b.input(dt, layout(V::Step, &[3, 5]), da);
                let y = b.input(dt, layout(V::BLead, &[3, 5]), db);
                let o = x.clone();
                s.run(b.case(PrimOp::Binary(op), vec![x, y], o, binary_tol(op), mand));
            }
            if dt.is_float() && op != BinaryOp::Rem {
                let mut b = s.builder(format!("{base}/edge-values"));
                let n = ea.len();
                let x = b.listed(dt, layout(V::C, &[n]), &ea);
                let y = b.listed(dt, layout(V::C, &[n]), &eb);
                let o = b.output(odt, layout(V::C, &[n]));
                s.run(b.case(PrimOp::Binary(op), vec![x, y], o, binary_tol(op), mand));
            }
        }
    }
}

fn where_cases(s: &mut Suite) {
    type W = (&'static str, &'static [usize], V, V, V, V);
    #[rustfmt::skip]
    let lays: [W; 7] = [
        ("contig", &[3, 5], V::C, V::C, V::C, V::C),
        ("0-dim", &[], V::Off, V::Off, V::Off, V::Off),
        ("empty", &[0, 5], V::C, V::C, V::BLead, V::C),
        ("bcast-cond+transposed-a+scalar-b", &[3, 5], V::BLead, V::T, V::BAll, V::Step),
        ("rank7", &[2, 1, 3, 1, 2, 1, 2], V::T, V::Step, V::C, V::Off),
        ("large", &[129, 257], V::T, V::C, V::BLast, V::C),
        ("inplace-b", &[3, 5], V::C, V::BLead, V::Step, V::Step),
    ];
    for dt in DType::ALL {
        for &(ln, shape, vc, va, vb, vo) in lays.iter() {
            if ln == "large" && !large_ok(dt) {
                continue;
            }
            let mut b = s.builder(format!("where/{dt}/{ln}"));
            let c = b.input(DType::Bool, layout(vc, shape), Dom::General);
            let x = b.input(dt, layout(va, shape), Dom::General);
            let y = b.input(dt, layout(vb, shape), Dom::General);
            let o = if ln.starts_with("inplace") {
                y.clone()
            } else {
                b.output(dt, layout(vo, shape))
            };
            let mand = dt == DType::F32;
            s.run(b.case(PrimOp::Where, vec![c, x, y], o, TolClass::Exact, mand));
        }
    }
}

fn reduce_cases(s: &mut Suite) {
    type R = (&'static str, &'static [usize], &'static [usize], V, V);
    #[rustfmt::skip]
    let lays: [R; 15] = [
        ("rows", &[4, 6], &[1], V::C, V::C),
        ("cols", &[4, 6], &[0], V::C, V::C),
        ("all", &[4, 6], &[0, 1], V::C, V::C),
        ("transposed-in", &[4, 6], &[1], V::T, V::C),
        ("3d-outer-axes", &[3, 4, 5], &[0, 2], V::Step, V::Off),
        ("bcast-kept", &[4, 6], &[1], V::BLead, V::C),
        ("bcast-reduced", &[4, 6], &[0], V::BLead, V::C),
        ("strided-out", &[4, 6], &[1], V::C, V::Step),
        ("empty-kept", &[0, 3], &[1], V::C, V::C),
        ("empty-reduced", &[0, 3], &[0], V::C, V::C),
        ("rank7", &[2, 1, 3, 1, 2, 1, 2], &[0, 2, 6], V::T, V::C),
        ("large-rows", &[64, 1030], &[1], V::C, V::C),
        ("large-cols", &[1030, 64], &[0], V::C, V::C),
        ("large-all", &[40000], &[0], V::C, V::C),
        ("large-transposed", &[300, 200], &[1], V::T, V::Step),
    ];
    for op in ReduceOp::ALL {
        let arg = matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin);
        for dt in MAIN_DTYPES {
            let odt = if arg { DType::I64 } else { dt };
            let dom = match op {
                ReduceOp::Prod => Dom::Near1,
                ReduceOp::Sum => Dom::General,
                _ => Dom::Small,
            };
            let tol = match op {
                ReduceOp::Sum | ReduceOp::Prod => TolClass::Accumulate,
                _ => TolClass::Exact,
            };
            for &(ln, shape, axes, vi, vo) in lays.iter() {
                if (arg && axes.len() != 1) || (ln.starts_with("large") && !large_ok(dt)) {
                    continue;
                }
                if ln == "empty-reduced" && !matches!(op, ReduceOp::Sum | ReduceOp::Prod) {
                    continue;
                }
                if op == ReduceOp::Prod && dt != DType::F64 && ln.starts_with("large") {
                    // Long products of 16-bit or rounded values drift with the order.
                    if dt.is_float() && dt != DType::F32 {
                        continue;
                    }
                }
                let mut oshape = shape.to_vec();
                for &a in axes {
                    oshape[a] = 1;
                }
                let mut b = s.builder(format!("reduce/{}/{dt}/{ln}", op.name()));
                let x = b.input(dt, layout(vi, shape), dom);
                let y = b.output(odt, layout(vo, &oshape));
                s.run(b.case(
                    PrimOp::Reduce {
                        op,
                        axes: Axes::from_slice(axes),
                    },
                    vec![x],
                    y,
                    tol,
                    dt == DType::F32,
                ));
            }
            if dt.is_float() && !matches!(op, ReduceOp::Sum | ReduceOp::Prod) {
                // NaN propagates through max/min and wins argmax/argmin; ties pick the first.
                let vals = [
                    1.0,
                    f64::NAN,
                    3.0,
                    3.0,
                    -1.0,
                    2.0,
                    2.0,
                    -1.0,
                    0.5,
                    0.5,
                    0.5,
                    0.5,
                ];
                let mut b = s.builder(format!("reduce/{}/{dt}/nan-and-ties", op.name()));
                let x = b.listed(dt, layout(V::C, &[3, 4]), &vals);
                let y = b.output(odt, layout(V::C, &[3, 1]));
                s.run(b.case(
                    PrimOp::Reduce {
                        op,
                        axes: Axes::from_slice(&[1]),
                    },
                    vec![x],
                    y,
                    TolClass::Exact,
                    dt == DType::F32,
                ));
            }
        }
    }
}

fn matmul_cases(s: &mut Suite) {
    // (name, a shape, b shape, a layout, b layout, out layout, alpha, beta)
    type M = (
        &'static str,
        &'static [usize],
        &'static [usize],
        V,
        V,
        V,
        f64,
        f64,
    );
    #[rustfmt::skip]
    let lays: [M; 19] = [
        ("2d", &[3, 4], &[4, 5], V::C, V::C, V::C, 1.0, 0.0),
        ("alpha-beta", &[3, 4], &[4, 5], V::C, V::C, V::C, 2.0, -1.0),
        ("alpha-half+beta", &[3, 4], &[4, 5], V::T, V::C, V::Step, 0.5, 2.0),
        ("a-transposed", &[3, 4], &[4, 5], V::Swap, V::C, V::C, 1.0, 0.0),
        ("b-transposed", &[3, 4], &[4, 5], V::C, V::Swap, V::C, 1.0, 0.0),
        ("both-transposed+stepped-out", &[3, 4], &[4, 5], V::Swap, V::Swap, V::Step, 1.0, 0.0),
        ("out-transposed", &[3, 4], &[4, 5], V::C, V::C, V::Swap, 1.0, 1.0),
        ("batched", &[2, 3, 4], &[2, 4, 5], V::C, V::C, V::Off, 1.0, 0.0),
        ("bcast-batch-a", &[2, 3, 4], &[2, 4, 5], V::BLead, V::C, V::C, 1.0, 0.0),
        ("bcast-batch-b", &[2, 3, 4], &[2, 4, 5], V::Step, V::BLead, V::C, 1.0, 0.0),
        ("batch2-strided", &[2, 3, 3, 4], &[2, 3, 4, 5], V::Step, V::Swap, V::T, 1.0, 0.0),
        ("inner-1", &[1, 4], &[4, 1], V::C, V::C, V::C, 1.0, 0.0),
        ("k-1", &[3, 1], &[1, 5], V::C, V::C, V::C, 1.0, 0.0),
        ("bcast-k-stride0", &[3, 4], &[4, 5], V::BLast, V::BLead, V::C, 1.0, 0.0),
        ("empty-m", &[0, 4], &[4, 5], V::C, V::C, V::C, 1.0, 0.0),
        ("empty-k", &[3, 0], &[0, 5], V::C, V::C, V::C, 1.0, 1.0),
        ("large", &[33, 70], &[70, 65], V::C, V::Swap, V::C, 1.0, 0.0),
        ("large-parallel", &[70, 80], &[80, 75], V::Swap, V::C, V::Step, 1.0, 0.5),
        ("large-batched", &[8, 33, 16], &[8, 16, 20], V::C, V::C, V::C, 1.0, 0.0),
    ];
    for dt in [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::I32,
        DType::I64,
    ] {
        for &(ln, ash, bsh, va, vb, vo, alpha, beta) in lays.iter() {
            if !dt.is_float() && alpha.fract() != 0.0 {
                continue;
            }
            let r = ash.len();
            let mut osh = ash[..r - 2].to_vec();
            osh.extend([ash[r - 2], bsh[r - 1]]);
            let mut b = s.builder(format!("matmul/{dt}/{ln}"));
            let x = b.input(dt, layout(va, ash), Dom::Small);
            let y = b.input(dt, layout(vb, bsh), Dom::Small);
            let o = if beta != 0.0 {
                b.input(dt, layout(vo, &osh), Dom::Small)
            } else {
                b.output(dt, layout(vo, &osh))
            };
            let tol = TolClass::Accumulate;
            s.run(b.case(
                PrimOp::Matmul { alpha, beta },
                vec![x, y],
                o,
                tol,
                dt == DType::F32,
            ));
        }
        if dt.is_float() {
            // beta = 0 ignores the output's contents, NaN included.
            let mut b = s.builder(format!("matmul/{dt}/beta0-ignores-nan"));
            let x = b.input(dt, layout(V::C, &[3, 4]), Dom::Small);
            let y = b.input(dt, layout(V::C, &[4, 5]), Dom::Small);
            let o = b.listed(dt, layout(V::C, &[3, 5]), &[f64::NAN]);
            s.run(b.case(
                PrimOp::Matmul {
                    alpha: 1.0,
                    beta: 0.0,
                },
                vec![x, y],
                o,
                TolClass::Accumulate,
                dt == DType::F32,
            ));
        }
    }
}

fn index_cases(s: &mut Suite) {
    let dts = [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::I32,
        DType::I64,
        DType::Bool,
        DType::U8,
        DType::I8,
    ];
    // Gather: (name, x shape, index shape, dim, x, index, out)
    type G = (
        &'static str,
        &'static [usize],
        &'static [usize],
        usize,
        V,
        V,
        V,
    );
    #[rustfmt::skip]
    let gl: [G; 9] = [
        ("dim0", &[4, 5], &[3, 5], 0, V::C, V::C, V::C),
        ("dim1", &[4, 5], &[4, 3], 1, V::C, V::C, V::C),
        ("x-transposed+idx-stepped", &[4, 5], &[4, 7], 1, V::T, V::Step, V::T),
        ("x-bcast", &[4, 5], &[4, 2], 1, V::BLead, V::C, V::C),
        ("idx-bcast", &[4, 5], &[4, 6], 1, V::C, V::BLead, V::Step),
        ("idx-smaller", &[4, 5], &[2, 3], 0, V::C, V::C, V::C),
        ("3d", &[2, 3, 4], &[2, 3, 2], 2, V::Step, V::T, V::C),
        ("empty", &[4, 5], &[0, 5], 0, V::C, V::C, V::C),
        ("large", &[200, 300], &[200, 170], 1, V::C, V::C, V::C),
    ];
    for dt in dts {
        for &(ln, xs, is, dim, vx, vi, vo) in gl.iter() {
            if ln == "large" && !large_ok(dt) {
                continue;
            }
            let mut b = s.builder(format!("gather/{dt}/{ln}"));
            let x = b.input(dt, layout(vx, xs), Dom::General);
            let i = b.input(DType::I64, layout(vi, is), Dom::Index(xs[dim]));
            let o = b.output(dt, layout(vo, is));
            s.run(b.case(
                PrimOp::Gather { dim },
                vec![x, i],
                o,
                TolClass::Exact,
                dt == DType::F32,
            ));
        }
    }
    // IndexSelect: (name, x shape, index length, dim, x, index, out)
    type I = (&'static str, &'static [usize], usize, usize, V, V, V);
    #[rustfmt::skip]
    let il: [I; 7] = [
        ("dim0", &[4, 5], 6, 0, V::C, V::C, V::C),
        ("dim1", &[4, 5], 3, 1, V::C, V::C, V::C),
        ("x-transposed+idx-stepped", &[4, 5], 7, 1, V::T, V::Step, V::T),
        ("x-bcast+idx-offset", &[4, 5], 3, 0, V::BLead, V::Off, V::Step),
        ("3d-mid", &[2, 3, 4], 5, 1, V::Step, V::C, V::Off),
        ("empty-index", &[4, 5], 0, 0, V::C, V::C, V::C),
        ("large", &[300, 200], 250, 0, V::C, V::C, V::C),
    ];
    for dt in dts {
        for &(ln, xs, n, dim, vx, vi, vo) in il.iter() {
            if ln == "large" && !large_ok(dt) {
                continue;
            }
            let mut b = s.builder(format!("index_select/{dt}/{ln}"));
            let x = b.input(dt, layout(vx, xs), Dom::General);
            let i = b.input(DType::I64, layout(vi, &[n]), Dom::Index(xs[dim]));
            let mut os = xs.to_vec();
            os[dim] = n;
            let o = b.output(dt, layout(vo, &os));
            s.run(b.case(
                PrimOp::IndexSelect { dim },
                vec![x, i],
                o,
                TolClass::Exact,
                dt == DType::F32,
            ));
        }
    }
    // ScatterAdd: (name, out shape, src shape, index shape, dim, out, src, index)
    type S = (
        &'static str,
        &'static [usize],
        &'static [usize],
        &'static [usize],
        usize,
        V,
        V,
        V,
    );
    #[rustfmt::skip]
    let sl: [S; 7] = [
        ("dim0", &[4, 5], &[3, 5], &[3, 5], 0, V::C, V::C, V::C),
        ("dim1", &[4, 5], &[4, 7], &[4, 7], 1, V::C, V::C, V::C),
        ("strided-out+transposed-src", &[4, 5], &[6, 5], &[6, 5], 0, V::Step, V::T, V::C),
        ("idx-bcast", &[4, 5], &[3, 5], &[3, 5], 1, V::C, V::C, V::BLead),
        ("src-larger-than-index", &[4, 5], &[5, 6], &[3, 4], 0, V::C, V::C, V::Step),
        ("empty-index", &[4, 5], &[0, 5], &[0, 5], 0, V::C, V::C, V::C),
        ("large-collisions", &[10, 50], &[500, 50], &[500, 50], 0, V::C, V::C, V::C),
    ];
    for dt in [
        DType::F32,
        DType::F64,
        DType::F16,
        DType::BF16,
        DType::I32,
        DType::I64,
    ] {
        for &(ln, os, ss, is, dim, vo, vs, vi) in sl.iter() {
            let mut b = s.builder(format!("scatter_add/{dt}/{ln}"));
            let src = b.input(dt, layout(vs, ss), Dom::General);
            let i = b.input(DType::I64, layout(vi, is), Dom::Index(os[dim]));
            let o = b.input(dt, layout(vo, os), Dom::General);
            s.run(b.case(
                PrimOp::ScatterAdd { dim },
                vec![src, i],
                o,
                TolClass::Accumulate,
                dt == DType::F32,
            ));
        }
    }
}

fn scan_cases(s: &mut Suite) {
    type Sc = (&'static str, &'static [usize], usize, V, V);
    #[rustfmt::skip]
    let lays: [Sc; 11] = [
        ("dim1", &[4, 6], 1, V::C, V::C),
        ("dim0", &[4, 6], 0, V::C, V::C),
        ("transposed-in", &[4, 6], 1, V::T, V::C),
        ("stepped-out", &[4, 6], 0, V::C, V::Step),
        ("bcast-in", &[4, 6], 0, V::BLead, V::C),
        ("empty", &[0, 3], 0, V::C, V::C),
        ("empty-other", &[3, 0], 0, V::C, V::C),
        ("len1", &[5, 1], 1, V::C, V::T),
        ("rank7", &[2, 1, 3, 1, 2, 1, 2], 2, V::T, V::Step),
        ("large-long", &[2, 3000], 1, V::C, V::C),
        ("large-many", &[5000, 8], 0, V::T, V::C),
    ];
    for op in [ScanOp::CumSum, ScanOp::CumProd] {
        let on = if op == ScanOp::CumSum {
            "cumsum"
        } else {
            "cumprod"
        };
        let dom = if op == ScanOp::CumSum {
            Dom::General
        } else {
            Dom::Near1
        };
        for dt in MAIN_DTYPES {
            for &(ln, shape, dim, vi, vo) in lays.iter() {
                if ln.starts_with("large")
                    && (!large_ok(dt) || (op == ScanOp::CumProd && dt == DType::F16))
                {
                    continue;
                }
                let mut b = s.builder(format!("scan/{on}/{dt}/{ln}"));
                let x = b.input(dt, layout(vi, shape), dom);
                let y = b.output(dt, layout(vo, shape));
                s.run(b.case(
                    PrimOp::Scan { op, dim },
                    vec![x],
                    y,
                    TolClass::Accumulate,
                    dt == DType::F32,
                ));
            }
            let mut b = s.builder(format!("scan/{on}/{dt}/inplace"));
            let x = b.input(dt, layout(V::Step, &[4, 6]), dom);
            let y = x.clone();
            s.run(b.case(
                PrimOp::Scan { op, dim: 1 },
                vec![x],
                y,
                TolClass::Accumulate,
                dt == DType::F32,
            ));
        }
    }
}

fn random_cases(s: &mut Suite) {
    let dists = [
        (
            "uniform01",
            Distribution::Uniform {
                low: 0.0,
                high: 1.0,
            },
        ),
        (
            "uniform-2:3",
            Distribution::Uniform {
                low: -2.0,
                high: 3.0,
            },
        ),
        (
            "normal",
            Distribution::Normal {
                mean: 0.0,
                std: 1.0,
            },
        ),
        (
            "normal1.5:0.5",
            Distribution::Normal {
                mean: 1.5,
                std: 0.5,
            },
        ),
        ("bernoulli0.3", Distribution::Bernoulli { p: 0.3 }),
    ];
    let seeds: [(u64, u64); 3] = [(0, 0), (42, 7), (0xDEAD_BEEF_0123_4567, (1 << 32) - 5)];
    for (dn, dist) in dists {
        let bern = matches!(dist, Distribution::Bernoulli { .. });
        let dts: &[DType] = if bern {
            &[
                DType::F32,
                DType::F64,
                DType::F16,
                DType::BF16,
                DType::Bool,
                DType::I32,
                DType::I64,
            ]
        } else {
            &[DType::F32, DType::F64, DType::F16, DType::BF16]
        };
        let tol = if matches!(dist, Distribution::Normal { .. }) {
            TolClass::RandomNormal
        } else {
            TolClass::Rounded
        };
        for &dt in dts {
            for (seed, offset) in seeds {
                for (ln, shape, v) in [
                    ("contig", &[1000usize][..], V::C),
                    ("offset-view", &[10, 100], V::Off),
                    ("0-dim", &[], V::Off),
                    ("empty", &[0], V::C),
                    ("large", &[40000], V::C),
                ] {
                    if ln == "large" && (seed != 42 || !large_ok(dt)) {
                        continue;
                    }
                    let name = format!("random/{dn}/{dt}/seed{seed}+{offset}/{ln}");
                    let mut b = s.builder(name);
                    let y = b.output(dt, layout(v, shape));
                    s.run(b.case(
                        PrimOp::Random { dist, seed, offset },
                        vec![],
                        y,
                        tol,
                        dt == DType::F32,
                    ));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Driver contract, memory and device checks
// ---------------------------------------------------------------------------------------

fn upload_view(d: &dyn Driver, dt: DType, vals: &[f64], shape: &[usize]) -> lantern::Result<View> {
    let bytes = encode(dt, vals);
    let id = d.alloc(bytes.len().max(1))?;
    d.write(id, 0, &bytes)?;
    Ok(View {
        buf: id,
        layout: Layout::contiguous(Shape::new(shape)),
        dtype: dt,
    })
}

/// Runs `op`, which should fail; the failure may come at once or at the next
/// synchronize/read (deferred). Then the driver must keep working.
fn expect_reported(d: &dyn Driver, op: &PrimOp, ins: &[View], out: &View) -> Result<(), String> {
    let err = match d.exec(op, ins, std::slice::from_ref(out)) {
        Err(e) => Some(e),
        Ok(()) => match d.synchronize() {
            Err(e) => Some(e),
            Ok(()) => d.read_blocking(out).err(),
        },
    };
    let Some(e) = err else {
        return Err(format!("{} succeeded; expected an error", op.name()));
    };
    if !matches!(e, Error::Arg { .. } | Error::Deferred { .. }) {
        return Err(format!("expected Error::Arg or Error::Deferred, got {e:?}"));
    }
    if !e.to_string().contains(op.name()) {
        return Err(format!("the message does not name {}: {e}", op.name()));
    }
    d.synchronize()
        .map_err(|e| format!("synchronize after a reported error failed again: {e}"))?;
    let a = upload_view(d, DType::F32, &[1.0, 2.0], &[2]).map_err(|e| e.to_string())?;
    let y = upload_view(d, DType::F32, &[0.0, 0.0], &[2]).map_err(|e| e.to_string())?;
    let r = d
        .exec(
            &PrimOp::Binary(BinaryOp::Add),
            &[a.clone(), a.clone()],
            std::slice::from_ref(&y),
        )
        .and_then(|_| d.read_blocking(&y));
    d.free(a.buf);
    d.free(y.buf);
    match r.map(|b| decode(DType::F32, &b)) {
        Ok(v) if v == [2.0, 4.0] => Ok(()),
        Ok(v) => Err(format!("after the error, 1+1, 2+2 gave {v:?}")),
        Err(e) => Err(format!("after the error, the driver fails: {e}")),
    }
}

fn contract_checks(s: &mut Suite) {
    let dev = s.dev.clone();
    let d = dev.driver();
    s.check("contract/read-async-equals-blocking", || {
        let v = upload_view(d, DType::F32, &[1.0, 2.5, -3.0, 4.0, 5.0, 6.0], &[2, 3])
            .map_err(|e| e.to_string())?;
        let t = View {
            layout: layout(V::Swap, &[3, 2]),
            ..v.clone()
        };
        let blocking = d.read_blocking(&t).map_err(|e| e.to_string());
        let fut = d.read(&t);
        let asynced = lantern::block_on(fut).map_err(|e| e.to_string());
        d.free(v.buf);
        let (b, a) = (blocking?, asynced?);
        if a != b || decode(DType::F32, &b) != [1.0, 4.0, 2.5, 5.0, -3.0, 6.0] {
            return Err(format!(
                "a transposed read gave {:?} (async {:?})",
                decode(DType::F32, &b),
                decode(DType::F32, &a)
            ));
        }
        Ok(())
    });
    s.check("contract/write-at-offset", || {
        let v = upload_view(d, DType::I32, &[0.0; 8], &[8]).map_err(|e| e.to_string())?;
        let r = d
            .write(v.buf, 8, &encode(DType::I32, &[7.0, -9.0]))
            .and_then(|_| d.read_blocking(&v));
        d.free(v.buf);
        let got = decode(DType::I32, &r.map_err(|e| e.to_string())?);
        if got != [0.0, 0.0, 7.0, -9.0, 0.0, 0.0, 0.0, 0.0] {
            return Err(format!("got {got:?}"));
        }
        Ok(())
    });
    s.check("contract/view-past-buffer-is-an-error", || {
        let x = upload_view(d, DType::F32, &[1.0; 4], &[4]).map_err(|e| e.to_string())?;
        let y = upload_view(d, DType::F32, &[0.0; 4], &[4]).map_err(|e| e.to_string())?;
        let big = View {
            layout: Layout::contiguous(Shape::new(&[1 << 20])),
            ..y.clone()
        };
        let r1 = d.exec(
            &PrimOp::Copy,
            std::slice::from_ref(&x),
            std::slice::from_ref(&big),
        );
        let r2 = d.exec(
            &PrimOp::Fill(Scalar::Int(1)),
            &[],
            std::slice::from_ref(&big),
        );
        let r3 = d.synchronize();
        d.free(x.buf);
        d.free(y.buf);
        if (r1.is_ok() || r2.is_ok()) && r3.is_ok() {
            return Err("a view 1M elements past a 4-element buffer was accepted".into());
        }
        Ok(())
    });
    s.check("contract/int-division-by-zero-is-reported", || {
        let a = upload_view(d, DType::I32, &[1.0, 2.0, 3.0], &[3]).map_err(|e| e.to_string())?;
        let b = upload_view(d, DType::I32, &[1.0, 0.0, 1.0], &[3]).map_err(|e| e.to_string())?;
        let y = upload_view(d, DType::I32, &[0.0; 3], &[3]).map_err(|e| e.to_string())?;
        let r = expect_reported(
            d,
            &PrimOp::Binary(BinaryOp::Div),
            &[a.clone(), b.clone()],
            &y,
        );
        for v in [a, b, y] {
            d.free(v.buf);
        }
        r
    });
    s.check("contract/index-out-of-range-is-reported", || {
        let x = upload_view(d, DType::F32, &[1.0, 2.0, 3.0], &[3]).map_err(|e| e.to_string())?;
        let i = upload_view(d, DType::I64, &[0.0, 3.0], &[2]).map_err(|e| e.to_string())?;
        let y = upload_view(d, DType::F32, &[0.0; 2], &[2]).map_err(|e| e.to_string())?;
        let r = expect_reported(d, &PrimOp::Gather { dim: 0 }, &[x.clone(), i.clone()], &y);
        for v in [x, i, y] {
            d.free(v.buf);
        }
        r
    });
    s.check("contract/empty-view-past-the-buffer-end", || {
        // Narrowing at the end of several dims moves an empty view's offset past its
        // buffer; it touches nothing, so ops and reads on it succeed.
        let x = upload_view(d, DType::F32, &[1.0; 4], &[4]).map_err(|e| e.to_string())?;
        let y = upload_view(d, DType::F32, &[0.0; 4], &[4]).map_err(|e| e.to_string())?;
        let far = |v: &View| View {
            layout: Layout {
                shape: Shape::new(&[0, 3]),
                strides: [3usize, 1].into_iter().collect(),
                offset: 1000,
            },
            ..v.clone()
        };
        let r = d
            .exec(&PrimOp::Copy, &[far(&x)], &[far(&y)])
            .and_then(|_| d.exec(&PrimOp::Unary(UnaryOp::Exp), &[far(&x)], &[far(&y)]))
            .and_then(|_| d.synchronize())
            .and_then(|_| d.read_blocking(&far(&x)));
        d.free(x.buf);
        d.free(y.buf);
        match r {
            Ok(b) if b.is_empty() => Ok(()),
            Ok(b) => Err(format!("reading an empty view gave {} bytes", b.len())),
            Err(e) => Err(format!(
                "an empty view at offset 1000 of a 4-element buffer: {e}"
            )),
        }
    });
    // Operands that contradict the op's contract must be errors at call time (or at the
    // next synchronize), never a panic or an out-of-bounds access.
    type Bad = (
        &'static str,
        PrimOp,
        Vec<(DType, Vec<usize>)>,
        (DType, Vec<usize>),
    );
    let f = DType::F32;
    let bad: Vec<Bad> = vec![
        (
            "unary-shape",
            PrimOp::Unary(UnaryOp::Exp),
            vec![(f, vec![4])],
            (f, vec![5]),
        ),
        (
            "unary-dtype",
            PrimOp::Unary(UnaryOp::Neg),
            vec![(DType::F64, vec![4])],
            (f, vec![4]),
        ),
        (
            "binary-dtypes",
            PrimOp::Binary(BinaryOp::Add),
            vec![(f, vec![4]), (DType::F64, vec![4])],
            (f, vec![4]),
        ),
        (
            "binary-shapes",
            PrimOp::Binary(BinaryOp::Mul),
            vec![(f, vec![2, 4]), (f, vec![2, 3])],
            (f, vec![2, 4]),
        ),
        (
            "matmul-inner",
            PrimOp::Matmul {
                alpha: 1.0,
                beta: 0.0,
            },
            vec![(f, vec![2, 3]), (f, vec![4, 2])],
            (f, vec![2, 2]),
        ),
        (
            "matmul-batch",
            PrimOp::Matmul {
                alpha: 1.0,
                beta: 0.0,
            },
            vec![(f, vec![1, 2, 3]), (f, vec![3, 3, 2])],
            (f, vec![3, 2, 2]),
        ),
        (
            "gather-int32-index",
            PrimOp::Gather { dim: 0 },
            vec![(f, vec![4]), (DType::I32, vec![8])],
            (f, vec![8]),
        ),
        (
            "where-float-cond",
            PrimOp::Where,
            vec![(f, vec![3]), (f, vec![3]), (f, vec![3])],
            (f, vec![3]),
        ),
        (
            "reduce-out-shape",
            PrimOp::Reduce {
                op: ReduceOp::Sum,
                axes: Axes::from_slice(&[1]),
            },
            vec![(f, vec![2, 3])],
            (f, vec![2, 3]),
        ),
        (
            "reduce-axis-past-rank",
            PrimOp::Reduce {
                op: ReduceOp::Max,
                axes: Axes::from_slice(&[2]),
            },
            vec![(f, vec![2, 3])],
            (f, vec![2, 3]),
        ),
        (
            "scan-dim-past-rank",
            PrimOp::Scan {
                op: ScanOp::CumSum,
                dim: 1,
            },
            vec![(f, vec![6])],
            (f, vec![6]),
        ),
        (
            "index-select-2d-index",
            PrimOp::IndexSelect { dim: 0 },
            vec![(f, vec![4, 2]), (DType::I64, vec![2, 2])],
            (f, vec![4, 2]),
        ),
        (
            "scatter-add-index-larger-than-src",
            PrimOp::ScatterAdd { dim: 0 },
            vec![(f, vec![2, 2]), (DType::I64, vec![3, 3])],
            (f, vec![4, 4]),
        ),
    ];
    for (name, op, ins, out) in bad {
        s.check(
            &format!("contract/malformed-views-are-errors/{name}"),
            || {
                let mut views = Vec::new();
                for (dt, shape) in ins.iter().chain(std::iter::once(&out)) {
                    let n = shape.iter().product::<usize>();
                    views.push(
                        upload_view(d, *dt, &vec![0.0; n], shape).map_err(|e| e.to_string())?,
                    );
                }
                let y = views.pop().expect("output");
                let r = d
                    .exec(&op, &views, std::slice::from_ref(&y))
                    .and_then(|_| d.synchronize());
                for v in views.iter().chain(std::iter::once(&y)) {
                    d.free(v.buf);
                }
                match r {
                    Err(_) => Ok(()),
                    Ok(()) => Err(format!("{} accepted {name}", op.name())),
                }
            },
        );
    }
    s.check("contract/unknown-buffer-is-an-error", || {
        let y = upload_view(d, DType::F32, &[0.0; 2], &[2]).map_err(|e| e.to_string())?;
        let ghost = View {
            buf: BufId(u64::MAX - 1),
            ..y.clone()
        };
        let r = d
            .exec(&PrimOp::Copy, &[ghost], std::slice::from_ref(&y))
            .and_then(|_| d.synchronize());
        d.free(y.buf);
        match r {
            Err(_) => Ok(()),
            Ok(()) => Err("a copy from a buffer that was never allocated succeeded".into()),
        }
    });
}

fn memory_checks(s: &mut Suite) {
    let dev = s.dev.clone();
    let d = dev.driver();
    const N: usize = 100_000;
    s.check("memory/alloc-free-reuse", || {
        d.synchronize().map_err(|e| e.to_string())?;
        let m0 = d.memory();
        let id = d.alloc(N).map_err(|e| e.to_string())?;
        let m1 = d.memory();
        let mut errs = Vec::new();
        if m1.in_use < m0.in_use + N {
            errs.push(format!(
                "alloc({N}) raised in_use {} -> {}",
                m0.in_use, m1.in_use
            ));
        }
        if m1.requests != m0.requests + 1 {
            errs.push(format!(
                "alloc raised requests {} -> {}",
                m0.requests, m1.requests
            ));
        }
        if m1.peak < m1.in_use || m1.reserved < m1.in_use {
            errs.push(format!(
                "peak {} / reserved {} below in_use {}",
                m1.peak, m1.reserved, m1.in_use
            ));
        }
        d.free(id);
        d.synchronize().map_err(|e| e.to_string())?;
        let m2 = d.memory();
        if m2.in_use + N > m1.in_use {
            errs.push(format!(
                "free lowered in_use only {} -> {}",
                m1.in_use, m2.in_use
            ));
        }
        let id = d.alloc(N).map_err(|e| e.to_string())?;
        let m3 = d.memory();
        d.free(id);
        if m3.allocations != m2.allocations {
            errs.push(format!(
                "re-allocating a freed size went to the system: allocations {} -> {}",
                m2.allocations, m3.allocations
            ));
        }
        if m3.requests != m2.requests + 1 {
            errs.push(format!(
                "requests {} -> {} on a reused block",
                m2.requests, m3.requests
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    });
    s.check("memory/tensor-alloc-and-drop", || {
        let m0 = d.memory();
        let t = Tensor::try_zeros([1000, 100], DType::F32, &dev).map_err(|e| e.to_string())?;
        let m1 = d.memory();
        drop(t);
        d.synchronize().map_err(|e| e.to_string())?;
        let m2 = d.memory();
        if m1.in_use < m0.in_use + 400_000 || m2.in_use + 400_000 > m1.in_use {
            return Err(format!(
                "in_use {} -> {} (zeros [1000, 100] f32) -> {} (dropped)",
                m0.in_use, m1.in_use, m2.in_use
            ));
        }
        Ok(())
    });
    s.check("memory/limit-gives-out-of-memory", || {
        d.synchronize().map_err(|e| e.to_string())?;
        let prev = d.memory().limit;
        let limit = d.memory().in_use + (1 << 20);
        d.set_memory_limit(Some(limit));
        let mut errs = Vec::new();
        if d.memory().limit != Some(limit) {
            errs.push(format!(
                "memory().limit is {:?} after setting {limit}",
                d.memory().limit
            ));
        }
        match d.alloc(64 << 20) {
            Err(Error::OutOfMemory {
                requested,
                limit: l,
                ref device,
                ..
            }) => {
                if requested != 64 << 20 || l != Some(limit) {
                    errs.push(format!(
                        "OutOfMemory says requested {requested}, limit {l:?}"
                    ));
                }
                if !device.contains(d.name()) {
                    errs.push(format!("OutOfMemory names device {device:?}"));
                }
            }
            Err(e) => errs.push(format!("alloc past the limit gave {e:?}, not OutOfMemory")),
            Ok(id) => {
                d.free(id);
                errs.push("alloc of 64 MiB under a 1 MiB limit succeeded".into());
            }
        }
        match Tensor::try_zeros([16 << 20], DType::F32, &dev) {
            Err(Error::OutOfMemory { .. }) => {}
            Err(e) => errs.push(format!("Tensor::zeros past the limit gave {e:?}")),
            Ok(_) => errs.push("Tensor::zeros of 64 MiB under a 1 MiB limit succeeded".into()),
        }
        match d.alloc(1000) {
            Ok(id) => d.free(id),
            Err(e) => errs.push(format!("a 1000-byte alloc under the limit failed: {e}")),
        }
        d.set_memory_limit(prev);
        // The driver keeps working: a big allocation and an op now succeed.
        let r = (|| -> lantern::Result<Vec<f32>> {
            let a = Tensor::try_ones([4 << 20], DType::F32, &dev)?;
            let s = a.try_sum(None, false)?;
            s.try_to_vec::<f32>()
        })();
        match r {
            Ok(v) if v == [(4 << 20) as f32] => {}
            Ok(v) => errs.push(format!("after the limit was lifted, sum gave {v:?}")),
            Err(e) => errs.push(format!("after the limit was lifted: {e}")),
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs.join("; "))
        }
    });
}

fn device_checks(s: &mut Suite) {
    let dev = s.dev.clone();
    let other = Device::new(Arc::new(CpuDriver::new()));
    s.check("device/distinct-instances-have-distinct-ids", || {
        if dev.id() == other.id() {
            return Err(format!(
                "a second CpuDriver instance has DeviceId {:?}, equal to {dev}'s {:?}: Device's \
                 PartialEq and Tensor::same_device cannot tell the two apart",
                other.id(),
                dev.id()
            ));
        }
        Ok(())
    });
    type Mix = (
        &'static str,
        fn(&Tensor, &Tensor) -> lantern::Result<Tensor>,
    );
    let ops: [Mix; 7] = [
        ("add", |a, b| a.try_add(b)),
        ("matmul", |a, b| a.try_matmul(&b.try_t()?)),
        ("where", |a, b| {
            Tensor::try_where(&a.try_gt_scalar(0.0)?, a, b)
        }),
        ("cat", |a, b| Tensor::try_cat(&[a.clone(), b.clone()], 0)),
        ("copy_", |a, b| a.try_copy_(b).cloned()),
        ("add_", |a, b| a.try_add_(b).cloned()),
        ("index_select", |a, b| {
            a.try_index_select(0, &b.try_select(0, 0)?.try_to_dtype(DType::I64)?)
        }),
    ];
    for (name, f) in ops {
        let dev = dev.clone();
        let other = other.clone();
        s.check(
            &format!("device/mixing-devices-is-an-error/{name}"),
            move || {
                let a = Tensor::try_from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &dev)
                    .map_err(|e| e.to_string())?;
                let b = Tensor::try_from_slice(&[1.0f32, 0.0, 1.0, 0.0], [2, 2], &other)
                    .map_err(|e| e.to_string())?;
                for (x, y) in [(&a, &b), (&b, &a)] {
                    match f(x, y) {
                        Err(Error::Device { op, ref msg }) => {
                            if op != name {
                                return Err(format!("Error::Device names op {op:?}, not {name:?}"));
                            }
                            if msg.is_empty() {
                                return Err("Error::Device has an empty message".into());
                            }
                        }
                        Err(e) => return Err(format!("expected Error::Device, got {e:?}")),
                        Ok(t) => {
                            return Err(format!(
                                "mixing {} and {} succeeded: {:?}",
                                x.device(),
                                y.device(),
                                t.try_to_f64_vec()
                            ))
                        }
                    }
                }
                Ok(())
            },
        );
    }
}

fn random_stats(s: &mut Suite) {
    let dev = s.dev.clone();
    for dt in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        let dev = dev.clone();
        s.check(&format!("random/stats/{dt}"), move || {
            lantern::manual_seed(1234);
            let n = 40000usize;
            let mut errs = Vec::new();
            let draws = (|| -> lantern::Result<[Vec<f64>; 3]> {
                Ok([
                    Tensor::try_rand([n], dt, &dev)?.try_to_f64_vec()?,
                    Tensor::try_uniform([n], -2.0, 3.0, dt, &dev)?.try_to_f64_vec()?,
                    Tensor::try_randn([n], dt, &dev)?.try_to_f64_vec()?,
                ])
            })();
            let [u, w, z] = match draws {
                Ok(d) => d,
                Err(Error::Unsupported { .. }) if dt != DType::F32 => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
            let var = |v: &[f64]| {
                let m = mean(v);
                v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
            };
            if let Some(x) = u.iter().find(|&&x| !(0.0..1.0).contains(&x)) {
                errs.push(format!("rand gave {x}, outside [0, 1)"));
            }
            if let Some(x) = w.iter().find(|&&x| !(-2.0..3.0).contains(&x)) {
                errs.push(format!("uniform(-2, 3) gave {x}, outside [-2, 3)"));
            }
            if (mean(&u) - 0.5).abs() > 0.01 || (var(&u) - 1.0 / 12.0).abs() > 0.005 {
                errs.push(format!("rand: mean {} var {}", mean(&u), var(&u)));
            }
            if mean(&z).abs() > 0.03 || (var(&z) - 1.0).abs() > 0.05 {
                errs.push(format!("randn: mean {} var {}", mean(&z), var(&z)));
            }
            if errs.is_empty() {
                Ok(())
            } else {
                Err(errs.join("; "))
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
// Tensor-level cases
// ---------------------------------------------------------------------------------------

type TensorFn = Box<dyn Fn(&Device) -> lantern::Result<Vec<Tensor>>>;

/// Dyadic test values k/16 in [-3, 3] from a seed.
fn vals(n: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.int(-48, 48) as f32 / 16.0).collect()
}

fn tf(d: &Device, shape: &[usize], seed: u64) -> lantern::Result<Tensor> {
    let n = shape.iter().product();
    Tensor::try_from_slice(&vals(n, seed), shape, d)
}

fn ti(d: &Device, shape: &[usize], lo: i64, hi: i64, seed: u64) -> lantern::Result<Tensor> {
    let n = shape.iter().product();
    let mut r = Rng::new(seed);
    let v: Vec<i64> = (0..n).map(|_| r.int(lo, hi)).collect();
    Tensor::try_from_slice(&v, shape, d)
}

fn tensor_cases() -> Vec<(&'static str, DType, TolClass, TensorFn)> {
    use DType::*;
    use TolClass::*;
    let mut v: Vec<(&'static str, DType, TolClass, TensorFn)> = Vec::new();
    macro_rules! tc {
        ($name:expr, $dt:expr, $tol:expr, |$d:ident| $body:expr) => {
            v.push(($name, $dt, $tol, Box::new(move |$d: &Device| $body)))
        };
    }
    tc!("add/broadcast+transposed", F32, Exact, |d| Ok(vec![tf(
        d,
        &[3, 4],
        1
    )?
    .try_t()?
    .try_add(&tf(d, &[3], 2)?)?]));
    tc!("sub/int-scalar", I64, Exact, |d| Ok(vec![ti(
        d,
        &[5],
        -9,
        9,
        3
    )?
    .try_sub_scalar(3)?]));
    tc!("mul/int32*f32-promotes", F32, Exact, |d| {
        let a = ti(d, &[2, 3], -5, 5, 4)?.try_to_dtype(I32)?;
        Ok(vec![a.try_mul(&tf(d, &[2, 3], 5)?)?])
    });
    tc!("div/int-to-float", F32, Rounded, |d| {
        let a = ti(d, &[6], -9, 9, 6)?;
        let b = ti(d, &[6], 1, 4, 7)?;
        Ok(vec![a.try_div(&b)?])
    });
    tc!("pow/scalar+tensor", F32, Transcendental, |d| {
        let a = tf(d, &[8], 8)?.try_abs()?.try_add_scalar(0.5)?;
        Ok(vec![a.try_pow_scalar(2.5)?, a.try_pow(&tf(d, &[8], 9)?)?])
    });
    tc!("remainder+floor_divide", F32, Rounded, |d| {
        let a = tf(d, &[3, 4], 10)?;
        let b = tf(d, &[4], 11)?.try_abs()?.try_add_scalar(0.25)?;
        Ok(vec![
            a.try_remainder(&b)?,
            a.try_floor_divide(&b.try_neg()?)?,
        ])
    });
    tc!("maximum/nan", F32, Exact, |d| {
        let a = Tensor::try_from_slice(&[1.0f32, f32::NAN, -2.0, 0.0], [4], d)?;
        let b = Tensor::try_from_slice(&[0.5f32, 1.0, f32::NAN, -0.0], [4], d)?;
        Ok(vec![a.try_maximum(&b)?, a.try_minimum(&b)?])
    });
    tc!("cmp+logical", Bool, Exact, |d| {
        let a = tf(d, &[4, 5], 12)?;
        let b = tf(d, &[5], 13)?;
        let m = a.try_gt(&b)?.try_logical_and(&a.try_lt_scalar(1.0)?)?;
        Ok(vec![m.clone(), m.try_logical_not()?, a.try_eq(&a)?])
    });
    tc!("where/broadcast-0dim", F32, Exact, |d| {
        let c = ti(d, &[3, 1], 0, 1, 14)?.try_to_dtype(Bool)?;
        let x = tf(d, &[1, 4], 15)?;
        let y = Tensor::try_scalar(-1.5, F32, d)?;
        Ok(vec![Tensor::try_where(&c, &x, &y)?])
    });
    tc!("masked_fill+clamp", F32, Exact, |d| {
        let x = tf(d, &[3, 4], 16)?;
        let m = x.try_lt_scalar(0.0)?;
        Ok(vec![
            x.try_masked_fill(&m, 9.0)?,
            x.try_clamp(Some(-1.0), Some(0.5))?,
        ])
    });
    tc!("activations", F32, Accumulate, |d| {
        let x = tf(d, &[4, 8], 17)?;
        Ok(vec![
            x.try_relu()?,
            x.try_sigmoid()?,
            x.try_gelu(false)?,
            x.try_gelu(true)?,
            x.try_silu()?,
            x.try_softplus(1.0, 20.0)?,
        ])
    });
    tc!("activations/f16", F16, Accumulate, |d| {
        let x = tf(d, &[4, 8], 17)?.try_to_dtype(F16)?;
        Ok(vec![x.try_sigmoid()?, x.try_gelu(false)?, x.try_silu()?])
    });
    tc!("unary-chain", F32, Accumulate, |d| {
        let x = tf(d, &[3, 5], 18)?;
        Ok(vec![
            x.try_exp()?.try_log1p()?,
            x.try_tanh()?.try_erf()?,
            x.try_abs()?.try_sqrt()?,
            x.try_round()?,
            x.try_sign()?,
        ])
    });
    tc!("softmax", F32, Accumulate, |d| {
        let x = tf(d, &[4, 7], 19)?;
        Ok(vec![
            x.try_softmax(-1)?,
            x.try_softmax(0)?,
            x.try_log_softmax(-1)?,
            x.try_t()?.try_softmax(-1)?,
            x.try_mul_scalar(100.0)?.try_softmax(-1)?,
        ])
    });
    tc!("softmax/f64", F64, Accumulate, |d| {
        let x = tf(d, &[4, 7], 19)?.try_to_dtype(F64)?;
        Ok(vec![x.try_softmax(-1)?, x.try_log_softmax(0)?])
    });
    // Rows longer than a GPU block, rows of one, and rows holding -inf and NaN: the shapes a
    // driver's fused softmax kernel (one block or workgroup per row) must get right.
    for (name, dt) in [
        ("softmax/rows/f32", F32),
        ("softmax/rows/f16", F16),
        ("softmax/rows/bf16", BF16),
        ("softmax/rows/f64", F64),
    ] {
        tc!(name, dt, Accumulate, |d| {
            let wide = tf(d, &[3, 1000], 23)?
                .try_mul_scalar(4.0)?
                .try_to_dtype(dt)?;
            let narrow = tf(d, &[16, 70], 24)?.try_to_dtype(dt)?;
            let single = tf(d, &[5, 1], 25)?.try_to_dtype(dt)?;
            let mut edge = vec![0.5f32, -1.0, 2.0, f32::NEG_INFINITY, 1.0, 0.0, -3.0, 4.0];
            edge.extend([f32::NEG_INFINITY; 8]);
            edge.extend([1.0, f32::NAN, 2.0, 3.0, 0.0, 0.0, 0.0, 0.0]);
            let edge = Tensor::try_from_slice(&edge, [3, 8], d)?.try_to_dtype(dt)?;
            let mut out = Vec::new();
            for x in [&wide, &narrow, &single, &edge] {
                out.push(x.try_softmax(-1)?);
                out.push(x.try_log_softmax(-1)?);
            }
            Ok(out)
        });
    }
    // Layer norm over rows longer than a GPU block, rows of one, two normalised dims and each
    // affine variant: what a driver's fused kernel (one block or workgroup per row) must get
    // right. f16/bf16 normalise in f32 and round once on every driver.
    for (name, dt) in [
        ("layer_norm/rows/f32", F32),
        ("layer_norm/rows/f16", F16),
        ("layer_norm/rows/bf16", BF16),
        ("layer_norm/rows/f64", F64),
    ] {
        tc!(name, dt, Accumulate, |d| {
            use lantern::nn::functional::layer_norm;
            let wide = tf(d, &[3, 1000], 26)?
                .try_mul_scalar(4.0)?
                .try_add_scalar(3.0)?
                .try_to_dtype(dt)?;
            let narrow = tf(d, &[4, 3, 5], 27)?.try_to_dtype(dt)?;
            let single = tf(d, &[5, 1], 28)?.try_to_dtype(dt)?;
            let w = tf(d, &[3, 5], 29)?.try_to_dtype(dt)?;
            let b = tf(d, &[3, 5], 30)?.try_to_dtype(dt)?;
            let w1 = w.try_select(0, 1)?;
            Ok(vec![
                layer_norm(&wide, &[1000], None, None, 1e-5)?,
                layer_norm(&narrow, &[3, 5], Some(&w), Some(&b), 1e-5)?,
                layer_norm(&narrow, &[5], Some(&w1), None, 1e-3)?,
                layer_norm(&narrow, &[5], None, Some(&w1), 1e-5)?,
                layer_norm(&single, &[1], None, None, 1e-5)?,
            ])
        });
    }
    // Optimizer updates, which a driver may run as one fused kernel per parameter.
    tc!("optim/adam-adamw-sgd", F32, Accumulate, |d| {
        use lantern::optim::{Adam, Optimizer, Sgd};
        let params: Vec<Tensor> = (0..4)
            .map(|k| Ok(tf(d, &[37, 5], 31 + k)?.requires_grad_(true)))
            .collect::<lantern::Result<_>>()?;
        let w = tf(d, &[37, 5], 40)?;
        let mut adamw = Adam::adamw(vec![params[0].clone()], 0.01);
        let mut adam = Adam::new(vec![params[1].clone()], 0.02);
        adam.weight_decay = 0.1;
        let mut sgd = Sgd::new(vec![params[2].clone()], 0.05).momentum(0.9);
        sgd.nesterov = true;
        sgd.weight_decay = 1e-3;
        let mut damped = Sgd::new(vec![params[3].clone()], 0.05).momentum(0.8);
        damped.dampening = 0.1;
        let opts: [&mut dyn Optimizer; 4] = [&mut adamw, &mut adam, &mut sgd, &mut damped];
        for o in opts {
            for _ in 0..3 {
                o.zero_grad();
                let mut loss = Tensor::try_zeros([], F32, d)?;
                for p in &params {
                    loss = loss.try_add(
                        &p.try_mul(&w)?
                            .try_add(&p.try_mul(p)?)?
                            .try_sum(None, false)?,
                    )?;
                }
                loss.try_backward()?;
                o.step()?;
            }
        }
        Ok(params.iter().map(|p| p.detach()).collect())
    });
    tc!("reductions", F32, Accumulate, |d| {
        let x = tf(d, &[3, 4, 5], 20)?;
        Ok(vec![
            x.try_sum(None, false)?,
            x.try_sum(Some(&[0, 2]), true)?,
            x.try_mean(Some(&[-1]), false)?,
            x.try_var(Some(&[1]), 1.0, false)?,
            x.try_std(None, 0.0, false)?,
            x.try_prod(Some(&[2]), false)?,
            x.try_amax(Some(&[0]), false)?,
            x.try_amin(None, true)?,
            x.try_logsumexp(&[1], false)?,
            x.try_norm(lantern::NormOrd::P(2.0), None, false)?,
            x.try_norm(lantern::NormOrd::P(1.0), Some(&[0]), false)?,
            x.try_norm(lantern::NormOrd::Inf, Some(&[2]), true)?,
            x.try_norm(lantern::NormOrd::P(3.0), Some(&[1]), false)?,
        ])
    });
    tc!("arg-reductions", I64, Exact, |d| {
        let x = ti(d, &[4, 6], -3, 3, 21)?.try_to_dtype(F32)?;
        let (mx, imx) = x.try_max_dim(1, false)?;
        let (mn, imn) = x.try_min_dim(0, true)?;
        Ok(vec![
            x.try_argmax(None, false)?,
            x.try_argmin(Some(1), true)?,
            mx,
            imx,
            mn,
            imn,
        ])
    });
    tc!("int-reductions", I64, Exact, |d| {
        let x = ti(d, &[4, 6], -9, 9, 22)?.try_to_dtype(I32)?;
        Ok(vec![
            x.try_sum(None, false)?,
            x.try_sum(Some(&[0]), false)?,
            x.try_prod(Some(&[1]), false)?,
            x.try_amax(Some(&[1]), false)?,
        ])
    });
    tc!("scans", F32, Accumulate, |d| {
        let x = tf(d, &[3, 6], 23)?;
        Ok(vec![
            x.try_cumsum(1)?,
            x.try_cumsum(0)?,
            x.try_t()?.try_cumprod(-1)?,
            ti(d, &[7], -3, 3, 24)?.try_cumsum(0)?,
        ])
    });
    tc!("matmul", F32, Accumulate, |d| {
        let a = tf(d, &[2, 3, 4], 25)?;
        let b = tf(d, &[4, 5], 26)?;
        let v = tf(d, &[4], 27)?;
        Ok(vec![
            a.try_matmul(&b)?,
            a.try_matmul(&v)?,
            v.try_matmul(&v)?,
            v.try_matmul(&b)?,
            a.try_transpose(1, 2)?.try_matmul(&a)?,
            tf(d, &[3, 1, 2, 4], 28)?.try_matmul(&tf(d, &[5, 4, 3], 29)?)?,
            a.try_transpose(0, 1)?.try_matmul(&b)?,
            tf(d, &[0, 4], 30)?.try_matmul(&b)?,
            tf(d, &[3, 0], 31)?.try_matmul(&tf(d, &[0, 2], 32)?)?,
        ])
    });
    tc!("matmul/f16+bf16+f64+int", F16, Accumulate, |d| {
        let a = tf(d, &[5, 6], 33)?;
        let b = tf(d, &[6, 3], 34)?;
        let mut out = Vec::new();
        for dt in [F16, BF16, F64] {
            out.push(a.try_to_dtype(dt)?.try_matmul(&b.try_to_dtype(dt)?)?);
        }
        out.push(ti(d, &[3, 4], -5, 5, 35)?.try_matmul(&ti(d, &[4, 2], -5, 5, 36)?)?);
        Ok(out)
    });
    tc!("conv2d", F32, Accumulate, |d| {
        let x = tf(d, &[2, 4, 7, 6], 37)?;
        let w = tf(d, &[6, 2, 3, 2], 38)?;
        let bias = tf(d, &[6], 39)?;
        let opts = lantern::Conv2dOpts {
            stride: [2, 1],
            padding: [1, 2],
            dilation: [1, 2],
            groups: 2,
        };
        Ok(vec![
            x.try_conv2d(&tf(d, &[3, 4, 3, 3], 40)?, None, Default::default())?,
            x.try_conv2d(&w, Some(&bias), opts)?,
            x.try_select(0, 1)?.try_conv2d(&w, None, opts)?,
        ])
    });
    tc!("conv1d+pooling", F32, Accumulate, |d| {
        let x = tf(d, &[2, 3, 9], 41)?;
        let w = tf(d, &[4, 3, 3], 42)?;
        let img = tf(d, &[2, 3, 8, 7], 43)?;
        Ok(vec![
            x.try_conv1d(&w, Some(&tf(d, &[4], 44)?), 2, 1, 1, 1)?,
            img.try_max_pool2d([3, 2], [2, 2], [1, 1], [1, 1])?,
            img.try_avg_pool2d([3, 3], [2, 1], [1, 1], false)?,
            img.try_avg_pool2d([2, 2], [2, 2], [0, 0], true)?,
            x.try_max_pool1d(3, 2, 1, 1)?,
            x.try_avg_pool1d(2, 1, 0, true)?,
        ])
    });
    tc!("views-and-copies", F32, Exact, |d| {
        let x = tf(d, &[4, 6], 45)?;
        let parts = x.try_split(4, 1)?;
        let chunks = x.try_chunk(3, 0)?; // two chunks of 2 rows
        Ok(vec![
            x.try_pad(&[1, -2, 2, 0], 0.5)?,
            Tensor::try_cat(&[x.clone(), x.try_narrow(0, 1, 2)?], 0)?,
            Tensor::try_stack(&[x.try_t()?, x.try_t()?.try_neg()?], 1)?,
            parts[1].try_contiguous()?,
            chunks[1].try_contiguous()?,
            x.try_slice(1, 1, None, 2)?.try_contiguous()?,
            x.try_select(1, -1)?.try_contiguous()?,
            x.try_select(0, 2)?.try_expand(&[3, -1])?.try_contiguous()?,
            x.try_t()?.try_reshape(&[3, -1])?,
            x.try_unflatten(1, &[2, 3])?
                .try_permute(&[2, 0, 1])?
                .try_flatten(0, 1)?,
            Tensor::try_cat(&[x.try_narrow(1, 0, 0)?, x.try_narrow(1, 0, 2)?], 1)?,
        ])
    });
    tc!("indexing", F32, Exact, |d| {
        let x = tf(d, &[4, 5], 46)?;
        let gi = ti(d, &[3, 5], 0, 3, 47)?;
        let si = ti(d, &[6], -4, 3, 48)?;
        let src = tf(d, &[3, 5], 49)?;
        Ok(vec![
            x.try_gather(0, &gi)?,
            x.try_t()?.try_gather(1, &gi.try_t()?)?,
            x.try_index_select(0, &si)?,
            x.try_index_select(1, &ti(d, &[2], 0, 4, 50)?)?,
            x.try_scatter_add(0, &gi, &src)?,
            ti(d, &[7], 0, 4, 51)?.try_one_hot(Some(6))?,
        ])
    });
    tc!("creation", F32, Rounded, |d| Ok(vec![
        Tensor::try_arange(-2.0, 3.0, 0.5, F32, d)?,
        Tensor::try_arange(10.0, 0.0, -3.0, I64, d)?,
        Tensor::try_linspace(-1.0, 1.0, 7, F32, d)?,
        Tensor::try_eye(3, 4, F32, d)?,
        Tensor::try_full([2, 3], 2.5, F16, d)?,
        Tensor::try_zeros([0, 3], F32, d)?,
        Tensor::try_scalar(7, I32, d)?,
        tf(d, &[2, 2], 52)?.try_ones_like()?,
    ]));
    tc!("casts", F32, Exact, |d| {
        let x = tf(d, &[3, 4], 53)?.try_mul_scalar(40.3)?;
        Ok(vec![
            x.try_to_dtype(F16)?.try_to_dtype(F32)?,
            x.try_to_dtype(BF16)?,
            x.try_to_dtype(I64)?,
            x.try_to_dtype(I32)?.try_to_dtype(Bool)?,
            x.try_t()?.try_to_dtype(I32)?,
        ])
    });
    tc!("casts/f64", F64, Exact, |d| {
        let x = tf(d, &[3, 4], 53)?.try_mul_scalar(40.3)?;
        Ok(vec![
            x.try_t()?.try_to_dtype(F64)?,
            x.try_to_dtype(F64)?.try_to_dtype(F16)?,
        ])
    });
    tc!("in-place", F32, Exact, |d| {
        let x = tf(d, &[4, 5], 54)?;
        let y = tf(d, &[5], 55)?;
        x.try_narrow(0, 1, 2)?.try_add_(&y)?;
        x.try_select(1, 0)?.try_mul_scalar_(2)?;
        x.try_t()?
            .try_narrow(0, 3, 2)?
            .try_copy_(&tf(d, &[2, 4], 56)?)?;
        x.try_narrow(0, 0, 1)?.try_fill_(-1.25)?;
        let z = tf(d, &[3, 3], 57)?;
        z.try_slice(1, 0, None, 2)?.try_zero_()?;
        Ok(vec![x, z])
    });
    tc!("zero-size-and-0-dim", F32, Accumulate, |d| {
        let e = tf(d, &[0, 3], 58)?;
        let s = Tensor::try_scalar(2.5, F32, d)?;
        Ok(vec![
            e.try_sum(Some(&[0]), false)?,
            e.try_prod(None, false)?,
            e.try_softmax(-1)?,
            e.try_exp()?,
            s.try_mul(&s)?,
            s.try_sum(None, false)?,
            s.try_add(&tf(d, &[3], 59)?)?,
            s.try_argmax(None, false)?,
            s.try_cumsum(0)?,
        ])
    });
    tc!("random/seeded", F32, RandomNormal, |d| {
        lantern::manual_seed(77);
        Ok(vec![
            Tensor::try_rand([300], F32, d)?,
            Tensor::try_randn([301], F32, d)?,
            Tensor::try_uniform([5, 7], -3.0, 2.0, F32, d)?,
            Tensor::try_normal([9], 2.0, 0.25, F32, d)?,
            Tensor::try_bernoulli_p([50], 0.4, F32, d)?,
            tf(d, &[20], 60)?
                .try_abs()?
                .try_div_scalar(3.0)?
                .try_bernoulli()?,
        ])
    });
    tc!("random/randint", I64, Exact, |d| {
        lantern::manual_seed(78);
        Ok(vec![Tensor::try_randint(-5, 17, [200], d)?])
    });
    tc!("random/f16+bf16+f64", F16, RandomNormal, |d| {
        lantern::manual_seed(79);
        Ok(vec![
            Tensor::try_rand([100], F16, d)?,
            Tensor::try_randn([100], BF16, d)?,
            Tensor::try_randn([100], F64, d)?,
        ])
    });
    v
}

fn tensor_level(s: &mut Suite) {
    for (name, dt, tol, f) in tensor_cases() {
        let full = format!("tensor/{name}");
        if !s.wants(&full) {
            continue;
        }
        let want = match catch_unwind(AssertUnwindSafe(|| f(&s.refdev))) {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                s.report.push(
                    full,
                    Outcome::Fail(format!("the CPU reference failed: {e}")),
                );
                continue;
            }
            Err(p) => {
                s.report.push(
                    full,
                    Outcome::Fail(format!("the CPU reference panicked: {}", panic_message(p))),
                );
                continue;
            }
        };
        let got = match catch_unwind(AssertUnwindSafe(|| f(s.dev))) {
            Ok(Ok(g)) => g,
            Ok(Err(e @ Error::Unsupported { .. })) if dt != DType::F32 => {
                s.report.push(full, Outcome::Unsupported(e.to_string()));
                continue;
            }
            Ok(Err(e)) => {
                s.report.push(full, Outcome::Fail(format!("error: {e}")));
                continue;
            }
            Err(p) => {
                s.report.push(
                    full,
                    Outcome::Fail(format!("panicked: {}", panic_message(p))),
                );
                continue;
            }
        };
        let mut errs = Vec::new();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            if g.dims() != w.dims() || g.dtype() != w.dtype() {
                errs.push(format!(
                    "output {k}: {:?} {} (want {:?} {})",
                    g.dims(),
                    g.dtype(),
                    w.dims(),
                    w.dtype()
                ));
                continue;
            }
            if g.device() != s.dev {
                errs.push(format!("output {k} lives on {}, not {}", g.device(), s.dev));
            }
            let gv = g.try_to_f64_vec();
            let wv = w.try_to_f64_vec();
            match (gv, wv) {
                (Ok(gv), Ok(wv)) => {
                    if let Err(m) = compare_values(&gv, &wv, tolerance(tol, g.dtype())) {
                        errs.push(format!("output {k}: {m}"));
                    }
                }
                (Err(e), _) | (_, Err(e)) => errs.push(format!("output {k}: read: {e}")),
            }
        }
        if got.len() != want.len() {
            errs.push(format!("{} outputs, want {}", got.len(), want.len()));
        }
        let o = if errs.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail(errs.join("; "))
        };
        s.report.push(full, o);
    }
}

// ---------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------

/// Runs the whole suite on `device` against a private CPU driver instance.
///
/// The memory checks assume nothing else allocates on `device` while they run.
pub fn conformance(device: &Device) -> Report {
    conformance_filtered(device, "")
}

/// Runs the cases whose name contains `filter` (`"matmul/"`, `"unary/exp/float16"`,
/// `"/large"`): for a driver author chasing one failure.
pub fn conformance_filtered(device: &Device, filter: &str) -> Report {
    let mut s = Suite {
        dev: device,
        refdev: Device::new(Arc::new(CpuDriver::new())),
        report: Report {
            device: device.to_string(),
            results: Vec::new(),
        },
        filter: filter.to_string(),
    };
    storage_cases(&mut s);
    unary_cases(&mut s);
    binary_cases(&mut s);
    where_cases(&mut s);
    reduce_cases(&mut s);
    matmul_cases(&mut s);
    index_cases(&mut s);
    scan_cases(&mut s);
    random_cases(&mut s);
    random_stats(&mut s);
    tensor_level(&mut s);
    contract_checks(&mut s);
    memory_checks(&mut s);
    device_checks(&mut s);
    s.report
}

/// Runs [`conformance`], prints the summary, and panics listing every failure.
#[track_caller]
pub fn assert_conformance(device: &Device) -> Report {
    let r = conformance(device);
    println!("{r}");
    r.assert_ok();
    r
}

/// Generates a `#[test]` that runs the suite on a device, skipping (with a note) when the
/// constructor returns `None` (no adapter, no GPU):
///
/// ```ignore
/// lantern_tests::conformance_tests!(wgpu, || lantern_wgpu::device().ok());
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($name:ident, $make:expr) => {
        #[test]
        fn $name() {
            let make: fn() -> Option<lantern::Device> = $make;
            match make() {
                Some(dev) => {
                    $crate::conformance::assert_conformance(&dev);
                }
                None => eprintln!("skipping conformance test {}: no device", stringify!($name)),
            }
        }
    };
}
