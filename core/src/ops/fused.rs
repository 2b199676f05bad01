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
    /// ins `[grad]`, outs `[param, exp_avg, exp_avg_sq]` (read and updated in place; all four
    /// contiguous, one dtype and shape): one Adam/AdamW step without AMSGrad, evaluated in
    /// the composed default's order (`lantern::optim::Adam`).
    AdamStep(AdamStep),
    /// ins `[grad]`, outs `[param, momentum_buffer]` (read and updated in place): one SGD
    /// step with an initialised momentum buffer, in the composed default's order.
    SgdStep(SgdStep),
}

/// The scalars of [`FusedOp::AdamStep`], derived in f64 as the composed update derives them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// `1 - lr * weight_decay` for AdamW (the parameter is scaled first), else 1.
    pub decay_mul: f64,
    /// L2 weight decay added to the gradient (Adam), else 0.
    pub l2: f64,
    /// `1 - beta1`: `exp_avg += (grad - exp_avg) * (1 - beta1)`.
    pub one_minus_beta1: f64,
    /// `beta2`, then `exp_avg_sq += grad * (1 - beta2) * grad`.
    pub beta2: f64,
    /// `1 - beta2`.
    pub one_minus_beta2: f64,
    /// `sqrt(1 - beta2^step)`: `denom = sqrt(exp_avg_sq) / it + eps`.
    pub bias2_sqrt: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// `-lr / (1 - beta1^step)`: `param += exp_avg * it / denom`.
    pub neg_step_size: f64,
}

/// The scalars of [`FusedOp::SgdStep`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdStep {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
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
