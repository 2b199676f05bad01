//! Normalisation layers: [`BatchNorm1d`], [`BatchNorm2d`], [`LayerNorm`], [`GroupNorm`].
//! Layer norm is one fused op and one autograd node (its backward reads the saved
//! statistics); batch and group norm are composed from recorded primitives.

use super::{visit_each, Module, TensorVisitor};
use crate::autograd::{record, GradOp, Saved};
use crate::driver::{Device, View};
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::layout::Shape;
use crate::ops::{layer_norm_stats_dtype, FusedOp};
use crate::tensor::Tensor;
use alloc::string::String;
use alloc::vec::Vec;
use smallvec::{smallvec, SmallVec};

fn param_filled(shape: &[usize], value: f64, device: &Device) -> Result<Tensor> {
    Tensor::try_full(shape.to_vec(), value, DType::F32, device)?.try_requires_grad_(true)
}

/// `(x - mean) / sqrt(var + eps)` with biased statistics over `dims` (kept), plus the stats.
fn normalize(x: &Tensor, dims: &[isize], eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    let mean = x.try_mean(Some(dims), true)?;
    let d = x.try_sub(&mean)?;
    let var = d.try_mul(&d)?.try_mean(Some(dims), true)?;
    let y = d.try_mul(&var.try_add_scalar(eps)?.try_rsqrt()?)?;
    Ok((y, mean, var))
}

/// `[1, C, 1, ...]` view of a per-channel vector for an input of rank `rank`.
fn per_channel(v: &Tensor, rank: usize) -> Result<Tensor> {
    let mut shape = alloc::vec![1isize; rank];
    shape[1] = v.numel() as isize;
    v.try_reshape(&shape)
}

