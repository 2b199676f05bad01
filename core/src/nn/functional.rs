//! Functional forms of layers and losses (PyTorch's `torch.nn.functional`).

use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Error, Result};
use crate::fmt::Float;
use crate::tensor::Tensor;

/// How a loss reduces over elements.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Per-element losses.
    None,
    /// The mean (PyTorch's default).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

fn reduce(l: Tensor, r: Reduction) -> Result<Tensor> {
    match r {
        Reduction::None => Ok(l),
        Reduction::Mean => l.try_mean(None, false),
        Reduction::Sum => l.try_sum(None, false),
    }
}

/// Dropout: zeroes with probability `p` and scales by `1/(1-p)` when `training`.
pub fn dropout(x: &Tensor, p: f64, training: bool) -> Result<Tensor> {
    if !(0.0..=1.0).contains(&p) {
        return Err(arg_err(
            "dropout",
            alloc::format!("p must be in [0, 1], got {}", Float(p)),
        ));
    }
    if !training || p == 0.0 {
        return Ok(x.clone());
    }
    if p == 1.0 {
        return x.try_mul_scalar(0.0);
    }
    let keep = Tensor::try_bernoulli_p(x.shape().clone(), 1.0 - p, x.dtype(), x.device())?;
    x.try_mul(&keep)?.try_mul_scalar(1.0 / (1.0 - p))
}

/// Negative log-likelihood of log-probabilities `[N, C]` (or `[C]`) at int64 targets `[N]`;
/// `ignore_index` targets contribute nothing (and are excluded from the mean).
pub fn nll_loss(
    logp: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    ignore_index: Option<i64>,
) -> Result<Tensor> {
    if target.dtype() != DType::I64 {
        return Err(dtype_err(
            "nll_loss",
            alloc::format!("target must be int64 class indices, got {}", target.dtype()),
        ));
    }
    let (lp, t) = if logp.rank() == 1 {
        (logp.try_unsqueeze(0)?, target.try_reshape(&[1])?)
    } else {
        (logp.clone(), target.clone())
    };
    if lp.rank() != 2 || t.rank() != 1 || t.dims()[0] != lp.dims()[0] {
        return Err(shape_err(
            "nll_loss",
            alloc::format!("input [N, C] and target [N] (input {})", logp.shape()),
            target.shape(),
        ));
    }
    let valid = match ignore_index {
        Some(ii) => Some(t.try_ne_scalar(ii)?),
        None => None,
    };
    let picked = pick_classes("nll_loss", &lp, &t, valid.as_ref())?.try_neg()?;
    match valid {
        None => reduce(picked, reduction),
        Some(v) => {
            let m = v.try_to_dtype(picked.dtype())?;
            let l = picked.try_mul(&m)?;
            match reduction {
                Reduction::Mean => l.try_sum(None, false)?.try_div(&m.try_sum(None, false)?),
                r => reduce(l, r),
            }
        }
    }
}

/// Cross entropy of logits `[N, C]` with int64 class targets `[N]` (or probabilities of the
/// logits' shape) and label smoothing.
pub fn cross_entropy(
    logits: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    label_smoothing: f64,
) -> Result<Tensor> {
    if target.dtype() != DType::I64 {
        // Probabilities, or a wrong dtype: the general path takes the one and names
        // cross_entropy in the error for the other.
        let opts = CrossEntropyOptions {
            reduction,
            label_smoothing,
            ..Default::default()
        };
        return cross_entropy_ext(logits, target, &opts);
    }
    let logp = logits.try_log_softmax(-1)?;
    let nll = nll_loss(&logp, target, reduction, None)?;
    if label_smoothing == 0.0 {
        return Ok(nll);
    }
    let smooth = reduce(logp.try_mean(Some(&[-1]), false)?.try_neg()?, reduction)?;
    nll.try_mul_scalar(1.0 - label_smoothing)?
        .try_add(&smooth.try_mul_scalar(label_smoothing)?)
}

