//! Neural-network building blocks with PyTorch's names, arguments and initialisation.
//!
//! A [`Module`] owns its parameters (leaf tensors that require grad) and buffers; its
//! `state_dict` uses PyTorch's key names (`0.weight`, `fc.bias`), so weights move between
//! Lantern and PyTorch by name.

mod activation;
mod attention;
pub mod functional;
pub mod init;
mod layers;
pub(crate) mod norm;
mod rnn;

pub use activation::{
    AdaptiveAvgPool2d, AvgPool2d, Embedding, LeakyReLU, LogSoftmax, ModuleList, SiLU, Sigmoid,
    Softmax, Tanh, GELU,
};
pub use attention::{
    Activation, AttentionMasks, MultiheadAttention, TransformerEncoder, TransformerEncoderLayer,
    TransformerEncoderLayerOptions,
};
pub use functional::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, CrossEntropyOptions, KLDivLoss, L1Loss, MSELoss,
    NLLLoss, SmoothL1Loss,
};
pub use layers::{
    Conv1d, Conv1dOpts, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential,
};
pub use norm::{BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm};
pub use rnn::{RnnLayer, RnnOptions, GRU, LSTM};

use crate::driver::Device;
use crate::error::{shape_err, Error, Result};
use crate::fmt::Names;
use crate::tensor::Tensor;
use alloc::string::String;
use alloc::vec::Vec;

/// A layer or model: `forward`, parameters, train/eval mode and the state dict.
pub trait Module {
    /// Computes the output for `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// Parameters with their dotted names, in registration order.
    fn named_parameters(&self) -> Vec<(String, Tensor)>;

    /// Buffers (non-trainable state such as running statistics) with their names.
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Calls `f` on every parameter and buffer field (children included), which may replace
    /// the tensor; [`Module::to`] moves them this way. Modules without tensors keep the
    /// default, which visits nothing.
    fn visit_tensors_mut(&mut self, _f: &mut TensorVisitor<'_>) -> Result<()> {
        Ok(())
    }

    /// Moves parameters and buffers to `device` (PyTorch's `module.to(device)`): each is
    /// replaced by a copy there that keeps `requires_grad` and its `.grad()`. Optimizers
    /// hold the old handles, so build them after moving, as in PyTorch.
    fn to(&mut self, device: &Device) -> Result<()> {
        self.visit_tensors_mut(&mut |t| move_tensor(t, device))?;
        check_moved(self.state_dict(), device)
    }

    /// Switches training mode (dropout, batch-norm statistics) for this module and children.
    fn train(&mut self, _mode: bool) {}

    /// Whether the module is in training mode.
    fn is_training(&self) -> bool {
        true
    }

    /// Parameters in registration order.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Parameters and buffers by name (PyTorch's `state_dict`).
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        let mut v = self.named_parameters();
        v.extend(self.named_buffers());
        v
    }

    /// Copies values into parameters and buffers by name; every key must match in name,
    /// shape and dtype, and none may be missing or unexpected (PyTorch's `strict=True`).
    fn load_state_dict(&self, state: &[(String, Tensor)]) -> Result<()> {
        load_into(&self.state_dict(), state)
    }
}

// The default methods' bodies live in plain functions: a default method is compiled once per
// module type (12 in the npm package, issue 5), these once.

/// [`Module::to`]'s check: a module whose visitor misses a field must not leave it behind
/// silently.
fn check_moved(state: Vec<(String, Tensor)>, device: &Device) -> Result<()> {
    match state.into_iter().find(|(_, t)| t.device() != device) {
        Some((k, t)) => Err(Error::Arg {
            op: "Module::to",
            msg: alloc::format!(
                "{k} is still on {} after moving to {device}: the module's \
                 visit_tensors_mut does not visit it",
                t.device()
            ),
        }),
        None => Ok(()),
    }
}

/// [`Module::load_state_dict`] on the module's own state dict `mine`.
fn load_into(mine: &[(String, Tensor)], state: &[(String, Tensor)]) -> Result<()> {
    let mut missing: Vec<&str> = Vec::new();
    for (k, _) in mine {
        if !state.iter().any(|(s, _)| s == k) {
            missing.push(k);
        }
    }
    let unexpected: Vec<&str> = state
        .iter()
        .filter(|(s, _)| !mine.iter().any(|(k, _)| k == s))
        .map(|(s, _)| s.as_str())
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        return Err(Error::Arg {
            op: "load_state_dict",
            msg: alloc::format!(
                "missing keys {}, unexpected keys {}",
                Names(&missing),
                Names(&unexpected)
            ),
        });
    }
    // Every value is checked before any is copied.
    let mut srcs: Vec<&Tensor> = Vec::with_capacity(mine.len());
    for (k, dst) in mine {
        let src = &state
            .iter()
            .find(|(s, _)| s == k)
            .expect("internal: checked above")
            .1;
        if src.shape() != dst.shape() {
            return Err(shape_err(
                "load_state_dict",
                alloc::format!("{k} of shape {}", dst.shape()),
                src.shape(),
            ));
        }
        if src.dtype() != dst.dtype() {
            return Err(crate::error::dtype_err(
                "load_state_dict",
                alloc::format!(
                    "{k} is {} in the model but {} in the state dict",
                    dst.dtype(),
                    src.dtype()
                ),
            ));
        }
        srcs.push(src);
    }
    let _ng = crate::autograd::no_grad();
    for ((_, dst), src) in mine.iter().zip(srcs) {
        dst.try_copy_(&src.try_to_device(dst.device())?)?;
    }
    Ok(())
}

/// What [`Module::visit_tensors_mut`] calls on each tensor field.
pub type TensorVisitor<'a> = dyn FnMut(&mut Tensor) -> Result<()> + 'a;

/// Visits the tensor fields that are present.
pub(crate) fn visit_each<'a>(
    f: &mut TensorVisitor<'_>,
    fields: impl IntoIterator<Item = Option<&'a mut Tensor>>,
) -> Result<()> {
    for t in fields.into_iter().flatten() {
        f(t)?;
    }
    Ok(())
}

/// Replaces `t` by a copy on `device` with the same `requires_grad` and gradient.
fn move_tensor(t: &mut Tensor, device: &Device) -> Result<()> {
    if t.device() == device {
        return Ok(());
    }
    let _ng = crate::autograd::no_grad();
    let moved = t.try_to_device(device)?;
    let moved = if t.requires_grad() {
        moved.try_requires_grad_(true)?
    } else {
        moved
    };
    if let Some(g) = t.grad() {
        moved.set_grad(Some(g.try_to_device(device)?));
    }
    *t = moved;
    Ok(())
}

/// Prefixes child names: `("weight", t)` under `"0"` becomes `("0.weight", t)`.
pub(crate) fn prefixed(prefix: &str, items: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    items
        .into_iter()
        .map(|(n, t)| (alloc::format!("{prefix}.{n}"), t))
        .collect()
}

/// The `weight` and `bias` entries a layer with optional affine parameters registers,
/// in PyTorch's order.
pub(crate) fn weight_bias(weight: Option<&Tensor>, bias: Option<&Tensor>) -> Vec<(String, Tensor)> {
    let mut v = Vec::new();
    if let Some(w) = weight {
        v.push((String::from("weight"), w.clone()));
    }
    if let Some(b) = bias {
        v.push((String::from("bias"), b.clone()));
    }
    v
}
