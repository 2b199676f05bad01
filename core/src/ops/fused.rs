//! Fused ops: each has a default body composed from primitives in core, which a driver may
//! override with one kernel (DESIGN.md, "Fused ops").

use crate::tensor::Conv2dOpts;

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
    /// ins `[x, w]` or `[x, w, bias]`, outs `[y]`: 2-D convolution, x `[N, C, H, W]`,
    /// w `[OC, C / groups, KH, KW]`, bias `[OC]`, y `[N, OC, OH, OW]` (all contiguous).
    /// Default: im2col as one strided copy, then a batched matmul.
    Conv2d {
        /// Stride, padding, dilation, groups.
        opts: Conv2dOpts,
    },
    /// ins `[gy, w]`, outs `[gx]`: the gradient of [`FusedOp::Conv2d`] for its input (gx's
    /// shape gives H and W). Default: `wᵀ @ gy` then col2im.
    Conv2dInputGrad {
        /// The forward's options.
        opts: Conv2dOpts,
    },
    /// ins `[x, gy]`, outs `[gw]`: the gradient of [`FusedOp::Conv2d`] for its weight (gw's
    /// shape gives KH and KW). Default: `gy @ colsᵀ` summed over the batch.
    Conv2dWeightGrad {
        /// The forward's options.
        opts: Conv2dOpts,
    },
    /// ins `[x]`, outs `[y, indices]`: 2-D max pooling of `[N, C, H, W]` (padding is -inf);
    /// `indices` (i64) is each maximum's flat position in its `H·W` input plane, the first
    /// maximum of a window (NaN wins), as PyTorch's `return_indices`.
    MaxPool2d {
        /// Window size `[h, w]`.
        kernel: [usize; 2],
        /// Step between windows.
        stride: [usize; 2],
        /// Implicit padding.
        padding: [usize; 2],
        /// Spacing between window taps.
        dilation: [usize; 2],
    },
    /// ins `[gy, indices]`, outs `[gx]` (zeroed by the op): each gradient added at its
    /// index in the `H·W` plane of gx. Default: a `scatter_add` into zeros.
    MaxPool2dGrad,
}
