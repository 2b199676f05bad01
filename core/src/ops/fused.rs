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
