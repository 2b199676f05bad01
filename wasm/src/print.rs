//! `t.toString()`: core's PyTorch-style printout with the floats written by JS.
//!
//! Core's `Display` writes them with Rust's `{:.4}`/`{:.4e}`, which would link core's
//! `flt2dec` (~7 KB gzipped, issue 5's budget); JS's `toFixed`/`toExponential` are exact too,
//! but round a tie away from zero where Rust and PyTorch (C's printf) round it to even, so
//! ties are corrected here and the printout is the native one.

use crate::{get, JsResult};
use lantern::tensor::Notation;
use wasm_bindgen::prelude::*;

/// PyTorch-style printout (reads back: CPU only).
#[wasm_bindgen(js_name = format)]
pub fn format_tensor(id: u32) -> JsResult<String> {
    Ok(get(id)?.format_with(&js_float))
}

/// `v` (finite, non-negative) with four decimals by JS, ties to even.
fn js_float(v: f64, n: Notation) -> String {
    let x = js_sys::Number::from(v);
    let s = match n {
        Notation::Fixed => x.to_fixed(4),
        Notation::Sci => x.to_exponential(4),
    };
    // Neither throws for a finite number and 4 digits.
    ties_to_even(v, s.map(String::from).unwrap_or_default())
}

/// `s`, a rounding of `v` with its last digit rounded up on an exact tie (JS), rounded half to
/// even instead: one less in the last digit when that digit is odd and `v` lies exactly halfway.
/// (Byte indexing, not `str` slicing: the latter's panic message would link the Unicode tables.)
fn ties_to_even(v: f64, s: String) -> String {
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s.as_str(), 0),
    };
    let decimals = mant.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let Ok(n) = digits.parse::<u64>() else {
        return s;
    };
    if n % 2 == 0 || !is_midpoint(v, n, exp - decimals) {
        return s;
    }
    let last = mant.len() - 1;
    let mut b = s.into_bytes();
    b[last] -= 1; // an odd ASCII digit
    String::from_utf8(b).unwrap_or_default()
}

/// Whether `|v|` is exactly `(n - 1/2)·10^p` (`n` odd). With `|v| = m·2^q`, `m` odd, and the
/// midpoint `(2n-1)·5^p·2^(p-1)` (`2n-1` odd), that is `q = p-1` and `m·5^-p = 2n-1`.
fn is_midpoint(v: f64, n: u64, p: i32) -> bool {
    let bits = v.to_bits() & !(1 << 63);
    let (e, frac) = ((bits >> 52) as i32, bits & ((1 << 52) - 1));
    let (m, q) = if e == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, e - 1075)
    };
    if m == 0 || n == 0 {
        return false;
    }
    let z = m.trailing_zeros();
    let (m, q) = (u128::from(m >> z), q + z as i32);
    let (Some(pow5), odd) = (5u128.checked_pow(p.unsigned_abs()), u128::from(2 * n - 1)) else {
        return false;
    };
    q == p - 1
        && if p >= 0 {
            odd.checked_mul(pow5) == Some(m)
        } else {
            m.checked_mul(pow5) == Some(odd)
        }
}

#[cfg(test)]
mod tests {
    use super::ties_to_even;

    /// What JS's `toFixed(4)`/`toExponential(4)` return, corrected to Rust's `{:.4}`/`{:.4e}`.
    #[test]
    fn ties_round_to_even_like_rust() {
        let cases: [(f64, &str); 12] = [
            (0.03125, "0.0313"),
            (0.09375, "0.0938"),
            (1.03125, "1.0313e+0"),
            (123455.0, "1.2346e+5"),
            (2.5, "2.5000"),
            (0.00005, "0.0001"),
            (0.0312500001, "0.0313"),
            (1.00005, "1.0001e+0"),
            (3.0517578125e-5, "3.0518e-5"),
            (1234567.5, "1234567.5000"),
            (12345.5, "1.2346e+4"),
            (f64::from_bits(1), "4.9407e-324"),
        ];
        for (v, js) in cases {
            let want = if js.contains('e') {
                format!("{v:.4e}")
            } else {
                format!("{v:.4}")
            };
            let got = ties_to_even(v, js.to_string());
            assert_eq!(got.replace("e+", "e"), want, "{v}");
        }
    }
}
