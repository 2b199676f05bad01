//! Optimizers (PyTorch's `torch.optim`): updates run in place under `no_grad`, so parameters
//! keep their identity (and the model its references) across steps.

use crate::autograd::no_grad;
use crate::error::Result;
use crate::tensor::Tensor;
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
}

/// SGD with momentum, dampening, Nesterov and weight decay (PyTorch's defaults: all 0/false).
pub struct Sgd {
    params: Vec<Tensor>,
    bufs: Vec<Option<Tensor>>,
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

impl Sgd {
    /// Plain SGD over `params`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Sgd {
        let n = params.len();
        Sgd { params, bufs: alloc::vec![None; n], lr, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false }
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
        for (p, buf) in self.params.iter().zip(self.bufs.iter_mut()) {
            let Some(g) = p.grad() else { continue };
            let mut d = g;
            if self.weight_decay != 0.0 {
                d = d.try_add(&p.try_mul_scalar(self.weight_decay)?)?;
            }
            if self.momentum != 0.0 {
                match buf {
                    None => *buf = Some(d.try_contiguous()?.try_mul_scalar(1.0)?),
                    Some(b) => {
                        b.try_mul_scalar_(self.momentum)?;
                        b.try_add_(&d.try_mul_scalar(1.0 - self.dampening)?)?;
                    }
                }
                let b = buf.as_ref().expect("internal: set above");
                d = if self.nesterov { d.try_add(&b.try_mul_scalar(self.momentum)?)? } else { b.clone() };
            }
            p.try_sub_(&d.try_mul_scalar(self.lr)?)?;
        }
        Ok(())
    }

    fn zero_grad(&mut self) {
        for p in &self.params {
            p.set_grad(None);
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

/// Adam and AdamW (decoupled weight decay), PyTorch's defaults: betas (0.9, 0.999), eps 1e-8.
pub struct Adam {
    params: Vec<Tensor>,
    m: Vec<Option<(Tensor, Tensor)>>,
    t: u64,
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
}

impl Adam {
    /// Adam over `params`.
    pub fn new(params: Vec<Tensor>, lr: f64) -> Adam {
        let n = params.len();
        Adam { params, m: alloc::vec![None; n], t: 0, lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, decoupled: false }
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
        self.t += 1;
        let (b1, b2) = self.betas;
        let bc1 = 1.0 - libm::pow(b1, self.t as f64);
        let bc2 = 1.0 - libm::pow(b2, self.t as f64);
        for (p, st) in self.params.iter().zip(self.m.iter_mut()) {
            let Some(mut g) = p.grad() else { continue };
            if self.weight_decay != 0.0 {
                if self.decoupled {
                    p.try_mul_scalar_(1.0 - self.lr * self.weight_decay)?;
                } else {
                    g = g.try_add(&p.try_mul_scalar(self.weight_decay)?)?;
                }
            }
            if st.is_none() {
                *st = Some((p.try_zeros_like()?, p.try_zeros_like()?));
            }
            let (m, v) = st.as_ref().expect("internal: set above");
            m.try_mul_scalar_(b1)?;
            m.try_add_(&g.try_mul_scalar(1.0 - b1)?)?;
            v.try_mul_scalar_(b2)?;
            v.try_add_(&g.try_mul(&g)?.try_mul_scalar(1.0 - b2)?)?;
            let denom = v.try_sqrt()?.try_div_scalar(libm::sqrt(bc2))?.try_add_scalar(self.eps)?;
            p.try_sub_(&m.try_div(&denom)?.try_mul_scalar(self.lr / bc1)?)?;
        }
        Ok(())
    }

    fn zero_grad(&mut self) {
        for p in &self.params {
            p.set_grad(None);
        }
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}
