//! Optimizers (PyTorch's `torch.optim`): SGD, Adam/AdamW, RMSprop and Adagrad, gradient
//! clipping, and learning-rate schedulers.
//!
//! Updates run in place under `no_grad`, so parameters keep their identity (and the model its
//! references) across steps. Each update follows PyTorch's single-tensor (CPU) code with its
//! order of operations (`addcmul`, `addcdiv`, `lerp`), so results agree with torch to the
//! last bits in f64. An optimizer's state (`state_dict`) is a flat list of named tensors with
//! PyTorch's names — `state.{i}.exp_avg`, `state.{i}.step` (0-dim float32, as in PyTorch),
//! `param_groups.0.lr` — so it can be saved with [`crate::io`].

use crate::autograd::no_grad;
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, shape_err, Result};
use crate::fmt::{Float, Names};
use crate::ops::{AdamStep, BinaryOp, FusedOp, SgdStep};
use crate::tensor::{NormOrd, Tensor};
use alloc::string::String;
use alloc::vec::Vec;

/// What every optimizer offers.
pub trait Optimizer {
    /// Applies one update from the parameters' `.grad()`; parameters without a gradient are skipped.
    fn step(&mut self) -> Result<()>;
    /// Clears the gradients (PyTorch's `set_to_none=True`).
    fn zero_grad(&mut self);
    /// The learning rate.
    fn lr(&self) -> f64;
    /// Sets the learning rate (for schedulers).
    fn set_lr(&mut self, lr: f64);
    /// The momentum factor that [`OneCycleLR`] cycles: SGD's and RMSprop's `momentum`, Adam's
    /// `beta1`; `None` for optimizers without one (Adagrad).
    fn momentum_or_beta1(&self) -> Option<f64> {
        None
    }
    /// Sets the factor [`Optimizer::momentum_or_beta1`] reads (ignored where there is none).
    fn set_momentum_or_beta1(&mut self, _m: f64) {}
    /// The optimizer's state: per-parameter buffers and step counts as `state.{i}.{name}`
    /// (`i` the parameter's index, `name` PyTorch's: `momentum_buffer`, `exp_avg`,
    /// `exp_avg_sq`, `max_exp_avg_sq`, `square_avg`, `grad_avg`, `sum`, `step`), and the
    /// learning rate as `param_groups.0.lr` (0-dim float64). Buffers are shared, not copied.
    fn state_dict(&self) -> Result<Vec<(String, Tensor)>>;
    /// Restores a [`Optimizer::state_dict`]: buffers are copied (cast to each parameter's
    /// dtype and device). Unknown keys, indices past the parameter list and shapes that differ
    /// from the parameter's are errors, and on error nothing changes.
    fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<()>;
}

/// Per-parameter state: the step count and up to three named buffers.
#[derive(Clone, Default)]
struct Slot {
    step: u64,
    bufs: [Option<Tensor>; 3],
}

/// Empty state for `n` parameters.
fn slots(n: usize) -> Vec<Slot> {
    alloc::vec![Slot::default(); n]
}

/// Reads one buffer that the code above just initialised.
fn buf<'a>(s: &'a Slot, j: usize, op: &'static str) -> Result<&'a Tensor> {
    s.bufs[j]
        .as_ref()
        .ok_or_else(|| arg_err(op, "internal: optimizer state missing"))
}

fn export_state(
    slots: &[Slot],
    names: &[&str],
    has_step: bool,
    lr: f64,
) -> Result<Vec<(String, Tensor)>> {
    let cpu = Device::cpu();
    let mut out = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        let any = s.bufs.iter().any(Option::is_some);
        if has_step && (any || s.step > 0) {
            out.push((
                alloc::format!("state.{i}.step"),
                Tensor::try_scalar(s.step as f64, DType::F32, &cpu)?,
            ));
        }
        for (name, b) in names.iter().zip(&s.bufs) {
            if let Some(b) = b {
                out.push((alloc::format!("state.{i}.{name}"), b.clone()));
            }
        }
    }
    out.push((
        String::from("param_groups.0.lr"),
        Tensor::try_scalar(lr, DType::F64, &cpu)?,
    ));
    Ok(out)
}