/// Mean squared error.
pub fn mse_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    if input.shape() != target.shape() {
        return Err(shape_err("mse_loss", input.shape(), target.shape()));
    }
    let d = input.try_sub(target)?;
    reduce(d.try_mul(&d)?, reduction)
}

/// Mean absolute error.
pub fn l1_loss(input: &Tensor, target: &Tensor, reduction: Reduction) -> Result<Tensor> {
    if input.shape() != target.shape() {
        return Err(shape_err("l1_loss", input.shape(), target.shape()));
    }
    reduce(input.try_sub(target)?.try_abs()?, reduction)
}

/// Leaky ReLU: `x` where `x > 0`, else `negative_slope·x` (gradient `negative_slope` at 0,
/// as PyTorch).
pub fn leaky_relu(x: &Tensor, negative_slope: f64) -> Result<Tensor> {
    if !x.dtype().is_float() {
        return Err(dtype_err(
            "leaky_relu",
            alloc::format!("input must be floating point, got {}", x.dtype()),
        ));
    }
    let pos = x.try_gt_scalar(0.0)?;
    Tensor::try_where(&pos, x, &x.try_mul_scalar(negative_slope)?)
}

/// Checks that a loss's input and target have the same shape and floating dtypes.
fn check_pair(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    if !input.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", input.dtype()),
        ));
    }
    if !target.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!(
                "target must be floating point, got {} (input is {})",
                target.dtype(),
                input.dtype()
            ),
        ));
    }
    if input.shape() != target.shape() {
        return Err(shape_err(
            op,
            alloc::format!("target of the input's shape {}", input.shape()),
            target.shape(),
        ));
    }
    Ok(())
}

/// Smooth L1 loss: `0.5·d²/beta` where `|d| < beta`, else `|d| - 0.5·beta` (PyTorch's
/// default `beta = 1`; `beta = 0` is the L1 loss).
pub fn smooth_l1_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    beta: f64,
) -> Result<Tensor> {
    check_pair("smooth_l1_loss", input, target)?;
    if beta.is_nan() || beta < 0.0 {
        return Err(arg_err(
            "smooth_l1_loss",
            alloc::format!("beta must be non-negative, got {}", Float(beta)),
        ));
    }
    let d = input.try_sub(target)?;
    let a = d.try_abs()?;
    if beta == 0.0 {
        return reduce(a, reduction);
    }
    let quad = d.try_mul(&d)?.try_mul_scalar(0.5 / beta)?;
    let lin = a.try_sub_scalar(0.5 * beta)?;
    reduce(
        Tensor::try_where(&a.try_lt_scalar(beta)?, &quad, &lin)?,
        reduction,
    )
}

/// Huber loss: `0.5·d²` where `|d| < delta`, else `delta·(|d| - 0.5·delta)` (default 1).
pub fn huber_loss(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    delta: f64,
) -> Result<Tensor> {
    check_pair("huber_loss", input, target)?;
    if delta.is_nan() || delta <= 0.0 {
        return Err(arg_err(
            "huber_loss",
            alloc::format!("delta must be positive, got {}", Float(delta)),
        ));
    }
    let d = input.try_sub(target)?;
    let a = d.try_abs()?;
    let quad = d.try_mul(&d)?.try_mul_scalar(0.5)?;
    let lin = a.try_sub_scalar(0.5 * delta)?.try_mul_scalar(delta)?;
    reduce(
        Tensor::try_where(&a.try_lt_scalar(delta)?, &quad, &lin)?,
        reduction,
    )
}

/// `log(x)` clamped below at -100 (PyTorch's BCE rule), with a finite gradient at `x = 0`.
fn clamped_log(x: &Tensor) -> Result<Tensor> {
    let pos = x.try_gt_scalar(0.0)?;
    let safe = Tensor::try_where(&pos, x, &x.try_ones_like()?)?;
    let l = safe.try_log()?.try_clamp(Some(-100.0), None)?;
    Tensor::try_where(&pos, &l, &l.try_full_like(-100.0)?)
}

