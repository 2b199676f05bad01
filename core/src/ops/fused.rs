//! Fused ops: each has a default body composed from primitives in core, which a driver may
//! override with one kernel (DESIGN.md, "Fused ops").

use crate::driver::View;
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
    /// ins `[x]`, outs `[y]` (floating point, same shape): `max(x, 0)`, NaN stays NaN.
    /// Default: a broadcast `maximum` with a zero scalar.
    Relu,
    /// ins `[x]`, `[x, weight]` or `[x, weight, bias]`, outs `[y, mean, rstd]`: layer
    /// normalization of each row of `x` (all contiguous) seen as `[rows, cols]`, where
    /// `rows = mean.numel()`: `y = (x - mean) · rstd · weight + bias` with the row's mean and
    /// `rstd = 1 / sqrt(var + eps)` (biased variance). y has x's shape and dtype, weight and
    /// bias `cols` elements of x's dtype, mean and rstd `rows` elements of
    /// [`layer_norm_stats_dtype`]. Default: the statistics composed from primitives.
    LayerNorm {
        /// Epsilon added to the variance.
        eps: f64,
    },
    /// ins `[gy, x, mean, rstd]` or `[gy, x, mean, rstd, weight]`, outs `[gx]` or (with a
    /// weight) `[gx, gw, gb]`: the gradients of [`FusedOp::LayerNorm`] from its saved
    /// statistics, `x̂ = (x - mean)·rstd`, `h = gy·weight`,
    /// `gx = rstd·(h - mean(h) - x̂·mean(h·x̂))` per row, `gw = Σ gy·x̂` and `gb = Σ gy` over
    /// the rows. gy, x, gx, gw and gb have x's dtype, mean and rstd the forward's. Default:
    /// composed from primitives.
    LayerNormGrad,
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

/// Whether the dims describe a 2-D max pool a pooling kernel takes (forward: `x → y, idx`;
/// gradient: `gx ← gy, idx` with `y` = gy and `x` = gx): rank 4 with the same batch and
/// channels, `idx` of y's shape, and, for the forward (`window` = kernel, stride, dilation),
/// every window size, stride and dilation positive. What fails is left to the composed
/// default, which reports it.
pub fn max_pool2d_dims(
    x: &[usize],
    y: &[usize],
    idx: &[usize],
    window: Option<[&[usize; 2]; 3]>,
) -> bool {
    x.len() == 4
        && y.len() == 4
        && x[..2] == y[..2]
        && idx == y
        && window.is_none_or(|w| w.iter().all(|a| a.iter().all(|&v| v > 0)))
}

/// The sizes of one convolution ([`FusedOp::Conv2d`] and its gradients), read from the dims
/// of x `[N, C, H, W]`, w `[OC, C / groups, KH, KW]` and y `[N, OC, OH, OW]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeom {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub oc: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

impl Conv2dGeom {
    /// The geometry, or `None` when the dims do not describe one convolution with `opts`
    /// (rank 4 each, channels divisible by the groups, output sizes from stride, padding and
    /// dilation): a kernel then leaves the op to the composed default, which reports it.
    pub fn new(x: &[usize], w: &[usize], y: &[usize], opts: &Conv2dOpts) -> Option<Conv2dGeom> {
        let dims = |d: &[usize]| <[usize; 4]>::try_from(d).ok();
        let ([n, c, h, wd], [oc, cg, kh, kw], [yn, yc, oh, ow]) = (dims(x)?, dims(w)?, dims(y)?);
        let o = opts;
        let out = |n: usize, k: usize, i: usize| {
            let eff = o.dilation[i] * (k - 1) + 1;
            (n + 2 * o.padding[i] >= eff).then(|| (n + 2 * o.padding[i] - eff) / o.stride[i] + 1)
        };
        let ok = o.groups > 0
            && o.stride.iter().chain(&o.dilation).all(|&v| v > 0)
            && kh > 0
            && kw > 0
            && c % o.groups == 0
            && oc % o.groups == 0
            && cg == c / o.groups
            && yn == n
            && yc == oc
            && out(h, kh, 0) == Some(oh)
            && out(wd, kw, 1) == Some(ow);
        ok.then_some(Conv2dGeom {
            n,
            c,
            h,
            w: wd,
            oc,
            kh,
            kw,
            oh,
            ow,
        })
    }
}