macro_rules! batch_norm {
    ($(#[$doc:meta])* $name:ident, $op:literal, $ranks:expr, $expect:literal) => {
        $(#[$doc])*
        ///
        /// Training mode normalises with the batch's biased variance and updates the running
        /// statistics with the unbiased one (`running = (1 - momentum)·running +
        /// momentum·batch`; `momentum = None` is the cumulative average); eval mode
        /// (`train(false)`) uses the running statistics. Buffers are `running_mean`,
        /// `running_var` and `num_batches_tracked` (int64), as in PyTorch's state dict.
        pub struct $name {
            /// Channels `C`.
            pub num_features: usize,
            /// Added to the variance (default 1e-5).
            pub eps: f64,
            /// Running-average factor (default 0.1); `None` is a cumulative average.
            pub momentum: Option<f64>,
            /// `[C]`, ones at init, if affine.
            pub weight: Option<Tensor>,
            /// `[C]`, zeros at init, if affine.
            pub bias: Option<Tensor>,
            /// `[C]`, zeros at init, if tracking running stats.
            pub running_mean: Option<Tensor>,
            /// `[C]`, ones at init, if tracking running stats.
            pub running_var: Option<Tensor>,
            /// Int64 scalar, if tracking running stats.
            pub num_batches_tracked: Option<Tensor>,
            training: bool,
        }

        impl $name {
            /// PyTorch's defaults: `eps = 1e-5`, `momentum = 0.1`, affine, tracking running
            /// stats; float32 on `device`.
            pub fn new(num_features: usize, device: &Device) -> Result<$name> {
                $name::with_options(num_features, 1e-5, Some(0.1), true, true, device)
            }

            /// Every constructor argument of PyTorch's layer.
            pub fn with_options(
                num_features: usize,
                eps: f64,
                momentum: Option<f64>,
                affine: bool,
                track_running_stats: bool,
                device: &Device,
            ) -> Result<$name> {
                let (weight, bias) = if affine {
                    (Some(param_filled(&[num_features], 1.0, device)?), Some(param_filled(&[num_features], 0.0, device)?))
                } else {
                    (None, None)
                };
                let (running_mean, running_var, num_batches_tracked) = if track_running_stats {
                    (
                        Some(Tensor::try_zeros([num_features], DType::F32, device)?),
                        Some(Tensor::try_ones([num_features], DType::F32, device)?),
                        Some(Tensor::try_zeros([0usize; 0], DType::I64, device)?),
                    )
                } else {
                    (None, None, None)
                };
                Ok($name { num_features, eps, momentum, weight, bias, running_mean, running_var, num_batches_tracked, training: true })
            }
        }

        impl Module for $name {
            fn forward(&self, x: &Tensor) -> Result<Tensor> {
                if !$ranks.contains(&x.rank()) || x.dims()[1] != self.num_features {
                    return Err(shape_err($op, alloc::format!($expect, c = self.num_features), x.shape()));
                }
                if !x.dtype().is_float() {
                    return Err(dtype_err($op, alloc::format!("input must be floating point, got {}", x.dtype())));
                }
                let stats = [self.running_mean.as_ref(), self.running_var.as_ref(), self.num_batches_tracked.as_ref()];
                batch_norm($op, x, self.weight.as_ref(), self.bias.as_ref(), stats, self.training, self.momentum, self.eps)
            }

            fn named_parameters(&self) -> Vec<(String, Tensor)> {
                let mut v = Vec::new();
                if let (Some(w), Some(b)) = (&self.weight, &self.bias) {
                    v.push((String::from("weight"), w.clone()));
                    v.push((String::from("bias"), b.clone()));
                }
                v
            }

            fn named_buffers(&self) -> Vec<(String, Tensor)> {
                let mut v = Vec::new();
                if let (Some(m), Some(s), Some(n)) = (&self.running_mean, &self.running_var, &self.num_batches_tracked) {
                    v.push((String::from("running_mean"), m.clone()));
                    v.push((String::from("running_var"), s.clone()));
                    v.push((String::from("num_batches_tracked"), n.clone()));
                }
                v
            }

            fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
                let stats = [self.running_mean.as_mut(), self.running_var.as_mut(), self.num_batches_tracked.as_mut()];
                visit_each(f, [self.weight.as_mut(), self.bias.as_mut()].into_iter().chain(stats))
            }

            fn train(&mut self, mode: bool) {
                self.training = mode;
            }

            fn is_training(&self) -> bool {
                self.training
            }
        }
    };
}

batch_norm!(
    /// Batch normalisation over `[N, C]` or `[N, C, L]` (PyTorch's `nn.BatchNorm1d`).
    BatchNorm1d, "BatchNorm1d", [2usize, 3], "input [N, {c}] or [N, {c}, L]"
);
batch_norm!(
    /// Batch normalisation over `[N, C, H, W]` (PyTorch's `nn.BatchNorm2d`).
    BatchNorm2d, "BatchNorm2d", [4usize], "input [N, {c}, H, W]"
);

/// Batch normalisation over dim 1 of `x` (`[N, C, *]`); in training mode (or without
/// running stats) with batch statistics, updating `stats = [running_mean, running_var,
/// num_batches_tracked]` in place when given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn batch_norm(
    op: &'static str,
    x: &Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    stats: [Option<&Tensor>; 3],
    training: bool,
    momentum: Option<f64>,
    eps: f64,
) -> Result<Tensor> {
    if x.rank() < 2 {
        return Err(shape_err(op, "input [N, C, *]", x.shape()));
    }
    if !x.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", x.dtype()),
        ));
    }
    let ch = x.dims()[1];
    for t in [weight, bias, stats[0], stats[1]].into_iter().flatten() {
        if t.dims() != [ch] {
            return Err(shape_err(
                op,
                alloc::format!(
                    "per-channel weight, bias and running stats of shape [{ch}] for input {}",
                    x.shape()
                ),
                t.shape(),
            ));
        }
    }
    let rank = x.rank();
    let dims: Vec<isize> = (0..rank as isize).filter(|&d| d != 1).collect();
    let count = x.numel() / x.dims()[1].max(1);
    let y = match (training, stats) {
        (false, [Some(rm), Some(rv), _]) => {
            let rm = per_channel(&rm.try_to_dtype(x.dtype())?, rank)?;
            let rv = per_channel(&rv.try_to_dtype(x.dtype())?, rank)?;
            x.try_sub(&rm)?
                .try_mul(&rv.try_add_scalar(eps)?.try_rsqrt()?)?
        }
        (_, stats) => {
            if count <= 1 {
                return Err(arg_err(
                    op,
                    alloc::format!(
                        "expected more than 1 value per channel when training, got input {}",
                        x.shape()
                    ),
                ));
            }
            let (y, mean, var) = normalize(x, &dims, eps)?;
            if let (true, [Some(rm), Some(rv), Some(nbt)]) = (training, stats) {
                let _ng = crate::autograd::no_grad();
                nbt.try_add_scalar_(1)?;
                let f = match momentum {
                    Some(m) => m,
                    None => 1.0 / nbt.try_item::<i64>()? as f64,
                };
                let c = x.dims()[1] as isize;
                let mean = mean.detach().try_reshape(&[c])?;
                let unbiased = var
                    .detach()
                    .try_reshape(&[c])?
                    .try_mul_scalar(count as f64 / (count - 1) as f64)?;
                let new_m = rm
                    .try_to_dtype(x.dtype())?
                    .try_mul_scalar(1.0 - f)?
                    .try_add(&mean.try_mul_scalar(f)?)?;
                let new_v = rv
                    .try_to_dtype(x.dtype())?
                    .try_mul_scalar(1.0 - f)?
                    .try_add(&unbiased.try_mul_scalar(f)?)?;
                rm.try_copy_(&new_m)?;
                rv.try_copy_(&new_v)?;
            }
            y
        }
    };
    affine(y, weight, bias, rank)
}

