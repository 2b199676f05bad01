//! `Display` in the style of PyTorch's `print(tensor)`.

use super::Tensor;
use crate::dtype::DType;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// How floats are printed, chosen once per tensor like PyTorch's `_Formatter`.
enum Style {
    Int,
    /// Floats whose values are all integers: `1.`, `-3.`.
    IntFloat,
    Float(Notation),
}

/// The notation of a tensor's non-integral floats in its printout, chosen once per tensor
/// like PyTorch's `_Formatter` (see [`Tensor::format_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// Four decimals, `0.1250`: Rust's `{:.4}`, JS's `toFixed(4)`.
    Fixed,
    /// Scientific with four decimals, `1.2500e-05`: Rust's `{:.4e}` (`1.2500e-5`) or JS's
    /// `toExponential(4)` (`1.2500e-5`, `1.2500e+5`); the printout writes the exponent as C's
    /// printf does (`e-05`, `e+05`).
    Sci,
}

fn fmt_elem(v: f64, style: &Style, dt: DType, float: &dyn Fn(f64, Notation) -> String) -> String {
    if dt == DType::Bool {
        return String::from(if v != 0.0 { "True" } else { "False" });
    }
    if v.is_nan() {
        return String::from("nan");
    }
    if v.is_infinite() {
        return String::from(if v > 0.0 { "inf" } else { "-inf" });
    }
    // The sign is written here: -0.0 keeps its minus (as in PyTorch) whatever `float` does.
    let sign = if v.is_sign_negative() { "-" } else { "" };
    match *style {
        Style::Int => alloc::format!("{}", v as i64),
        // All below 1e8: exact as integers.
        Style::IntFloat => alloc::format!("{sign}{}.", v.abs() as i64),
        Style::Float(n) => {
            let t = float(v.abs(), n);
            match t.split_once('e') {
                // C's printf writes `1.0000e-05` and `1.0000e+05`.
                Some((m, e)) => {
                    let (esign, digits) = match e.strip_prefix('-') {
                        Some(d) => ('-', d),
                        None => ('+', e.strip_prefix('+').unwrap_or(e)),
                    };
                    alloc::format!("{sign}{m}e{esign}{digits:0>2}")
                }
                None => alloc::format!("{sign}{t}"),
            }
        }
    }
}

/// Rust's exact formatting of a float element (rounded half to even, as PyTorch's printf).
fn rust_float(v: f64, n: Notation) -> String {
    match n {
        Notation::Fixed => alloc::format!("{v:.4}"),
        Notation::Sci => alloc::format!("{v:.4e}"),
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_with(f, &rust_float)
    }
}

impl Tensor {
    /// The [`Display`](fmt::Display) printout, with each non-integral float element written by
    /// `float(|v|, notation)` (finite, non-negative; the printout adds the sign). `float` must
    /// round exactly, half to even, to print what `Display` prints; with it a build can leave
    /// out Rust's float formatting (the npm package writes them with JS's `toFixed` and
    /// `toExponential`, see [`crate::fmt`]).
    ///
    /// ```
    /// use lantern::{tensor::Notation, Device, Tensor};
    /// let t = Tensor::from_slice(&[0.5f32, -2.25], [2], &Device::cpu());
    /// let s = t.format_with(&|v, n| match n {
    ///     Notation::Fixed => format!("{v:.4}"),
    ///     Notation::Sci => format!("{v:.4e}"),
    /// });
    /// assert_eq!(s, t.to_string());
    /// ```
    pub fn format_with(&self, float: &dyn Fn(f64, Notation) -> String) -> String {
        let mut s = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_with(&mut s, float);
        s
    }

    fn write_with(
        &self,
        f: &mut dyn fmt::Write,
        float: &dyn Fn(f64, Notation) -> String,
    ) -> fmt::Result {
        let vals = match self.try_to_f64_vec() {
            Ok(v) => v,
            Err(e) => return write!(f, "tensor(<unreadable: {e}>)"),
        };
        let dt = self.dtype();
        let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
        let style = if !dt.is_float() {
            Style::Int
        } else if finite.iter().all(|&v| crate::math::trunc(v) == v)
            && finite.iter().all(|v| v.abs() < 1e8)
        {
            Style::IntFloat
        } else {
            let nz: Vec<f64> = finite
                .iter()
                .map(|v| v.abs())
                .filter(|&v| v != 0.0)
                .collect();
            let (mx, mn) = nz
                .iter()
                .fold((0.0f64, f64::INFINITY), |(a, b), &v| (a.max(v), b.min(v)));
            if !nz.is_empty() && (mx / mn > 1000.0 || mx > 1e8 || mn < 1e-4) {
                Style::Float(Notation::Sci)
            } else {
                Style::Float(Notation::Fixed)
            }
        };
        let strs: Vec<String> = vals
            .iter()
            .map(|&v| fmt_elem(v, &style, dt, float))
            .collect();
        let width = strs.iter().map(|s| s.len()).max().unwrap_or(0);
        let dims = self.dims();
        let summarize = self.numel() > 1000;
        f.write_str("tensor(")?;
        if dims.is_empty() {
            f.write_str(strs.first().map(|s| s.as_str()).unwrap_or(""))?;
        } else {
            write_dim(f, &strs, dims, 0, 0, width, summarize)?;
        }
        let default = matches!(dt, DType::F32 | DType::I64 | DType::Bool);
        if self.numel() == 0 && !dims.is_empty() && dims != [0] {
            write!(f, ", size={}", self.shape())?;
        }
        if !default {
            write!(f, ", dtype=torch.{}", dt.name())?;
        }
        if self.device().id().kind != "cpu" {
            write!(f, ", device='{}'", self.device())?;
        }
        f.write_str(")")
    }
}

fn write_dim(
    f: &mut dyn fmt::Write,
    strs: &[String],
    dims: &[usize],
    d: usize,
    base: usize,
    width: usize,
    summarize: bool,
) -> fmt::Result {
    let n = dims[d];
    let inner: usize = dims[d + 1..].iter().product();
    let indent = 7 + d + 1;
    f.write_str("[")?;
    let show: Vec<Option<usize>> = if summarize && n > 6 {
        (0..3)
            .map(Some)
            .chain([None])
            .chain((n - 3..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    for (j, i) in show.iter().enumerate() {
        if j > 0 {
            if d + 1 == dims.len() {
                f.write_str(", ")?;
            } else {
                f.write_str(",")?;
                for _ in 0..(dims.len() - d - 1) {
                    f.write_str("\n")?;
                }
                for _ in 0..indent {
                    f.write_str(" ")?;
                }
            }
        }
        match i {
            None => f.write_str("...")?,
            Some(i) if d + 1 == dims.len() => {
                write!(f, "{:>width$}", strs[base + i], width = width)?
            }
            Some(i) => write_dim(f, strs, dims, d + 1, base + i * inner, width, summarize)?,
        }
    }
    f.write_str("]")
}