/// A softmax or log-softmax a one-pass row kernel can run: `ins`/`outs` are one contiguous
/// view each, of the same shape and one of `dtypes`, rank ≥ 1. Returns the kernel's name
/// (`softmax`, `log_softmax`) and the two views; `None` sends the op to the composed default.
pub fn softmax_rows<'a>(
    op: &FusedOp,
    ins: &'a [View],
    outs: &'a [View],
    dtypes: &[crate::DType],
) -> Option<(&'static str, &'a View, &'a View)> {
    let name = match op {
        FusedOp::Softmax => "softmax",
        FusedOp::LogSoftmax => "log_softmax",
        _ => return None,
    };
    let ([x], [y]) = (ins, outs) else {
        return None;
    };
    let fits =
        |v: &View| v.layout.is_contiguous() && v.layout.rank() > 0 && dtypes.contains(&v.dtype);
    (fits(x) && fits(y) && x.dtype == y.dtype && x.layout.shape == y.layout.shape)
        .then_some((name, x, y))
}

/// An optimizer update a one-pass kernel can run: ins `[grad]`, outs `[param, state...]`
/// (three for [`FusedOp::AdamStep`], two for [`FusedOp::SgdStep`]), every view contiguous,
/// of one of `dtypes` and one shape, each in a buffer of its own (kernels write them in
/// place). Returns the kernel's name (`adam_step`, `sgd_step`), the gradient and the outputs;
/// `None` sends the op to the composed default.
pub fn optim_step_views<'a>(
    op: &FusedOp,
    ins: &'a [View],
    outs: &'a [View],
    dtypes: &[crate::DType],
) -> Option<(&'static str, &'a View, &'a [View])> {
    let (name, n_out) = match op {
        FusedOp::AdamStep(_) => ("adam_step", 3),
        FusedOp::SgdStep(_) => ("sgd_step", 2),
        _ => return None,
    };
    let [g] = ins else {
        return None;
    };
    let fits = |v: &View| {
        v.layout.is_contiguous() && v.dtype == g.dtype && v.layout.shape == g.layout.shape
    };
    let distinct = (0..outs.len())
        .all(|i| outs[i].buf != g.buf && outs[..i].iter().all(|o| o.buf != outs[i].buf));
    (outs.len() == n_out
        && dtypes.contains(&g.dtype)
        && fits(g)
        && outs.iter().all(fits)
        && distinct)
        .then_some((name, g, outs))
}

/// The dtype of [`FusedOp::LayerNorm`]'s mean and rstd for an input of dtype `x`: f32 for
/// f16 and bf16 (PyTorch's accumulation type, and what the backward reads), else `x`.
pub fn layer_norm_stats_dtype(x: crate::DType) -> crate::DType {
    match x {
        crate::DType::F16 | crate::DType::BF16 => crate::DType::F32,
        d => d,
    }
}

/// `(x.numel(), rows, cols, stats dtype)` of a layer norm whose statistics are `mean`, when
/// x is of one of `dtypes` and both are non-empty.
fn layer_norm_rows(
    x: &View,
    mean: &View,
    dtypes: &[crate::DType],
) -> Option<(usize, usize, usize, crate::DType)> {
    let (n, rows) = (x.layout.numel(), mean.layout.numel());
    (n > 0 && rows > 0 && n % rows == 0 && dtypes.contains(&x.dtype))
        .then(|| (n, rows, n / rows, layer_norm_stats_dtype(x.dtype)))
}

/// A contiguous view of `numel` elements of `dtype`.
fn fits(v: &View, dtype: crate::DType, numel: usize) -> bool {
    v.layout.is_contiguous() && v.dtype == dtype && v.layout.numel() == numel
}

/// The views of a [`FusedOp::LayerNorm`] a one-pass row kernel can run.
#[derive(Clone, Copy, Debug)]
pub struct LayerNormViews<'a> {
    /// The input, `rows · cols` elements.
    pub x: &'a View,
    /// The weight (`cols` elements), if affine.
    pub weight: Option<&'a View>,
    /// The bias (`cols` elements), only with a weight.
    pub bias: Option<&'a View>,
    /// The output, x's shape and dtype.
    pub y: &'a View,
    /// The row means (`rows` elements).
    pub mean: &'a View,
    /// The rows' `1 / sqrt(var + eps)`.
    pub rstd: &'a View,
    /// Rows normalised.
    pub rows: usize,
    /// Elements per row.
    pub cols: usize,
    /// Added to the variance.
    pub eps: f64,
}

