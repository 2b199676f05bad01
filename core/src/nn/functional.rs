//! Functional forms of layers and losses (PyTorch's `torch.nn.functional`).

use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
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
        return Err(arg_err("dropout", alloc::format!("p must be in [0, 1], got {p}")));
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
pub fn nll_loss(logp: &Tensor, target: &Tensor, reduction: Reduction, ignore_index: Option<i64>) -> Result<Tensor> {
    if target.dtype() != DType::I64 {
        return Err(dtype_err("nll_loss", alloc::format!("target must be int64 class indices, got {}", target.dtype())));
    }
    let (lp, t) = if logp.rank() == 1 { (logp.try_unsqueeze(0)?, target.try_reshape(&[1])?) } else { (logp.clone(), target.clone()) };
    if lp.rank() != 2 || t.rank() != 1 || t.dims()[0] != lp.dims()[0] {
        return Err(shape_err("nll_loss", alloc::format!("input [N, C] and target [N] (input {})", logp.shape()), target.shape()));
    }
    let c = lp.dims()[1] as i64;
    let valid = match ignore_index {
        Some(ii) => Some(t.try_ne_scalar(ii)?),
        None => None,
    };
    let safe_t = match &valid {
        Some(v) => Tensor::try_where(v, &t, &t.try_zeros_like()?)?,
        None => t.clone(),
    };
    if safe_t.numel() > 0 {
        let lo = safe_t.try_amin(None, false)?.try_item::<i64>()?;
        let hi = safe_t.try_amax(None, false)?.try_item::<i64>()?;
        if lo < 0 || hi >= c {
            return Err(arg_err("nll_loss", alloc::format!("target {} is out of bounds for {c} classes", if lo < 0 { lo } else { hi })));
        }
    }
    let picked = lp.try_gather(1, &safe_t.try_unsqueeze(1)?)?.try_squeeze(Some(1))?.try_neg()?;
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

/// Cross entropy of logits `[N, C]` with int64 class targets `[N]` and label smoothing.
pub fn cross_entropy(logits: &Tensor, target: &Tensor, reduction: Reduction, label_smoothing: f64) -> Result<Tensor> {
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
