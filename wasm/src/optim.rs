//! Optimizers, learning-rate schedulers and data helpers from core.

use crate::modules::NamedTensors;
use crate::{arg, get_all, js, JsResult};
use lantern::fmt::Float;
use lantern::optim::{self, LrScheduler, Optimizer};
use wasm_bindgen::prelude::*;

/// A core optimizer over a fixed list of parameters.
#[wasm_bindgen]
pub struct RawOptimizer(Box<dyn Optimizer>);

/// Optimizer hyper-parameters; unused fields are ignored by each kind.
#[wasm_bindgen]
#[derive(Clone, Copy, Default)]
pub struct OptimOpts {
    /// Learning rate.
    pub lr: f64,
    /// SGD/RMSprop momentum.
    pub momentum: f64,
    /// SGD dampening.
    pub dampening: f64,
    /// L2 penalty (decoupled for AdamW).
    #[wasm_bindgen(js_name = weightDecay)]
    pub weight_decay: f64,
    /// SGD Nesterov momentum.
    pub nesterov: bool,
    /// Adam's beta1.
    pub beta1: f64,
    /// Adam's beta2.
    pub beta2: f64,
    /// Denominator term.
    pub eps: f64,
    /// Adam's AMSGrad variant.
    pub amsgrad: bool,
    /// RMSprop's smoothing constant.
    pub alpha: f64,
    /// RMSprop's centered variant.
    pub centered: bool,
    /// Adagrad's learning-rate decay.
    #[wasm_bindgen(js_name = lrDecay)]
    pub lr_decay: f64,
    /// Adagrad's initial accumulator.
    #[wasm_bindgen(js_name = initialAccumulatorValue)]
    pub initial_accumulator_value: f64,
}

#[wasm_bindgen]
impl OptimOpts {
    /// All zero; the JS layer fills in PyTorch's defaults per optimizer.
    #[wasm_bindgen(constructor)]
    pub fn new() -> OptimOpts {
        OptimOpts::default()
    }
}

#[wasm_bindgen]
impl RawOptimizer {
    /// `kind`: `SGD`, `Adam`, `AdamW`, `RMSprop` or `Adagrad`.
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, params: &[u32], o: &OptimOpts) -> JsResult<RawOptimizer> {
        let p = get_all(params)?;
        if let Some(bad) = p.iter().find(|t| !t.is_leaf() || !t.requires_grad()) {
            return Err(arg(
                kind,
                format!(
                    "can't optimize a tensor that is not a leaf requiring grad (shape {})",
                    bad.shape()
                ),
            ));
        }
        let opt: Box<dyn Optimizer> = match kind {
            "SGD" => {
                let mut s = optim::Sgd::new(p, o.lr);
                s.momentum = o.momentum;
                s.dampening = o.dampening;
                s.weight_decay = o.weight_decay;
                s.nesterov = o.nesterov;
                Box::new(s)
            }
            "Adam" | "AdamW" => {
                let mut a = if kind == "Adam" {
                    optim::Adam::new(p, o.lr)
                } else {
                    optim::Adam::adamw(p, o.lr)
                };
                a.betas = (o.beta1, o.beta2);
                a.eps = o.eps;
                a.weight_decay = o.weight_decay;
                a.amsgrad = o.amsgrad;
                Box::new(a)
            }
            "RMSprop" => {
                let mut r = optim::RMSprop::new(p, o.lr);
                r.alpha = o.alpha;
                r.eps = o.eps;
                r.weight_decay = o.weight_decay;
                r.momentum = o.momentum;
                r.centered = o.centered;
                Box::new(r)
            }
            "Adagrad" => {
                let mut a = optim::Adagrad::new(p, o.lr);
                a.lr_decay = o.lr_decay;
                a.weight_decay = o.weight_decay;
                a.initial_accumulator_value = o.initial_accumulator_value;
                a.eps = o.eps;
                Box::new(a)
            }
            _ => return Err(arg("optim", format!("unknown optimizer '{kind}'"))),
        };
        Ok(RawOptimizer(opt))
    }

    /// One update from the parameters' gradients.
    pub fn step(&mut self) -> JsResult<()> {
        self.0.step().map_err(js)
    }

    /// Clears the gradients (`set_to_none=True`).
    #[wasm_bindgen(js_name = zeroGrad)]
    pub fn zero_grad(&mut self) {
        self.0.zero_grad()
    }

    /// The learning rate.
    #[wasm_bindgen(getter)]
    pub fn lr(&self) -> f64 {
        self.0.lr()
    }

    /// Sets the learning rate.
    #[wasm_bindgen(setter)]
    pub fn set_lr(&mut self, lr: f64) {
        self.0.set_lr(lr)
    }

    /// PyTorch-named state (`state.{i}.exp_avg`, `param_groups.0.lr`, ...).
    #[wasm_bindgen(js_name = stateDict)]
    pub fn state_dict(&self) -> JsResult<NamedTensors> {
        Ok(NamedTensors::register(self.0.state_dict().map_err(js)?))
    }

    /// Restores [`RawOptimizer::state_dict`]; on error nothing changes.
    #[wasm_bindgen(js_name = loadStateDict)]
    pub fn load_state_dict(&mut self, names: Vec<String>, ids: &[u32]) -> JsResult<()> {
        if names.len() != ids.len() {
            return Err(arg("load_state_dict", "internal: names and tensors differ"));
        }
        let items: Vec<_> = names.into_iter().zip(get_all(ids)?).collect();
        self.0.load_state_dict(&items).map_err(js)
    }
}