fn apply_weight(op: &'static str, l: Tensor, weight: Option<&Tensor>) -> Result<Tensor> {
    match weight {
        None => Ok(l),
        Some(w) => l.try_mul(&w.try_to_dtype(l.dtype())?).map_err(|_| {
            shape_err(
                op,
                alloc::format!("a weight broadcastable to {}", l.shape()),
                w.shape(),
            )
        }),
    }
}

/// Binary cross entropy of probabilities `input` in `[0, 1]` against float `target`:
/// `-w·(t·log(x) + (1 - t)·log(1 - x))`, each log clamped at -100 as in PyTorch.
pub fn binary_cross_entropy(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy";
    check_pair(OP, input, target)?;
    if input.numel() > 0 {
        let lo = input
            .try_amin(None, false)?
            .try_to_dtype(DType::F64)?
            .try_item::<f64>()?;
        let hi = input
            .try_amax(None, false)?
            .try_to_dtype(DType::F64)?
            .try_item::<f64>()?;
        if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) {
            return Err(arg_err(
                OP,
                alloc::format!(
                    "all elements of input should be between 0 and 1, got a range [{}, {}]",
                    Float(lo),
                    Float(hi)
                ),
            ));
        }
    }
    let lx = clamped_log(input)?;
    let l1x = clamped_log(&input.try_neg()?.try_add_scalar(1.0)?)?;
    let one_t = target.try_neg()?.try_add_scalar(1.0)?;
    let l = target
        .try_mul(&lx)?
        .try_add(&one_t.try_mul(&l1x)?)?
        .try_neg()?;
    reduce(apply_weight(OP, l, weight)?, reduction)
}

/// Binary cross entropy of logits, in the stable form
/// `(1 - t)·softplus(x) + pos_weight·t·softplus(-x)`, times `weight`; `pos_weight`
/// broadcasts over the last (class) dim as in PyTorch.
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy_with_logits";
    check_pair(OP, input, target)?;
    let sp_pos = input.try_softplus(1.0, 20.0)?;
    let sp_neg = input.try_neg()?.try_softplus(1.0, 20.0)?;
    let one_t = target.try_neg()?.try_add_scalar(1.0)?;
    let mut tpos = target.try_mul(&sp_neg)?;
    if let Some(pw) = pos_weight {
        tpos = tpos
            .try_mul(&pw.try_to_dtype(input.dtype())?)
            .map_err(|_| {
                shape_err(
                    OP,
                    alloc::format!("a pos_weight broadcastable to {}", input.shape()),
                    pw.shape(),
                )
            })?;
    }
    let l = one_t.try_mul(&sp_pos)?.try_add(&tpos)?;
    reduce(apply_weight(OP, l, weight)?, reduction)
}

/// Pointwise Kullback-Leibler divergence `t·(log t - input)` of log-probabilities `input`
/// (PyTorch's `F.kl_div`; `0` where `t = 0`); with `log_target`, `target` holds log t.
pub fn kl_div(
    input: &Tensor,
    target: &Tensor,
    reduction: Reduction,
    log_target: bool,
) -> Result<Tensor> {
    reduce(kl_div_pointwise(input, target, log_target)?, reduction)
}

/// [`kl_div`] summed and divided by the batch size (PyTorch's `reduction="batchmean"`, the
/// mathematically correct KL divergence).
pub fn kl_div_batchmean(input: &Tensor, target: &Tensor, log_target: bool) -> Result<Tensor> {
    let l = kl_div_pointwise(input, target, log_target)?;
    let n = if input.rank() == 0 {
        1
    } else {
        input.dims()[0]
    };
    l.try_sum(None, false)?.try_div_scalar(n as f64)
}

fn kl_div_pointwise(input: &Tensor, target: &Tensor, log_target: bool) -> Result<Tensor> {
    check_pair("kl_div", input, target)?;
    if log_target {
        target.try_exp()?.try_mul(&target.try_sub(input)?)
    } else {
        let pos = target.try_gt_scalar(0.0)?;
        let safe = Tensor::try_where(&pos, target, &target.try_ones_like()?)?;
        target.try_mul(&safe.try_log()?.try_sub(input)?)
    }
}