/// Parses and checks a state dict against `params`; returns the new slots and the lr, if given.
fn import_state(
    params: &[Tensor],
    names: &[&str],
    has_step: bool,
    state: &[(String, Tensor)],
) -> Result<(Vec<Slot>, Option<f64>)> {
    const OP: &str = "Optimizer::load_state_dict";
    let _ng = no_grad();
    let mut out = slots(params.len());
    let mut lr = None;
    for (k, t) in state {
        let one = |what: &str| -> Result<f64> {
            if t.numel() != 1 {
                return Err(shape_err(
                    OP,
                    alloc::format!("{k} ({what}) with one element"),
                    t.shape(),
                ));
            }
            Ok(t.try_to_f64_vec()?[0])
        };
        if k == "param_groups.0.lr" {
            lr = Some(one("learning rate")?);
            continue;
        }
        let parsed = k
            .strip_prefix("state.")
            .and_then(|r| r.split_once('.'))
            .and_then(|(i, n)| {
                let i: usize = i.parse().ok()?;
                Some((i, n))
            });
        let Some((i, name)) = parsed else {
            return Err(arg_err(OP, alloc::format!("unexpected key '{k}'")));
        };
        let Some(p) = params.get(i) else {
            return Err(arg_err(
                OP,
                alloc::format!(
                    "key '{k}' names parameter {i}, but the optimizer has {}",
                    params.len()
                ),
            ));
        };
        if has_step && name == "step" {
            let v = one("step count")?;
            if !(v >= 0.0 && crate::math::trunc(v) == v && v < 1.8e19) {
                return Err(arg_err(
                    OP,
                    alloc::format!("{k} is {}, not a step count", Float(v)),
                ));
            }
            out[i].step = v as u64;
            continue;
        }
        let Some(j) = names.iter().position(|n| *n == name) else {
            return Err(arg_err(
                OP,
                alloc::format!(
                    "unexpected key '{k}' (this optimizer keeps {})",
                    Names(names)
                ),
            ));
        };
        if t.dims() != p.dims() {
            return Err(shape_err(
                OP,
                alloc::format!("{k} of shape {}", p.shape()),
                t.shape(),
            ));
        }
        let b = p.try_zeros_like()?.try_requires_grad_(false)?;
        b.try_copy_(&t.try_to_device(p.device())?)?;
        out[i].bufs[j] = Some(b);
    }
    Ok((out, lr))
}

/// `a.lerp_(end, w)` with PyTorch's formula for each half of the weight range.
fn lerp_(a: &Tensor, end: &Tensor, w: f64) -> Result<()> {
    let d = end.try_sub(a)?;
    if w.abs() < 0.5 {
        a.try_add_(&d.try_mul_scalar(w)?)?;
    } else {
        a.try_copy_(&end.try_sub(&d.try_mul_scalar(1.0 - w)?)?)?;
    }
    Ok(())
}

/// `a.addcmul_(t1, t2, value=v)`: `a + v * t1 * t2`, evaluated left to right as PyTorch does.
fn addcmul_(a: &Tensor, t1: &Tensor, t2: &Tensor, v: f64) -> Result<()> {
    a.try_add_(&t1.try_mul_scalar(v)?.try_mul(t2)?)?;
    Ok(())
}

/// `a.addcdiv_(t1, t2, value=v)`: `a + v * t1 / t2`, evaluated left to right.
fn addcdiv_(a: &Tensor, t1: &Tensor, t2: &Tensor, v: f64) -> Result<()> {
    a.try_add_(&t1.try_mul_scalar(v)?.try_div(t2)?)?;
    Ok(())
}

/// Runs a fused update on the parameter's driver when it has one for `op` and every tensor
/// is contiguous with the parameter's dtype, shape and device; `outs` are written in place.
/// `Ok(false)`: the driver declined, take the composed path.
fn fused_update(op: &FusedOp, grad: &Tensor, outs: &[&Tensor]) -> Result<bool> {
    let p = outs[0];
    let fits = |t: &Tensor| {
        t.is_contiguous()
            && t.dtype() == p.dtype()
            && t.dims() == p.dims()
            && t.device() == p.device()
    };
    if !fits(grad) || !outs.iter().all(|t| fits(t)) {
        return Ok(false);
    }
    let ov: Vec<_> = outs.iter().map(|t| t.as_view()).collect();
    match p.device().driver().fused(op, &[grad.as_view()], &ov) {
        None => Ok(false),
        Some(r) => {
            r?;
            for t in outs {
                t.storage().bump_version();
            }
            Ok(true)
        }
    }
}

