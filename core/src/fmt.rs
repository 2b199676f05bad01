//! Numbers and names in messages, without Rust's float formatting machinery.
//!
//! `{}` on an `f64` links core's `flt2dec` (Grisu with a Dragon4 bignum fallback, ~20 KB of
//! wasm), and `{:?}` on a `str` links the Unicode tables its escaping needs. The npm package
//! (issue 5: at most 250 KB gzipped) links neither: messages write floats through [`Float`]
//! and names as `'name'` (lists of names as `["a", "b"]`). Tensor printing keeps Rust's exact
//! `{:.4}`/`{:.4e}` natively; the package prints tensors through
//! [`Tensor::format_with`](crate::Tensor::format_with).

use core::fmt;

/// An `f64` in its shortest round-trip form, through the `zmij` crate: `0.001`, `1e-7`,
/// `2.5e+20`, integers without a fraction (`3`, `-1`), `NaN`, `inf`.
///
/// ```
/// use lantern::fmt::Float;
/// assert_eq!(Float(0.001).to_string(), "0.001");
/// assert_eq!(Float(1e-7).to_string(), "1e-7");
/// assert_eq!(Float(-2.0).to_string(), "-2");
/// ```
#[derive(Clone, Copy)]
pub struct Float(pub f64);

impl fmt::Display for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = zmij::Buffer::new();
        let s = buf.format(self.0);
        f.write_str(s.strip_suffix(".0").unwrap_or(s))
    }
}

/// Names as a list, `["a", "b"]`: `{:?}` on `&[&str]` without its escaping (the same text for
/// plain ASCII names).
pub(crate) struct Names<'a, S>(pub &'a [S]);

impl<S: AsRef<str>> fmt::Display for Names<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, n) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}\"{}\"", n.as_ref())?;
        }
        f.write_str("]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn floats_read_like_rust_for_everyday_values() {
        for (v, s) in [
            (0.001, "0.001"),
            (0.5, "0.5"),
            (1.0, "1"),
            (-3.0, "-3"),
            (0.0, "0"),
            (1e-7, "1e-7"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(Float(v).to_string(), s);
        }
    }

    #[test]
    fn names_print_as_debug_does() {
        let names = ["a.weight", "b"];
        assert_eq!(Names(&names).to_string(), alloc::format!("{names:?}"));
        assert_eq!(Names::<&str>(&[]).to_string(), "[]");
    }
}