/// Options of [`cross_entropy_ext`], with PyTorch's defaults via `Default`.
#[derive(Clone)]
pub struct CrossEntropyOptions {
    /// Per-class weights `[C]`.
    pub weight: Option<Tensor>,
    /// Class-index targets equal to this contribute nothing (PyTorch's default -100).
    pub ignore_index: i64,
    /// How the per-sample losses are reduced.
    pub reduction: Reduction,
    /// Mixes the target with the uniform distribution: `(1 - ε)·target + ε / C`.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: -100,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

/// Moves dim 1 of `[N, C, d1, ...]` last and flattens to `[M, C]`; `[C]` becomes `[1, C]`.
fn classes_last(x: &Tensor) -> Result<Tensor> {
    match x.rank() {
        1 => x.try_unsqueeze(0),
        2 => Ok(x.clone()),
        r => {
            let mut perm: alloc::vec::Vec<isize> = alloc::vec![0];
            perm.extend(2..r as isize);
            perm.push(1);
            let c = x.dims()[1] as isize;
            x.try_permute(&perm)?.try_reshape(&[-1, c])
        }
    }
}

/// Cross entropy of logits `[N, C]` (or `[C]`, or `[N, C, d1, ...]`) against class indices
/// (int64 `[N]` / `[N, d1, ...]`) or class probabilities (float, the input's shape), with
/// PyTorch's class weights, `ignore_index` and label smoothing. With class indices, the
/// mean divides by the summed weights of the non-ignored targets, as in PyTorch.
pub fn cross_entropy_ext(
    input: &Tensor,
    target: &Tensor,
    opts: &CrossEntropyOptions,
) -> Result<Tensor> {
    class_loss("cross_entropy", input, target, opts, true)
}

/// Negative log-likelihood of log-probabilities `[N, C]` (or `[C]`, or `[N, C, d1, ...]`)
/// at int64 class indices, with PyTorch's class weights and `ignore_index` (the mean divides
/// by the summed weights of the non-ignored targets). `label_smoothing` must be 0.
pub fn nll_loss_ext(input: &Tensor, target: &Tensor, opts: &CrossEntropyOptions) -> Result<Tensor> {
    if target.dtype().is_float() {
        return Err(dtype_err(
            "nll_loss",
            alloc::format!(
                "target must be int64 class indices, got {} of shape {}",
                target.dtype(),
                target.shape()
            ),
        ));
    }
    if opts.label_smoothing != 0.0 {
        return Err(arg_err(
            "nll_loss",
            "label_smoothing is a cross_entropy option; nll_loss takes 0",
        ));
    }
    class_loss("nll_loss", input, target, opts, false)
}

/// `logp[i, t[i]]` for `logp` `[N, C]` and int64 class targets `t` `[N]`; targets that
/// `valid` marks false pick class 0 (the caller weights them out). Targets outside `[0, C)`
/// are an error from the gather's own index check (at once on the CPU, as the deferred error
/// flag on GPUs), so nothing is read back to the host: a blocking read is an error on the
/// browser's main thread, and a stall of the GPU's queue anywhere.
fn pick_classes(
    op: &'static str,
    logp: &Tensor,
    t: &Tensor,
    valid: Option<&Tensor>,
) -> Result<Tensor> {
    let c = logp.dims()[1];
    let t = match valid {
        Some(v) => Tensor::try_where(v, t, &t.try_zeros_like()?)?,
        None => t.clone(),
    };
    // The gather wraps negative indices (Python's t[-1]); a negative class is out of range.
    let t = t.try_masked_fill(&t.try_lt_scalar(0)?, c as i64)?;
    logp.try_gather(1, &t.try_unsqueeze(1)?)
        .map_err(|e| match e {
            Error::Arg { op: "gather", .. } => arg_err(
                op,
                alloc::format!(
                    "a target is out of bounds for {c} classes (class indices are in [0, {c}) or the ignore_index)"
                ),
            ),
            e => e,
        })?
        .try_squeeze(Some(1))
}

/// Cross entropy (`log_softmax` first) or NLL of class scores against indices or probabilities.
fn class_loss(
    op: &'static str,
    input: &Tensor,
    target: &Tensor,
    opts: &CrossEntropyOptions,
    log_softmax: bool,
) -> Result<Tensor> {
    if !input.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", input.dtype()),
        ));
    }
    if input.rank() == 0 {
        return Err(shape_err(
            op,
            "input [N, C], [C] or [N, C, d1, ...]",
            input.shape(),
        ));
    }
    let ls = opts.label_smoothing;
    if !(0.0..=1.0).contains(&ls) {
        return Err(arg_err(
            op,
            alloc::format!("label_smoothing must be in [0, 1], got {}", Float(ls)),
        ));
    }
    let cdim = if input.rank() == 1 { 0 } else { 1 };
    let c = input.dims()[cdim];
    let weight = match &opts.weight {
        None => None,
        Some(w) => {
            if w.dims() != [c] {
                return Err(shape_err(
                    op,
                    alloc::format!("weight [{c}] (one per class)"),
                    w.shape(),
                ));
            }
            Some(w.try_to_dtype(input.dtype())?)
        }
    };
    let outer: alloc::vec::Vec<usize> = input
        .dims()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != cdim)
        .map(|(_, &d)| d)
        .collect();
    let logp = if log_softmax {
        classes_last(input)?.try_log_softmax(-1)?
    } else {
        classes_last(input)?
    };
    if target.dtype().is_float() {
        if target.shape() != input.shape() {
            return Err(shape_err(
                op,
                alloc::format!(
                    "probability targets of the input's shape {} (class indices must be int64)",
                    input.shape()
                ),
                target.shape(),
            ));
        }
        let mut t = classes_last(&target.try_to_dtype(input.dtype())?)?;
        if ls > 0.0 {
            t = t.try_mul_scalar(1.0 - ls)?.try_add_scalar(ls / c as f64)?;
        }
        let mut prod = logp.try_mul(&t)?;
        if let Some(w) = &weight {
            prod = prod.try_mul(w)?;
        }
        let l = prod.try_sum(Some(&[-1]), false)?.try_neg()?;
        return match opts.reduction {
            Reduction::None => l.try_reshape_to(&outer),
            r => reduce(l, r),
        };
    }
    if target.dtype() != DType::I64 && target.dtype() != DType::I32 {
        return Err(dtype_err(
            op,
            alloc::format!("target must be int64 class indices or floating-point probabilities, got {} of shape {}", target.dtype(), target.shape()),
        ));
    }
    if target.dims() != outer.as_slice() {
        return Err(shape_err(
            op,
            alloc::format!(
                "class-index target of shape {:?} for input {}",
                outer,
                input.shape()
            ),
            target.shape(),
        ));
    }
    let t = target.try_to_dtype(DType::I64)?.try_reshape(&[-1])?;
    let valid = t.try_ne_scalar(opts.ignore_index)?;
    let picked = pick_classes(op, &logp, &t, Some(&valid))?;
    let validf = valid.try_to_dtype(input.dtype())?;
    let wt = match &weight {
        Some(w) => w
            .try_index_select(0, &Tensor::try_where(&valid, &t, &t.try_zeros_like()?)?)?
            .try_mul(&validf)?,
        None => validf.clone(),
    };
    let mut l = picked.try_mul(&wt)?.try_neg()?;
    if ls > 0.0 {
        let wl = match &weight {
            Some(w) => logp.try_mul(w)?,
            None => logp.clone(),
        };
        let smooth = wl
            .try_sum(Some(&[-1]), false)?
            .try_neg()?
            .try_mul(&validf)?;
        l = l
            .try_mul_scalar(1.0 - ls)?
            .try_add(&smooth.try_mul_scalar(ls / c as f64)?)?;
    }
    match opts.reduction {
        Reduction::None => l.try_reshape_to(&outer),
        Reduction::Sum => l.try_sum(None, false),
        Reduction::Mean => l.try_sum(None, false)?.try_div(&wt.try_sum(None, false)?),
    }
}