/// `g + wd * p` (PyTorch's L2 weight decay, `grad.add(param, alpha=wd)`).
fn decay(g: Tensor, p: &Tensor, wd: f64) -> Result<Tensor> {
    if wd == 0.0 {
        Ok(g)
    } else {
        g.try_add(&p.try_mul_scalar(wd)?)
    }
}

fn zero_grads(params: &[Tensor]) {
    for p in params {
        p.set_grad(None);
    }
}

/// Implements the optimizer trait's boilerplate for a struct with `params`, `slots` and `lr`.
macro_rules! common {
    ($names:expr, $has_step:expr) => {
        fn zero_grad(&mut self) {
            zero_grads(&self.params);
        }

        fn lr(&self) -> f64 {
            self.lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.lr = lr;
        }

        fn state_dict(&self) -> Result<Vec<(String, Tensor)>> {
            export_state(&self.slots, &$names, $has_step, self.lr)
        }

        fn load_state_dict(&mut self, state: &[(String, Tensor)]) -> Result<()> {
            let (s, lr) = import_state(&self.params, &$names, $has_step, state)?;
            self.slots = s;
            if let Some(lr) = lr {
                self.lr = lr;
            }
            Ok(())
        }
    };
}

/// SGD with momentum, dampening, Nesterov and weight decay (PyTorch's defaults: all 0/false).
pub struct Sgd {
    params: Vec<Tensor>,
    slots: Vec<Slot>,
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Dampening of the momentum.
    pub dampening: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
}

const SGD_STATE: [&str; 1] = ["momentum_buffer"];

impl Sgd {
    /// Plain SGD over `params`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Sgd {
        let n = params.len();
        Sgd {
            params,
            slots: slots(n),
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }

    /// With momentum (builder style).
    pub fn momentum(mut self, m: f64) -> Sgd {
        self.momentum = m;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self) -> Result<()> {
        let _ng = no_grad();
        for (p, s) in self.params.iter().zip(self.slots.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            if let (Some(b), true) = (&s.bufs[0], self.momentum != 0.0) {
                let op = FusedOp::SgdStep(SgdStep {
                    lr: self.lr,
                    momentum: self.momentum,
                    dampening: self.dampening,
                    weight_decay: self.weight_decay,
                    nesterov: self.nesterov,
                });
                if fused_update(&op, &g, &[p, b])? {
                    continue;
                }
            }
            let mut d = decay(g, p, self.weight_decay)?;
            if self.momentum != 0.0 {
                match &s.bufs[0] {
                    None => s.bufs[0] = Some(d.try_contiguous()?.try_mul_scalar(1.0)?),
                    Some(b) => {
                        b.try_mul_scalar_(self.momentum)?;
                        b.try_add_(&d.try_mul_scalar(1.0 - self.dampening)?)?;
                    }
                }
                let b = buf(s, 0, "SGD")?;
                d = if self.nesterov {
                    d.try_add(&b.try_mul_scalar(self.momentum)?)?
                } else {
                    b.clone()
                };
            }
            p.try_add_(&d.try_mul_scalar(-self.lr)?)?;
        }
        Ok(())
    }

    fn momentum_or_beta1(&self) -> Option<f64> {
        Some(self.momentum)
    }

    fn set_momentum_or_beta1(&mut self, m: f64) {
        self.momentum = m;
    }

    common!(SGD_STATE, false);
}

/// Adam and AdamW (decoupled weight decay), PyTorch's defaults: betas (0.9, 0.999), eps 1e-8,
/// no AMSGrad.
pub struct Adam {
    params: Vec<Tensor>,
    slots: Vec<Slot>,
    /// Learning rate.
    pub lr: f64,
    /// Moment decay rates.
    pub betas: (f64, f64),
    /// Denominator epsilon.
    pub eps: f64,
    /// Weight decay: L2 in the gradient (Adam) or decoupled (AdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW).
    pub decoupled: bool,
    /// AMSGrad: divide by the running maximum of the second moment.
    pub amsgrad: bool,
}

const ADAM_STATE: [&str; 3] = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];

impl Adam {
    /// Adam over `params`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Adam {
        let n = params.len();
        Adam {
            params,
            slots: slots(n),
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            amsgrad: false,
        }
    }

    /// AdamW over `params` (PyTorch's default weight decay 0.01).
    pub fn adamw(params: Vec<Tensor>, lr: f64) -> Adam {
        let mut a = Adam::new(params, lr);
        a.weight_decay = 0.01;
        a.decoupled = true;
        a
    }
}

