//! Fused ops: each has a default body composed from primitives in core, which a driver may
//! override with one kernel (DESIGN.md, "Fused ops").

/// A fused op. Drivers return `None` from [`crate::Driver::fused`] to take the composed default.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FusedOp {
    /// ins `[x]`, outs `[y]` (contiguous, same shape): softmax over the last axis.
    Softmax,
    /// ins `[x]`, outs `[y]`: log-softmax over the last axis.
    LogSoftmax,
    /// ins `[x]`, outs `[y]`: GELU, exact (erf) or tanh approximation.
    Gelu {
        /// Use the tanh approximation.
        tanh: bool,
    },
    /// ins `[x]`, outs `[y]`: `x * sigmoid(x)`.
    Silu,
    /// ins `[x]`, outs `[y]`: `1 / (1 + e^-x)`.
    Sigmoid,
    /// ins `[x, weight, bias]` (weight/bias may be absent: then ins has 1 element),
    /// outs `[y, mean, rstd]`: normalization over the last `normalized` elements.
    LayerNorm {
        /// Epsilon added to the variance.
        eps: f64,
    },
}

/// A softmax or log-softmax a one-pass row kernel can run: `ins`/`outs` are one contiguous
/// view each, of the same shape and one of `dtypes`, rank ≥ 1. Returns the kernel's name
/// (`softmax`, `log_softmax`) and the two views; `None` sends the op to the composed default.
pub fn softmax_rows<'a>(
    op: &FusedOp,
    ins: &'a [crate::driver::View],
    outs: &'a [crate::driver::View],
    dtypes: &[crate::DType],
) -> Option<(
    &'static str,
    &'a crate::driver::View,
    &'a crate::driver::View,
)> {
    let name = match op {
        FusedOp::Softmax => "softmax",
        FusedOp::LogSoftmax => "log_softmax",
        _ => return None,
    };
    let ([x], [y]) = (ins, outs) else {
        return None;
    };
    let fits = |v: &crate::driver::View| {
        v.layout.is_contiguous() && v.layout.rank() > 0 && dtypes.contains(&v.dtype)
    };
    (fits(x) && fits(y) && x.dtype == y.dtype && x.layout.shape == y.layout.shape)
        .then_some((name, x, y))
}