/// A core learning-rate scheduler; `step` takes the optimizer it drives.
#[wasm_bindgen]
pub struct RawScheduler(Box<dyn LrScheduler>);

fn steps(v: f64, what: &str) -> JsResult<u64> {
    if v >= 0.0 && v.fract() == 0.0 && v < 9.0e15 {
        Ok(v as u64)
    } else {
        Err(arg(
            what,
            format!("must be a non-negative integer, got {}", Float(v)),
        ))
    }
}

#[wasm_bindgen]
impl RawScheduler {
    /// `kind` with its numeric arguments `a`: StepLR `[step_size, gamma]`, MultiStepLR
    /// `[gamma, ...milestones]`, ExponentialLR `[gamma]`, CosineAnnealingLR `[t_max,
    /// eta_min]`, LinearLR `[start_factor, end_factor, total_iters]`, OneCycleLR `[max_lr,
    /// total_steps, pct_start, div_factor, final_div_factor, anneal_cos (0/1),
    /// cycle_momentum (0/1), base_momentum, max_momentum, three_phase (0/1)]`.
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, opt: &mut RawOptimizer, a: &[f64]) -> JsResult<RawScheduler> {
        let need = match kind {
            "StepLR" | "CosineAnnealingLR" => 2,
            "MultiStepLR" | "ExponentialLR" => 1,
            "LinearLR" => 3,
            "OneCycleLR" => 10,
            _ => return Err(arg("lr_scheduler", format!("unknown scheduler '{kind}'"))),
        };
        if a.len() < need {
            return Err(arg(kind, "internal: missing arguments"));
        }
        let o = opt.0.as_mut();
        let s: Box<dyn LrScheduler> = match kind {
            "StepLR" => {
                Box::new(optim::StepLR::new(o, steps(a[0], "step_size")?, a[1]).map_err(js)?)
            }
            "MultiStepLR" => {
                let ms = a[1..]
                    .iter()
                    .map(|&m| steps(m, "milestones"))
                    .collect::<JsResult<Vec<_>>>()?;
                Box::new(optim::MultiStepLR::new(o, &ms, a[0]).map_err(js)?)
            }
            "ExponentialLR" => Box::new(optim::ExponentialLR::new(o, a[0]).map_err(js)?),
            "CosineAnnealingLR" => {
                Box::new(optim::CosineAnnealingLR::new(o, steps(a[0], "T_max")?, a[1]).map_err(js)?)
            }
            "LinearLR" => Box::new(
                optim::LinearLR::new(o, a[0], a[1], steps(a[2], "total_iters")?).map_err(js)?,
            ),
            _ => {
                let oc = optim::OneCycleOpts {
                    pct_start: a[2],
                    anneal_strategy: if a[5] != 0.0 {
                        optim::Anneal::Cos
                    } else {
                        optim::Anneal::Linear
                    },
                    cycle_momentum: a[6] != 0.0,
                    base_momentum: a[7],
                    max_momentum: a[8],
                    div_factor: a[3],
                    final_div_factor: a[4],
                    three_phase: a[9] != 0.0,
                };
                Box::new(
                    optim::OneCycleLR::new(o, a[0], steps(a[1], "total_steps")?, oc).map_err(js)?,
                )
            }
        };
        Ok(RawScheduler(s))
    }

    /// Advances the schedule and sets `opt`'s learning rate.
    pub fn step(&mut self, opt: &mut RawOptimizer) -> JsResult<()> {
        self.0.step(opt.0.as_mut()).map_err(js)
    }

    /// The learning rate set by the last step.
    #[wasm_bindgen(js_name = lastLr)]
    pub fn last_lr(&self) -> f64 {
        self.0.get_last_lr()
    }

    /// Steps taken since construction.
    #[wasm_bindgen(js_name = lastEpoch)]
    pub fn last_epoch(&self) -> f64 {
        self.0.last_epoch() as f64
    }
}

/// A seeded permutation of `0..n` (the DataLoader's shuffle; Philox, as core's loader).
#[wasm_bindgen]
pub fn randperm(n: u32, seed: f64, offset: f64) -> Vec<u32> {
    lantern::data::randperm(n as usize, seed as u64, offset as u64)
        .into_iter()
        .map(|i| i as u32)
        .collect()
}