fn affine(
    y: Tensor,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    rank: usize,
) -> Result<Tensor> {
    let y = match weight {
        Some(w) => y.try_mul(&per_channel(w, rank)?)?,
        None => y,
    };
    match bias {
        Some(b) => y.try_add(&per_channel(b, rank)?),
        None => Ok(y),
    }
}

/// Layer normalisation over the last dims (PyTorch's `nn.LayerNorm`): biased statistics,
/// `eps = 1e-5`, elementwise affine `weight` (ones) and `bias` (zeros) of `normalized_shape`.
pub struct LayerNorm {
    /// The trailing shape normalised over.
    pub normalized_shape: Vec<usize>,
    /// Added to the variance.
    pub eps: f64,
    /// Ones at init, if elementwise affine.
    pub weight: Option<Tensor>,
    /// Zeros at init, if elementwise affine (and bias enabled).
    pub bias: Option<Tensor>,
}

impl LayerNorm {
    /// PyTorch's defaults: `eps = 1e-5`, elementwise affine with bias; float32 on `device`.
    pub fn new(normalized_shape: &[usize], device: &Device) -> Result<LayerNorm> {
        LayerNorm::with_options(normalized_shape, 1e-5, true, true, device)
    }

    /// Every constructor argument of PyTorch's layer.
    pub fn with_options(
        normalized_shape: &[usize],
        eps: f64,
        elementwise_affine: bool,
        bias: bool,
        device: &Device,
    ) -> Result<LayerNorm> {
        if normalized_shape.is_empty() {
            return Err(arg_err(
                "LayerNorm",
                "normalized_shape must have at least one dim",
            ));
        }
        let weight = if elementwise_affine {
            Some(param_filled(normalized_shape, 1.0, device)?)
        } else {
            None
        };
        let bias = if elementwise_affine && bias {
            Some(param_filled(normalized_shape, 0.0, device)?)
        } else {
            None
        };
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps,
            weight,
            bias,
        })
    }
}

impl Module for LayerNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        layer_norm(
            "LayerNorm",
            x,
            &self.normalized_shape,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        super::weight_bias(self.weight.as_ref(), self.bias.as_ref())
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [self.weight.as_mut(), self.bias.as_mut()])
    }
}