/// A layer norm a one-pass row kernel can run: the views of [`FusedOp::LayerNorm`]'s
/// contract, all contiguous, x of one of `dtypes`, at least one element. `None` sends the
/// op to the composed default.
pub fn layer_norm_views<'a>(
    op: &FusedOp,
    ins: &'a [View],
    outs: &'a [View],
    dtypes: &[crate::DType],
) -> Option<LayerNormViews<'a>> {
    let FusedOp::LayerNorm { eps } = op else {
        return None;
    };
    let [y, mean, rstd] = outs else {
        return None;
    };
    let (x, weight, bias) = match ins {
        [x] => (x, None, None),
        [x, w] => (x, Some(w), None),
        [x, w, b] => (x, Some(w), Some(b)),
        _ => return None,
    };
    let (n, rows, cols, sdt) = layer_norm_rows(x, mean, dtypes)?;
    let ok = fits(x, x.dtype, n)
        && fits(y, x.dtype, n)
        && y.layout.shape == x.layout.shape
        && weight.is_none_or(|w| fits(w, x.dtype, cols))
        && bias.is_none_or(|b| fits(b, x.dtype, cols))
        && fits(mean, sdt, rows)
        && fits(rstd, sdt, rows)
        && y.buf != x.buf
        && mean.buf != rstd.buf;
    ok.then_some(LayerNormViews {
        x,
        weight,
        bias,
        y,
        mean,
        rstd,
        rows,
        cols,
        eps: *eps,
    })
}

/// The views of a [`FusedOp::LayerNormGrad`] a row kernel can run.
#[derive(Clone, Copy, Debug)]
pub struct LayerNormGradViews<'a> {
    /// The output gradient, `rows · cols` elements.
    pub gy: &'a View,
    /// The forward's input.
    pub x: &'a View,
    /// The forward's row means (`rows` elements).
    pub mean: &'a View,
    /// The forward's row `1 / sqrt(var + eps)`.
    pub rstd: &'a View,
    /// The weight (`cols` elements), if affine.
    pub weight: Option<&'a View>,
    /// The input's gradient.
    pub gx: &'a View,
    /// The weight's and bias's gradients (`cols` elements each), with a weight.
    pub gw_gb: Option<(&'a View, &'a View)>,
    /// Rows.
    pub rows: usize,
    /// Elements per row.
    pub cols: usize,
}

/// A layer-norm gradient a row kernel can run: the views of [`FusedOp::LayerNormGrad`]'s
/// contract, all contiguous, x of one of `dtypes`, at least one element, outputs in
/// buffers of their own. `None` sends the op to the composed default.
pub fn layer_norm_grad_views<'a>(
    op: &FusedOp,
    ins: &'a [View],
    outs: &'a [View],
    dtypes: &[crate::DType],
) -> Option<LayerNormGradViews<'a>> {
    if *op != FusedOp::LayerNormGrad {
        return None;
    }
    let (gy, x, mean, rstd, weight) = match ins {
        [g, x, m, r] => (g, x, m, r, None),
        [g, x, m, r, w] => (g, x, m, r, Some(w)),
        _ => return None,
    };
    let (gx, gw_gb) = match (outs, weight) {
        ([gx], None) => (gx, None),
        ([gx, gw, gb], Some(_)) => (gx, Some((gw, gb))),
        _ => return None,
    };
    let (n, rows, cols, sdt) = layer_norm_rows(x, mean, dtypes)?;
    let own = |o: &View| ins.iter().all(|i| i.buf != o.buf);
    let ok = fits(gy, x.dtype, n)
        && fits(x, x.dtype, n)
        && fits(gx, x.dtype, n)
        && fits(mean, sdt, rows)
        && fits(rstd, sdt, rows)
        && weight.is_none_or(|w| fits(w, x.dtype, cols))
        && gw_gb.is_none_or(|(gw, gb)| {
            fits(gw, x.dtype, cols) && fits(gb, x.dtype, cols) && gw.buf != gb.buf
        })
        && outs.iter().all(own)
        && gw_gb.is_none_or(|(gw, gb)| gx.buf != gw.buf && gx.buf != gb.buf);
    ok.then_some(LayerNormGradViews {
        gy,
        x,
        mean,
        rstd,
        weight,
        gx,
        gw_gb,
        rows,
        cols,
    })
}
