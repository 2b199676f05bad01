//! Scalar float math for the whole crate: one place that picks the implementation.
//!
//! - Exactly rounded operations (sqrt, floor, ceil, trunc, round-half-even, abs) use std's
//!   intrinsics when `std` is on (an instruction on every target, where libm on wasm32 is a
//!   software routine) and libm without std: the results are identical, IEEE defines them.
//! - Transcendental functions come from libm, except, with the `host-math` feature, the f64
//!   ones (and f32 `pow`/`exp2`, computed in f64 and rounded once): those call functions the
//!   embedding links in. The npm package forwards them to JS's `Math`, which the engine ships
//!   anyway, so its wasm carries no libm copy of them (9 KB gzipped). f32 `exp`, `log`,
//!   `tanh`... stay on libm: a call out of wasm per element is 2-4x slower than libm's inline
//!   code, and they are the hot ones; f64 math is rare in the browser. `erf` and `fmod` have no
//!   `Math` counterpart and stay on libm.

/// The host's functions (feature `host-math`): the embedding defines these symbols; the npm
/// package forwards them to JS's `Math` (wasm/src/lib.rs). A build enabling the feature
/// without them fails to link, or, on wasm32, to instantiate.
#[cfg(feature = "host-math")]
mod host {
    extern "C" {
        pub fn lantern_host_exp(x: f64) -> f64;
        pub fn lantern_host_expm1(x: f64) -> f64;
        pub fn lantern_host_log(x: f64) -> f64;
        pub fn lantern_host_log2(x: f64) -> f64;
        pub fn lantern_host_log1p(x: f64) -> f64;
        pub fn lantern_host_sin(x: f64) -> f64;
        pub fn lantern_host_cos(x: f64) -> f64;
        pub fn lantern_host_tanh(x: f64) -> f64;
        pub fn lantern_host_pow(x: f64, y: f64) -> f64;
    }
}

/// One f64 transcendental (the host's with `host-math`, else libm's) and libm's f32 variant.
macro_rules! transcendental {
    ($($(#[$doc:meta])* $f64n:ident, $f32n:ident, $host:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $f64n(x: f64) -> f64 {
            #[cfg(feature = "host-math")]
            // SAFETY: the host's functions are pure functions of their arguments (the
            // feature's contract above).
            let r = unsafe { host::$host(x) };
            #[cfg(not(feature = "host-math"))]
            let r = libm::$f64n(x);
            r
        }
        $(#[$doc])*
        #[inline]
        pub fn $f32n(x: f32) -> f32 {
            libm::$f32n(x)
        }
    )*};
}

transcendental! {
    /// `e^x`.
    exp, expf, lantern_host_exp;
    /// `e^x - 1`, accurate near 0.
    expm1, expm1f, lantern_host_expm1;
    /// Natural logarithm.
    log, logf, lantern_host_log;
    /// Base-2 logarithm.
    log2, log2f, lantern_host_log2;
    /// `ln(1 + x)`, accurate near 0.
    log1p, log1pf, lantern_host_log1p;
    /// Sine.
    sin, sinf, lantern_host_sin;
    /// Cosine.
    cos, cosf, lantern_host_cos;
    /// Hyperbolic tangent.
    tanh, tanhf, lantern_host_tanh;
}

/// `x^y`.
#[inline]
pub fn pow(x: f64, y: f64) -> f64 {
    #[cfg(feature = "host-math")]
    // SAFETY: as in `exp`.
    let r = unsafe { host::lantern_host_pow(x, y) };
    #[cfg(not(feature = "host-math"))]
    let r = libm::pow(x, y);
    r
}

/// `x^y` in f32 (with `host-math`, the host's f64 `pow` rounded once: `x^2` stays exact).
#[inline]
pub fn powf(x: f32, y: f32) -> f32 {
    if cfg!(feature = "host-math") {
        pow(x as f64, y as f64) as f32
    } else {
        libm::powf(x, y)
    }
}

/// `2^x`.
#[inline]
pub fn exp2(x: f64) -> f64 {
    if cfg!(feature = "host-math") {
        pow(2.0, x)
    } else {
        libm::exp2(x)
    }
}

/// `2^x` in f32.
#[inline]
pub fn exp2f(x: f32) -> f32 {
    if cfg!(feature = "host-math") {
        exp2(x as f64) as f32
    } else {
        libm::exp2f(x)
    }
}

pub use libm::{erf, erff, fmod, fmodf};

/// The exactly rounded operations, f64 and f32: std's intrinsic, else libm's routine (same
/// result).
macro_rules! exact {
    ($($(#[$doc:meta])* $f64n:ident, $f32n:ident = $std:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $f64n(x: f64) -> f64 {
            #[cfg(feature = "std")]
            let r = f64::$std(x);
            #[cfg(not(feature = "std"))]
            let r = libm::$f64n(x);
            r
        }
        $(#[$doc])*
        #[inline]
        pub fn $f32n(x: f32) -> f32 {
            #[cfg(feature = "std")]
            let r = f32::$std(x);
            #[cfg(not(feature = "std"))]
            let r = libm::$f32n(x);
            r
        }
    )*};
}

exact! {
    /// Square root.
    sqrt, sqrtf = sqrt;
    /// Largest integer not above `x`.
    floor, floorf = floor;
    /// Smallest integer not below `x`.
    ceil, ceilf = ceil;
    /// `x` rounded toward zero.
    trunc, truncf = trunc;
    /// `x` rounded to the nearest integer, ties to even.
    rint, rintf = round_ties_even;
    /// Absolute value.
    fabs, fabsf = abs;
}