/// Normalises the trailing `normalized_shape` dims of `x`, then the elementwise affine.
pub(crate) fn layer_norm(
    op: &'static str,
    x: &Tensor,
    normalized_shape: &[usize],
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    let k = normalized_shape.len();
    if k == 0 || x.rank() < k || x.dims()[x.rank() - k..] != *normalized_shape {
        return Err(shape_err(
            op,
            alloc::format!("input [*, {normalized_shape:?}] (normalized_shape)"),
            x.shape(),
        ));
    }
    if !x.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", x.dtype()),
        ));
    }
    for t in [weight, bias].into_iter().flatten() {
        if t.dims() != normalized_shape {
            return Err(shape_err(
                op,
                alloc::format!(
                    "weight and bias of shape {normalized_shape:?} (normalized_shape) for input {}",
                    x.shape()
                ),
                t.shape(),
            ));
        }
    }
    let params: SmallVec<[&Tensor; 2]> = [weight, bias].into_iter().flatten().collect();
    x.same_device(op, &params)?;
    // Affine parameters in x's dtype (recorded casts, so their gradients flow back).
    let cast = |t: Option<&Tensor>| -> Result<Option<Tensor>> {
        t.map(|t| {
            if t.dtype() == x.dtype() {
                Ok(t.clone())
            } else {
                t.try_to_dtype(x.dtype())
            }
        })
        .transpose()
    };
    let (weight, bias) = (cast(weight)?, cast(bias)?);
    let (y, mean, rstd) = crate::autograd::with_grad_mode(false, || -> Result<_> {
        let xc = x.try_contiguous()?;
        let wc = weight.as_ref().map(|w| w.try_contiguous()).transpose()?;
        // The fused op takes a bias only after a weight: a lone bias is added here.
        let (bc, lone_bias) = match (&wc, &bias) {
            (Some(_), Some(b)) => (Some(b.try_contiguous()?), None),
            (None, b) => (None, b.as_ref()),
            (_, None) => (None, None),
        };
        let (y, mean, rstd) = layer_norm_plain(&xc, k, wc.as_ref(), bc.as_ref(), eps)?;
        match lone_bias {
            Some(b) => Ok((y.try_add(b)?, mean, rstd)),
            None => Ok((y, mean, rstd)),
        }
    })?;
    let mut inputs: SmallVec<[&Tensor; 3]> = smallvec![x];
    inputs.extend(weight.as_ref());
    inputs.extend(bias.as_ref());
    let grad = GradOp::LayerNorm {
        k,
        eps,
        weight: weight.is_some(),
        bias: bias.is_some(),
    };
    Ok(record(y, grad, &inputs, |_| {
        let mut saved: SmallVec<[Saved; 3]> =
            smallvec![Saved::input(x), Saved::input(&mean), Saved::input(&rstd)];
        saved.extend(weight.as_ref().map(Saved::input));
        saved
    }))
}

/// Layer norm of the contiguous `x` over its last `k` dims without recording: the driver's
/// fused kernel when it has one, else composed from primitives. Returns `y` and the
/// statistics `mean` and `rstd` (shape `[*, 1 × k]`, dtype [`layer_norm_stats_dtype`]).
fn layer_norm_plain(
    x: &Tensor,
    k: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let sdt = layer_norm_stats_dtype(x.dtype());
    let mut stat_shape: Vec<usize> = x.dims()[..x.rank() - k].to_vec();
    stat_shape.resize(x.rank(), 1);
    let y = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
    let mean = Tensor::empty(Shape::new(&stat_shape), sdt, x.device())?;
    let rstd = Tensor::empty(Shape::new(&stat_shape), sdt, x.device())?;
    let mut ins: SmallVec<[View; 3]> = smallvec![x.as_view()];
    ins.extend(weight.map(|w| w.as_view()));
    ins.extend(bias.map(|b| b.as_view()));
    let outs = [y.as_view(), mean.as_view(), rstd.as_view()];
    let op = FusedOp::LayerNorm { eps };
    if let Some(r) = x.device().driver().fused(&op, &ins, &outs) {
        return r.map(|_| (y, mean, rstd));
    }
    drop((y, mean, rstd));
    // f16/bf16 are normalised in f32 and rounded once, as PyTorch does.
    let xs = x.try_to_dtype(sdt)?;
    let dims: Vec<isize> = (-(k as isize)..0).collect();
    let (mut y, mean, var) = normalize(&xs, &dims, eps)?;
    let rstd = var.try_add_scalar(eps)?.try_rsqrt()?;
    if let Some(w) = weight {
        y = y.try_mul(&w.try_to_dtype(sdt)?)?;
    }
    if let Some(b) = bias {
        y = y.try_add(&b.try_to_dtype(sdt)?)?;
    }
    Ok((y.try_to_dtype(x.dtype())?, mean, rstd))
}

