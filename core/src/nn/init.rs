//! Parameter initialisation (PyTorch's `torch.nn.init`), drawing from the default generator.

use crate::error::{arg_err, Result};
use crate::tensor::Tensor;

/// `(fan_in, fan_out)` of a weight: dims 1 and 0 times the receptive field (PyTorch's rule).
pub fn fan_in_out(t: &Tensor) -> Result<(usize, usize)> {
    if t.rank() < 2 {
        return Err(arg_err(
            "init",
            alloc::format!("fan in/out needs at least 2 dims, got {}", t.shape()),
        ));
    }
    let rf: usize = t.dims()[2..].iter().product();
    Ok((t.dims()[1] * rf, t.dims()[0] * rf))
}

/// Fills `t` in place with draws from `U(low, high)`.
pub fn uniform_(t: &Tensor, low: f64, high: f64) -> Result<()> {
    let _ng = crate::autograd::no_grad();
    let u = Tensor::try_uniform(t.shape().clone(), low, high, t.dtype(), t.device())?;
    t.try_copy_(&u)?;
    Ok(())
}

/// Fills `t` in place with draws from `N(mean, std²)`.
pub fn normal_(t: &Tensor, mean: f64, std: f64) -> Result<()> {
    let _ng = crate::autograd::no_grad();
    let u = Tensor::try_normal(t.shape().clone(), mean, std, t.dtype(), t.device())?;
    t.try_copy_(&u)?;
    Ok(())
}

/// Fills with zeros.
pub fn zeros_(t: &Tensor) -> Result<()> {
    let _ng = crate::autograd::no_grad();
    t.try_zero_()?;
    Ok(())
}

/// Fills with ones.
pub fn ones_(t: &Tensor) -> Result<()> {
    let _ng = crate::autograd::no_grad();
    t.try_fill_(1.0)?;
    Ok(())
}

/// Glorot uniform: `U(-a, a)`, `a = gain·sqrt(6 / (fan_in + fan_out))`.
pub fn xavier_uniform_(t: &Tensor, gain: f64) -> Result<()> {
    let (fi, fo) = fan_in_out(t)?;
    let a = gain * crate::math::sqrt(6.0 / (fi + fo) as f64);
    uniform_(t, -a, a)
}

/// Glorot normal: `N(0, gain²·2 / (fan_in + fan_out))`.
pub fn xavier_normal_(t: &Tensor, gain: f64) -> Result<()> {
    let (fi, fo) = fan_in_out(t)?;
    normal_(t, 0.0, gain * crate::math::sqrt(2.0 / (fi + fo) as f64))
}

/// He uniform with leaky-ReLU slope `a` over fan_in: `bound = sqrt(6 / ((1 + a²)·fan_in))`.
/// `kaiming_uniform_(w, 5f64.sqrt())` is PyTorch's default for Linear and Conv weights.
pub fn kaiming_uniform_(t: &Tensor, a: f64) -> Result<()> {
    let (fi, _) = fan_in_out(t)?;
    let gain = crate::math::sqrt(2.0 / (1.0 + a * a));
    let bound = gain * crate::math::sqrt(3.0 / fi.max(1) as f64);
    uniform_(t, -bound, bound)
}

/// He normal with leaky-ReLU slope `a` over fan_in.
pub fn kaiming_normal_(t: &Tensor, a: f64) -> Result<()> {
    let (fi, _) = fan_in_out(t)?;
    let gain = crate::math::sqrt(2.0 / (1.0 + a * a));
    normal_(t, 0.0, gain / crate::math::sqrt(fi.max(1) as f64))
}