impl Optimizer for Adam {
    fn step(&mut self) -> Result<()> {
        let _ng = no_grad();
        let (b1, b2) = self.betas;
        for (p, s) in self.params.iter().zip(self.slots.iter_mut()) {
            let Some(mut g) = p.grad() else { continue };
            s.step += 1;
            let t = s.step as f64;
            let bc1 = 1.0 - crate::math::pow(b1, t);
            let bc2_sqrt = crate::math::sqrt(1.0 - crate::math::pow(b2, t));
            if s.bufs[0].is_none() {
                s.bufs[0] = Some(p.try_zeros_like()?);
                s.bufs[1] = Some(p.try_zeros_like()?);
            }
            if !self.amsgrad {
                let op = FusedOp::AdamStep(AdamStep {
                    decay_mul: if self.decoupled {
                        1.0 - self.lr * self.weight_decay
                    } else {
                        1.0
                    },
                    l2: if self.decoupled {
                        0.0
                    } else {
                        self.weight_decay
                    },
                    one_minus_beta1: 1.0 - b1,
                    beta2: b2,
                    one_minus_beta2: 1.0 - b2,
                    bias2_sqrt: bc2_sqrt,
                    eps: self.eps,
                    neg_step_size: -self.lr / bc1,
                });
                let (m, v) = (buf(s, 0, "Adam")?, buf(s, 1, "Adam")?);
                if fused_update(&op, &g, &[p, m, v])? {
                    continue;
                }
            }
            if self.weight_decay != 0.0 {
                if self.decoupled {
                    p.try_mul_scalar_(1.0 - self.lr * self.weight_decay)?;
                } else {
                    g = decay(g, p, self.weight_decay)?;
                }
            }
            if self.amsgrad && s.bufs[2].is_none() {
                s.bufs[2] = Some(p.try_zeros_like()?);
            }
            let (m, v) = (buf(s, 0, "Adam")?, buf(s, 1, "Adam")?);
            lerp_(m, &g, 1.0 - b1)?;
            v.try_mul_scalar_(b2)?;
            addcmul_(v, &g, &g, 1.0 - b2)?;
            let step_size = self.lr / bc1;
            let second = if self.amsgrad {
                let mx = buf(s, 2, "Adam")?;
                mx.try_copy_(&mx.try_maximum(v)?)?;
                mx
            } else {
                v
            };
            let denom = second
                .try_sqrt()?
                .try_div_scalar(bc2_sqrt)?
                .try_add_scalar(self.eps)?;
            addcdiv_(p, m, &denom, -step_size)?;
        }
        Ok(())
    }