/// [`FusedOp::LayerNormGrad`] through the driver (`None` when it has no kernel): the input's
/// gradient and, with a weight, the weight's and bias's in one call.
#[allow(clippy::type_complexity)]
fn layer_norm_grad_fused(
    g: &Tensor,
    x: &Tensor,
    [mean, rstd]: [&Tensor; 2],
    weight: Option<&Tensor>,
) -> Result<Option<(Option<Tensor>, Option<(Tensor, Tensor)>)>> {
    let (gc, xc) = (g.try_contiguous()?, x.try_contiguous()?);
    let wc = weight.map(|w| w.try_contiguous()).transpose()?;
    let (mc, rc) = (mean.try_contiguous()?, rstd.try_contiguous()?);
    let gx = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
    let mut outs: SmallVec<[Tensor; 3]> = smallvec![gx];
    if let Some(w) = &wc {
        for _ in 0..2 {
            outs.push(Tensor::empty(w.shape().clone(), x.dtype(), x.device())?);
        }
    }
    let mut ins: SmallVec<[View; 5]> =
        smallvec![gc.as_view(), xc.as_view(), mc.as_view(), rc.as_view()];
    ins.extend(wc.as_ref().map(|w| w.as_view()));
    let out_views: SmallVec<[View; 3]> = outs.iter().map(|t| t.as_view()).collect();
    match x
        .device()
        .driver()
        .fused(&FusedOp::LayerNormGrad, &ins, &out_views)
    {
        None => Ok(None),
        Some(r) => r.map(|_| {
            let mut it = outs.into_iter();
            let gx = it.next();
            Some((gx, it.next().zip(it.next())))
        }),
    }
}

/// The gradients of a layer norm over the last `k` dims from its saved statistics
/// (PyTorch's formula): with `x̂ = (x - mean)·rstd` and `h = g·w`,
/// `gx = rstd·(h - mean(h) - x̂·mean(h·x̂))`, `gw = Σ g·x̂`, `gb = Σ g` over the leading dims.
/// Under `create_graph` the statistics are recomputed from `x` with recording, so the
/// result differentiates again (the saved ones are constants). Returns `[gx, gw, gb]`.
pub(crate) fn layer_norm_backward(
    g: &Tensor,
    x: &Tensor,
    saved_stats: [&Tensor; 2],
    weight: Option<&Tensor>,
    k: usize,
    eps: f64,
    needs: [bool; 3],
) -> Result<[Option<Tensor>; 3]> {
    let sdt = layer_norm_stats_dtype(x.dtype());
    let dims: Vec<isize> = (-(k as isize)..0).collect();
    let lead: Vec<isize> = (0..(x.rank() - k) as isize).collect();
    let xs = x.try_to_dtype(sdt)?;
    let gs = g.try_to_dtype(sdt)?;
    let mut inputs: SmallVec<[&Tensor; 3]> = smallvec![g, x];
    inputs.extend(weight);
    let sum_lead = |t: Tensor| -> Result<Tensor> {
        if lead.is_empty() {
            Ok(t)
        } else {
            t.try_sum(Some(&lead), false)
        }
    };
    let (mean, rstd) = if crate::autograd::needs_grad(&inputs) {
        let (_, mean, var) = normalize(&xs, &dims, eps)?;
        (mean, var.try_add_scalar(eps)?.try_rsqrt()?)
    } else {
        if let Some((gx, gw_gb)) = layer_norm_grad_fused(g, x, saved_stats, weight)? {
            let (gw, gb) = match gw_gb {
                Some((gw, gb)) => (Some(gw), Some(gb)),
                // No weight: a lone bias's gradient is g summed over the rows.
                None => (None, needs[2].then(|| sum_lead(g.clone())).transpose()?),
            };
            let keep = |t: Option<Tensor>, need: bool| t.filter(|_| need);
            return Ok([keep(gx, needs[0]), keep(gw, needs[1]), keep(gb, needs[2])]);
        }
        (saved_stats[0].clone(), saved_stats[1].clone())
    };
    let xhat = xs.try_sub(&mean)?.try_mul(&rstd)?;
    let gx = needs[0]
        .then(|| -> Result<Tensor> {
            let h = match weight {
                Some(w) => gs.try_mul(&w.try_to_dtype(sdt)?)?,
                None => gs.clone(),
            };
            let a = h.try_mean(Some(&dims), true)?;
            let b = h.try_mul(&xhat)?.try_mean(Some(&dims), true)?;
            h.try_sub(&a)?
                .try_sub(&xhat.try_mul(&b)?)?
                .try_mul(&rstd)?
                .try_to_dtype(x.dtype())
        })
        .transpose()?;
    let gw = match weight {
        Some(w) if needs[1] => Some(sum_lead(gs.try_mul(&xhat)?)?.try_to_dtype(w.dtype())?),
        _ => None,
    };
    let gb = needs[2].then(|| sum_lead(g.clone())).transpose()?;
    Ok([gx, gw, gb])
}