/// PyTorch's `nn.MSELoss`.
#[derive(Copy, Clone, Debug, Default)]
pub struct MSELoss {
    /// Reduction (default mean).
    pub reduction: Reduction,
}

impl MSELoss {
    /// The loss of `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        mse_loss(input, target, self.reduction)
    }
}

/// PyTorch's `nn.L1Loss`.
#[derive(Copy, Clone, Debug, Default)]
pub struct L1Loss {
    /// Reduction (default mean).
    pub reduction: Reduction,
}

impl L1Loss {
    /// The loss of `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        l1_loss(input, target, self.reduction)
    }
}

/// PyTorch's `nn.SmoothL1Loss` (default `beta = 1`).
#[derive(Copy, Clone, Debug)]
pub struct SmoothL1Loss {
    /// Reduction (default mean).
    pub reduction: Reduction,
    /// Where the loss turns from quadratic to linear.
    pub beta: f64,
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl SmoothL1Loss {
    /// The loss of `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        smooth_l1_loss(input, target, self.reduction, self.beta)
    }
}

/// PyTorch's `nn.NLLLoss` (weight, ignore_index, reduction; `label_smoothing` must stay 0).
#[derive(Clone, Default)]
pub struct NLLLoss {
    /// Weight, ignore_index (default -100) and reduction (default mean).
    pub opts: CrossEntropyOptions,
}