    fn momentum_or_beta1(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    fn set_momentum_or_beta1(&mut self, m: f64) {
        self.betas.0 = m;
    }

    common!(ADAM_STATE, true);
}

/// RMSprop (PyTorch's defaults: lr 1e-2, alpha 0.99, eps 1e-8, no weight decay, momentum 0,
/// not centered).
#[allow(clippy::upper_case_acronyms)]
pub struct RMSprop {
    params: Vec<Tensor>,
    slots: Vec<Slot>,
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Normalise by the estimated variance (subtract the squared mean gradient).
    pub centered: bool,
}

const RMSPROP_STATE: [&str; 3] = ["square_avg", "momentum_buffer", "grad_avg"];

impl RMSprop {
    /// RMSprop over `params` with PyTorch's defaults and learning rate `lr`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> RMSprop {
        let n = params.len();
        RMSprop {
            params,
            slots: slots(n),
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl Optimizer for RMSprop {
    fn step(&mut self) -> Result<()> {
        let _ng = no_grad();
        for (p, s) in self.params.iter().zip(self.slots.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            s.step += 1;
            let g = decay(g, p, self.weight_decay)?;
            if s.bufs[0].is_none() {
                s.bufs[0] = Some(p.try_zeros_like()?);
            }
            if self.momentum > 0.0 && s.bufs[1].is_none() {
                s.bufs[1] = Some(p.try_zeros_like()?);
            }
            if self.centered && s.bufs[2].is_none() {
                s.bufs[2] = Some(p.try_zeros_like()?);
            }
            let sq = buf(s, 0, "RMSprop")?;
            sq.try_mul_scalar_(self.alpha)?;
            addcmul_(sq, &g, &g, 1.0 - self.alpha)?;
            let avg = if self.centered {
                let ga = buf(s, 2, "RMSprop")?;
                lerp_(ga, &g, 1.0 - self.alpha)?;
                sq.try_add(&ga.try_mul_scalar(-1.0)?.try_mul(ga)?)?
                    .try_sqrt()?
            } else {
                sq.try_sqrt()?
            };
            let avg = avg.try_add_scalar(self.eps)?;
            if self.momentum > 0.0 {
                let b = buf(s, 1, "RMSprop")?;
                b.try_mul_scalar_(self.momentum)?;
                addcdiv_(b, &g, &avg, 1.0)?;
                p.try_add_(&b.try_mul_scalar(-self.lr)?)?;
            } else {
                addcdiv_(p, &g, &avg, -self.lr)?;
            }
        }
        Ok(())
    }

    fn momentum_or_beta1(&self) -> Option<f64> {
        Some(self.momentum)
    }

    fn set_momentum_or_beta1(&mut self, m: f64) {
        self.momentum = m;
    }

    common!(RMSPROP_STATE, true);
}

/// Adagrad (PyTorch's defaults: lr 1e-2, lr_decay 0, no weight decay,
/// initial_accumulator_value 0, eps 1e-10).
pub struct Adagrad {
    params: Vec<Tensor>,
    slots: Vec<Slot>,
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay: step `t` uses `lr / (1 + (t - 1) * lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty.
    pub weight_decay: f64,
    /// Starting value of the sum of squared gradients.
    pub initial_accumulator_value: f64,
    /// Denominator epsilon.
    pub eps: f64,
}

const ADAGRAD_STATE: [&str; 1] = ["sum"];

impl Adagrad {
    /// Adagrad over `params` with PyTorch's defaults and learning rate `lr`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Adagrad {
        let n = params.len();
        Adagrad {
            params,
            slots: slots(n),
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl Optimizer for Adagrad {
    fn step(&mut self) -> Result<()> {
        let _ng = no_grad();
        for (p, s) in self.params.iter().zip(self.slots.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            if s.bufs[0].is_none() {
                s.bufs[0] = Some(p.try_full_like(self.initial_accumulator_value)?);
            }
            s.step += 1;
            let g = decay(g, p, self.weight_decay)?;
            let clr = self.lr / (1.0 + (s.step - 1) as f64 * self.lr_decay);
            let sum = buf(s, 0, "Adagrad")?;
            addcmul_(sum, &g, &g, 1.0)?;
            let std = sum.try_sqrt()?.try_add_scalar(self.eps)?;
            addcdiv_(p, &g, &std, -clr)?;
        }
        Ok(())
    }

    common!(ADAGRAD_STATE, true);
}

/// Rescales the gradients of `params` in place so that their total norm is at most
/// `max_norm` (PyTorch's `torch.nn.utils.clip_grad_norm_`), and returns the total norm
/// before clipping as a 0-dim tensor (kept on the device: no host round trip).
///
/// `norm_type` is the `p` of the p-norm, `f64::INFINITY` for the max norm. The total norm is
/// the norm of the per-gradient norms; every gradient is multiplied by
/// `min(max_norm / (total + 1e-6), 1)`. Parameters without a gradient are skipped; with none
/// at all the result is `0.0`.
pub fn clip_grad_norm_(params: &[Tensor], max_norm: f64, norm_type: f64) -> Result<Tensor> {
    let _ng = no_grad();
    let grads: Vec<Tensor> = params.iter().filter_map(Tensor::grad).collect();
    let Some(first) = grads.first() else {
        return Tensor::try_scalar(0.0, DType::F32, &Device::cpu());
    };
    let ord = if norm_type == f64::INFINITY {
        NormOrd::Inf
    } else if norm_type == f64::NEG_INFINITY {
        NormOrd::NegInf
    } else {
        NormOrd::P(norm_type)
    };
    let dt = first.dtype();
    let mut norms = Vec::with_capacity(grads.len());
    for g in &grads {
        norms.push(
            g.try_norm(ord, None, false)?
                .try_to_dtype(dt)?
                .try_to_device(first.device())?,
        );
    }
    let total = Tensor::try_stack(&norms, 0)?.try_norm(ord, None, false)?;
    let coef = total
        .try_add_scalar(1e-6)?
        .try_binary_scalar(max_norm, BinaryOp::Div, true)?
        .try_clamp(None, Some(1.0))?;
    for g in &grads {
        g.try_mul_(&coef.try_to_device(g.device())?)?;
    }
    Ok(total)
}

/// Clamps every gradient of `params` in place to `[-clip_value, clip_value]` (PyTorch's
/// `torch.nn.utils.clip_grad_value_`).
pub fn clip_grad_value_(params: &[Tensor], clip_value: f64) -> Result<()> {
    let _ng = no_grad();
    for g in params.iter().filter_map(Tensor::grad) {
        g.try_copy_(&g.try_clamp(Some(-clip_value), Some(clip_value))?)?;
    }
    Ok(())
}

/// A learning-rate schedule (PyTorch's `torch.optim.lr_scheduler`).
///
/// Constructing a scheduler performs PyTorch's initial step: it records the optimizer's
/// learning rate as the base and sets the rate for step 0 (e.g. `LinearLR` multiplies it by
/// `start_factor`). Call [`LrScheduler::step`] after each `optimizer.step()`. The rates are
/// PyTorch's, computed with its (chainable) formulas in the same order, in f64.
pub trait LrScheduler {
    /// Advances the schedule by one step and sets the optimizer's learning rate.
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()>;
    /// The learning rate set by the last step (or by the constructor).
    fn get_last_lr(&self) -> f64;
    /// Steps taken since construction (PyTorch's `last_epoch`; 0 right after construction).
    fn last_epoch(&self) -> u64;
}

/// What every scheduler tracks.
#[derive(Clone, Debug)]
struct Sched {
    base_lr: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl Sched {
    fn start(opt: &mut dyn Optimizer, lr0: impl FnOnce(f64) -> f64) -> Sched {
        let base_lr = opt.lr();
        let lr = lr0(base_lr);
        opt.set_lr(lr);
        Sched {
            base_lr,
            last_epoch: 0,
            last_lr: lr,
        }
    }

    fn set(&mut self, opt: &mut dyn Optimizer, lr: f64) {
        opt.set_lr(lr);
        self.last_lr = lr;
    }
}

macro_rules! sched_common {
    () => {
        fn get_last_lr(&self) -> f64 {
            self.s.last_lr
        }

        fn last_epoch(&self) -> u64 {
            self.s.last_epoch
        }
    };
}

/// Multiplies the learning rate by `gamma` every `step_size` steps (PyTorch's `StepLR`).
#[derive(Clone, Debug)]
pub struct StepLR {
    s: Sched,
    step_size: u64,
    gamma: f64,
}

impl StepLR {
    /// Starts the schedule on `opt`; `step_size` must be positive.
    pub fn new(opt: &mut dyn Optimizer, step_size: u64, gamma: f64) -> Result<StepLR> {
        if step_size == 0 {
            return Err(arg_err("StepLR", "step_size must be positive"));
        }
        Ok(StepLR {
            s: Sched::start(opt, |lr| lr),
            step_size,
            gamma,
        })
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let lr = opt.lr();
        let lr = if self.s.last_epoch % self.step_size == 0 {
            lr * self.gamma
        } else {
            lr
        };
        self.s.set(opt, lr);
        Ok(())
    }

    sched_common!();
}

/// Multiplies the learning rate by `gamma` at each milestone step (PyTorch's `MultiStepLR`;
/// a milestone listed twice applies twice).
#[derive(Clone, Debug)]
pub struct MultiStepLR {
    s: Sched,
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStepLR {
    fn factor(milestones: &[u64], gamma: f64, epoch: u64) -> Option<f64> {
        let n = milestones.iter().filter(|&&m| m == epoch).count();
        (n > 0).then(|| crate::math::pow(gamma, n as f64))
    }

    /// Starts the schedule on `opt`.
    pub fn new(opt: &mut dyn Optimizer, milestones: &[u64], gamma: f64) -> Result<MultiStepLR> {
        let f = MultiStepLR::factor(milestones, gamma, 0);
        Ok(MultiStepLR {
            s: Sched::start(opt, |lr| f.map_or(lr, |f| lr * f)),
            milestones: milestones.to_vec(),
            gamma,
        })
    }
}

impl LrScheduler for MultiStepLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let lr = opt.lr();
        let lr = match MultiStepLR::factor(&self.milestones, self.gamma, self.s.last_epoch) {
            Some(f) => lr * f,
            None => lr,
        };
        self.s.set(opt, lr);
        Ok(())
    }

    sched_common!();
}

/// Multiplies the learning rate by `gamma` every step (PyTorch's `ExponentialLR`).
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    s: Sched,
    gamma: f64,
}

impl ExponentialLR {
    /// Starts the schedule on `opt`.
    pub fn new(opt: &mut dyn Optimizer, gamma: f64) -> Result<ExponentialLR> {
        Ok(ExponentialLR {
            s: Sched::start(opt, |lr| lr),
            gamma,
        })
    }
}

impl LrScheduler for ExponentialLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let lr = opt.lr() * self.gamma;
        self.s.set(opt, lr);
        Ok(())
    }

    sched_common!();
}

/// Cosine annealing from the base rate to `eta_min` over `t_max` steps, then back up, and so
/// on (PyTorch's `CosineAnnealingLR`, its recursive form, which `step()` uses).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    s: Sched,
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLR {
    /// Starts the schedule on `opt`; `t_max` must be positive.
    pub fn new(opt: &mut dyn Optimizer, t_max: u64, eta_min: f64) -> Result<CosineAnnealingLR> {
        if t_max == 0 {
            return Err(arg_err("CosineAnnealingLR", "T_max must be positive"));
        }
        Ok(CosineAnnealingLR {
            s: Sched::start(opt, |lr| lr),
            t_max,
            eta_min,
        })
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let e = self.s.last_epoch as f64;
        let t = self.t_max as f64;
        let pi = core::f64::consts::PI;
        let lr = opt.lr();
        let (base, eta) = (self.s.base_lr, self.eta_min);
        // PyTorch: `(last_epoch - 1 - T_max) % (2 * T_max) == 0`, Python's modulo.
        let phase =
            (self.s.last_epoch as i128 - 1 - self.t_max as i128).rem_euclid(2 * self.t_max as i128);
        let lr = if phase == 0 {
            lr + (base - eta) * (1.0 - crate::math::cos(pi / t)) / 2.0
        } else {
            (1.0 + crate::math::cos(pi * e / t)) / (1.0 + crate::math::cos(pi * (e - 1.0) / t))
                * (lr - eta)
                + eta
        };
        self.s.set(opt, lr);
        Ok(())
    }

    sched_common!();
}

/// Scales the learning rate linearly from `start_factor` to `end_factor` times the base over
/// `total_iters` steps (PyTorch's `LinearLR`; defaults 1/3, 1.0, 5).
#[derive(Clone, Debug)]
pub struct LinearLR {
    s: Sched,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl LinearLR {
    /// Starts the schedule on `opt`: the rate becomes `start_factor` times the current one.
    /// `start_factor` must be in (0, 1] and `end_factor` in [0, 1].
    pub fn new(
        opt: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Result<LinearLR> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(arg_err(
                "LinearLR",
                alloc::format!(
                    "start_factor must be in (0, 1], got {}",
                    Float(start_factor)
                ),
            ));
        }
        if !(0.0..=1.0).contains(&end_factor) {
            return Err(arg_err(
                "LinearLR",
                alloc::format!("end_factor must be in [0, 1], got {}", Float(end_factor)),
            ));
        }
        Ok(LinearLR {
            s: Sched::start(opt, |lr| lr * start_factor),
            start_factor,
            end_factor,
            total_iters,
        })
    }
}

impl LrScheduler for LinearLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let lr = opt.lr();
        let lr = if self.s.last_epoch > self.total_iters {
            lr
        } else {
            let (sf, ef) = (self.start_factor, self.end_factor);
            lr * (1.0
                + (ef - sf)
                    / (self.total_iters as f64 * sf + (self.s.last_epoch - 1) as f64 * (ef - sf)))
        };
        self.s.set(opt, lr);
        Ok(())
    }

    sched_common!();
}

/// How [`OneCycleLR`] moves between its anchor rates.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Anneal {
    /// Half a cosine (PyTorch's `"cos"`, the default).
    Cos,
    /// A straight line (`"linear"`).
    Linear,
}

/// [`OneCycleLR`]'s options, PyTorch's defaults in `Default`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct OneCycleOpts {
    /// Fraction of the steps spent raising the rate (0.3).
    pub pct_start: f64,
    /// Annealing shape (cos).
    pub anneal_strategy: Anneal,
    /// Cycle the momentum (or Adam's beta1) inversely to the rate (true).
    pub cycle_momentum: bool,
    /// Lowest momentum (0.85).
    pub base_momentum: f64,
    /// Highest momentum (0.95).
    pub max_momentum: f64,
    /// `initial_lr = max_lr / div_factor` (25).
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (1e4).
    pub final_div_factor: f64,
    /// Three phases (up, down to initial_lr, then to min_lr) instead of two (false).
    pub three_phase: bool,
}

impl Default for OneCycleOpts {
    fn default() -> Self {
        OneCycleOpts {
            pct_start: 0.3,
            anneal_strategy: Anneal::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// The 1cycle policy (PyTorch's `OneCycleLR`): the rate rises from `max_lr / div_factor` to
/// `max_lr` and anneals to `initial_lr / final_div_factor` over `total_steps` steps, the
/// momentum moving the other way. Stepping past `total_steps` is an error, as in PyTorch.
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    s: Sched,
    total_steps: u64,
    o: OneCycleOpts,
    /// `(end_step, start_lr, end_lr, start_momentum, end_momentum)` per phase.
    phases: Vec<(f64, f64, f64, f64, f64)>,
}

impl OneCycleLR {
    /// Starts the schedule on `opt` (setting its rate to `max_lr / div_factor` and, with
    /// `cycle_momentum`, its momentum to `max_momentum`).
    pub fn new(
        opt: &mut dyn Optimizer,
        max_lr: f64,
        total_steps: u64,
        o: OneCycleOpts,
    ) -> Result<OneCycleLR> {
        if total_steps == 0 {
            return Err(arg_err("OneCycleLR", "total_steps must be positive"));
        }
        if !(0.0..=1.0).contains(&o.pct_start) {
            return Err(arg_err(
                "OneCycleLR",
                alloc::format!(
                    "pct_start must be between 0 and 1, got {}",
                    Float(o.pct_start)
                ),
            ));
        }
        if o.cycle_momentum && opt.momentum_or_beta1().is_none() {
            return Err(arg_err(
                "OneCycleLR",
                "optimizer must support momentum or beta1 with `cycle_momentum` enabled",
            ));
        }
        let initial = max_lr / o.div_factor;
        let min = initial / o.final_div_factor;
        let (bm, mm) = (o.base_momentum, o.max_momentum);
        let total = total_steps as f64;
        let phases = if o.three_phase {
            alloc::vec![
                (o.pct_start * total - 1.0, initial, max_lr, mm, bm),
                (2.0 * o.pct_start * total - 2.0, max_lr, initial, bm, mm),
                (total - 1.0, initial, min, mm, mm),
            ]
        } else {
            alloc::vec![
                (o.pct_start * total - 1.0, initial, max_lr, mm, bm),
                (total - 1.0, max_lr, min, bm, mm),
            ]
        };
        if o.cycle_momentum {
            opt.set_momentum_or_beta1(mm);
        }
        opt.set_lr(initial);
        let mut s = OneCycleLR {
            s: Sched {
                base_lr: initial,
                last_epoch: 0,
                last_lr: initial,
            },
            total_steps,
            o,
            phases,
        };
        s.apply(opt)?;
        Ok(s)
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        match self.o.anneal_strategy {
            Anneal::Cos => {
                end + (start - end) / 2.0 * (crate::math::cos(core::f64::consts::PI * pct) + 1.0)
            }
            Anneal::Linear => (end - start) * pct + start,
        }
    }

    /// Sets rate (and momentum) for `last_epoch`.
    fn apply(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        let n = self.s.last_epoch;
        if n > self.total_steps {
            return Err(arg_err(
                "OneCycleLR",
                alloc::format!(
                    "tried to step {n} times; the specified number of total steps is {}",
                    self.total_steps
                ),
            ));
        }
        let n = n as f64;
        let mut start = 0.0;
        let last = self.phases.len() - 1;
        for (i, &(end, lr0, lr1, m0, m1)) in self.phases.iter().enumerate() {
            if n <= end || i == last {
                if end == start {
                    return Err(arg_err(
                        "OneCycleLR",
                        alloc::format!(
                            "phase {i} is empty (total_steps {} too small for pct_start {})",
                            self.total_steps,
                            Float(self.o.pct_start)
                        ),
                    ));
                }
                let pct = (n - start) / (end - start);
                let lr = self.anneal(lr0, lr1, pct);
                if self.o.cycle_momentum {
                    opt.set_momentum_or_beta1(self.anneal(m0, m1, pct));
                }
                self.s.set(opt, lr);
                return Ok(());
            }
            start = end;
        }
        Ok(())
    }
}

impl LrScheduler for OneCycleLR {
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.s.last_epoch += 1;
        let r = self.apply(opt);
        if r.is_err() {
            self.s.last_epoch -= 1;
        }
        r
    }

    sched_common!();
}