/// Normalises `x` (`[N, C, *]`) over groups of `C / num_groups` channels, then the
/// per-channel affine.
pub(crate) fn group_norm(
    op: &'static str,
    x: &Tensor,
    num_groups: usize,
    weight: Option<&Tensor>,
    bias: Option<&Tensor>,
    eps: f64,
) -> Result<Tensor> {
    if x.rank() < 2 || num_groups == 0 || x.dims()[1] % num_groups != 0 {
        return Err(shape_err(
            op,
            alloc::format!("input [N, C, *] with C divisible by num_groups = {num_groups}"),
            x.shape(),
        ));
    }
    if !x.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", x.dtype()),
        ));
    }
    let ch = x.dims()[1];
    for t in [weight, bias].into_iter().flatten() {
        if t.dims() != [ch] {
            return Err(shape_err(
                op,
                alloc::format!("weight and bias of shape [{ch}]"),
                t.shape(),
            ));
        }
    }
    let n = x.dims()[0] as isize;
    let g = x.try_reshape(&[n, num_groups as isize, -1])?;
    let (y, _, _) = normalize(&g, &[-1], eps)?;
    let y = y.try_reshape_to(x.dims())?;
    affine(y, weight, bias, x.rank())
}

/// Group normalisation (PyTorch's `nn.GroupNorm`): input `[N, C, *]`, statistics over each
/// group of `C / num_groups` channels and all positions; per-channel affine (ones, zeros).
pub struct GroupNorm {
    /// Groups `G` (divides `C`).
    pub num_groups: usize,
    /// Channels `C`.
    pub num_channels: usize,
    /// Added to the variance (default 1e-5).
    pub eps: f64,
    /// `[C]`, if affine.
    pub weight: Option<Tensor>,
    /// `[C]`, if affine.
    pub bias: Option<Tensor>,
}

impl GroupNorm {
    /// PyTorch's defaults: `eps = 1e-5`, affine; float32 on `device`.
    pub fn new(num_groups: usize, num_channels: usize, device: &Device) -> Result<GroupNorm> {
        GroupNorm::with_options(num_groups, num_channels, 1e-5, true, device)
    }

    /// Every constructor argument of PyTorch's layer.
    pub fn with_options(
        num_groups: usize,
        num_channels: usize,
        eps: f64,
        affine: bool,
        device: &Device,
    ) -> Result<GroupNorm> {
        if num_groups == 0 || num_channels % num_groups != 0 {
            return Err(arg_err(
                "GroupNorm",
                alloc::format!(
                    "num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
                ),
            ));
        }
        let (weight, bias) = if affine {
            (
                Some(param_filled(&[num_channels], 1.0, device)?),
                Some(param_filled(&[num_channels], 0.0, device)?),
            )
        } else {
            (None, None)
        };
        Ok(GroupNorm {
            num_groups,
            num_channels,
            eps,
            weight,
            bias,
        })
    }
}

impl Module for GroupNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if x.rank() < 2 || x.dims()[1] != self.num_channels {
            return Err(shape_err(
                "GroupNorm",
                alloc::format!("input [N, {}, *]", self.num_channels),
                x.shape(),
            ));
        }
        group_norm(
            "GroupNorm",
            x,
            self.num_groups,
            self.weight.as_ref(),
            self.bias.as_ref(),
            self.eps,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        super::weight_bias(self.weight.as_ref(), self.bias.as_ref())
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [self.weight.as_mut(), self.bias.as_mut()])
    }
}