impl NLLLoss {
    /// The loss of log-probabilities `input` at int64 `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        nll_loss_ext(input, target, &self.opts)
    }
}

/// PyTorch's `nn.CrossEntropyLoss`.
#[derive(Clone, Default)]
pub struct CrossEntropyLoss {
    /// Weight, ignore_index, reduction and label smoothing.
    pub opts: CrossEntropyOptions,
}

impl CrossEntropyLoss {
    /// The loss of logits `input` against class indices or probabilities.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        cross_entropy_ext(input, target, &self.opts)
    }
}

/// PyTorch's `nn.BCELoss`.
#[derive(Clone, Default)]
pub struct BCELoss {
    /// Element weights (broadcast).
    pub weight: Option<Tensor>,
    /// Reduction (default mean).
    pub reduction: Reduction,
}

impl BCELoss {
    /// The loss of probabilities `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy(input, target, self.weight.as_ref(), self.reduction)
    }
}

/// PyTorch's `nn.BCEWithLogitsLoss`.
#[derive(Clone, Default)]
pub struct BCEWithLogitsLoss {
    /// Element weights (broadcast).
    pub weight: Option<Tensor>,
    /// Weight of positive examples per class (broadcast over the last dim).
    pub pos_weight: Option<Tensor>,
    /// Reduction (default mean).
    pub reduction: Reduction,
}

impl BCEWithLogitsLoss {
    /// The loss of logits `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy_with_logits(
            input,
            target,
            self.weight.as_ref(),
            self.pos_weight.as_ref(),
            self.reduction,
        )
    }
}

/// PyTorch's `nn.KLDivLoss`; `batchmean` selects `reduction="batchmean"` (then `reduction`
/// is unused).
#[derive(Copy, Clone, Debug, Default)]
pub struct KLDivLoss {
    /// Reduction (default mean, as PyTorch, which warns that batchmean is the true KL).
    pub reduction: Reduction,
    /// Sum divided by the batch size.
    pub batchmean: bool,
    /// Whether the target holds log-probabilities.
    pub log_target: bool,
}

impl KLDivLoss {
    /// The divergence of log-probabilities `input` from `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        if self.batchmean {
            kl_div_batchmean(input, target, self.log_target)
        } else {
            kl_div(input, target, self.reduction, self.log_target)
        }
    }
}

/// Layer normalisation over the trailing `normalized_shape` dims (PyTorch's `F.layer_norm`).
pub fn layer_norm(
    input: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    super::norm::layer_norm("layer_norm", input, normalized_shape, weight, bias, eps)
}

/// Group normalisation of `[N, C, *]` (PyTorch's `F.group_norm`).
pub fn group_norm(
    input: &Tensor,
    num_groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    super::norm::group_norm("group_norm", input, num_groups, weight, bias, eps)
}

/// Batch normalisation of `[N, C, *]` (PyTorch's `F.batch_norm`): with `training` (or
/// without running stats) it normalises with the batch's biased variance and, when running
/// stats are given, updates them in place with `momentum` and the unbiased variance;
/// otherwise it uses the running stats.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    input: &Tensor,
    running_mean: Option<&Tensor>,
    running_var: Option<&Tensor>,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<Tensor> {
    if running_mean.is_some() != running_var.is_some() {
        return Err(arg_err(
            "batch_norm",
            "running_mean and running_var must be given together",
        ));
    }
    // No num_batches_tracked here: a scratch counter keeps the update rule in one place.
    let nbt = match running_mean {
        Some(m) => Some(Tensor::try_zeros([0usize; 0], DType::I64, m.device())?),
        None => None,
    };
    let stats = [running_mean, running_var, nbt.as_ref()];
    super::norm::batch_norm(
        "batch_norm",
        input,
        weight,
        bias,
        stats,
        training,
        Some(momentum),
        eps,
    )
}

/// Rows of `weight` `[num_embeddings, dim]` at int64 indices of any shape (PyTorch's
/// `F.embedding`); the `padding_idx` row gets no gradient.
pub fn embedding(input: &Tensor, weight: &Tensor, padding_idx: Option<usize>) -> Result<Tensor> {
    super::activation::embedding("embedding", input, weight, padding_idx)
}

/// Adaptive average pooling to `output_size` (PyTorch's `F.adaptive_avg_pool2d`).
pub fn adaptive_avg_pool2d(input: &Tensor, output_size: [usize; 2]) -> Result<Tensor> {
    super::activation::adaptive_avg_pool2d("adaptive_avg_pool2d", input, output_size)
}

/// `softmax(q kᵀ · scale + mask) v` over the last two dims (PyTorch's
/// `F.scaled_dot_product_attention`): `query [..., L, E]`, `key [..., S, E]`,
/// `value [..., S, Ev]`; `scale` defaults to `1/√E`. As in PyTorch, a **bool** `attn_mask`
/// is true where attention is *allowed*; a float mask is added to the scores.
/// `dropout_p` applies to the attention weights (always, as the functional form does).
pub fn scaled_dot_product_attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
) -> Result<Tensor> {
    const OP: &str = "scaled_dot_product_attention";
    if query.rank() < 2 || key.rank() < 2 || value.rank() < 2 {
        return Err(shape_err(
            OP,
            "query [..., L, E], key [..., S, E] and value [..., S, Ev]",
            alloc::format!("{}, {}, {}", query.shape(), key.shape(), value.shape()),
        ));
    }
    let (l, e) = (
        query.dims()[query.rank() - 2],
        query.dims()[query.rank() - 1],
    );
    let s = key.dims()[key.rank() - 2];
    if key.dims()[key.rank() - 1] != e || value.dims()[value.rank() - 2] != s {
        return Err(shape_err(
            OP,
            alloc::format!(
                "key [..., S, {e}] and value [..., S, Ev] with equal S (query {})",
                query.shape()
            ),
            alloc::format!("key {}, value {}", key.shape(), value.shape()),
        ));
    }
    let scale = scale.unwrap_or(1.0 / crate::math::sqrt(e.max(1) as f64));
    let mut scores = query
        .try_mul_scalar(scale)?
        .try_matmul(&key.try_transpose(-2, -1)?)?;
    if is_causal {
        scores = super::attention::apply_mask(
            OP,
            &scores,
            &super::attention::causal_mask(l, s, query.device())?,
        )?;
    }
    if let Some(m) = attn_mask {
        let hidden = if m.dtype() == DType::Bool {
            m.try_logical_not()?
        } else {
            m.clone()
        };
        scores = super::attention::apply_mask(OP, &scores, &hidden)?;
    }
    let attn = dropout(&scores.try_softmax(-1)?, dropout_p, true)?;
    attn.try_matmul(value)
}
