//! Layers with PyTorch's constructor arguments and default initialisation.

use super::{init, prefixed, visit_each, Module, TensorVisitor};
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, shape_err, Result};
use crate::tensor::{Conv2dOpts, Tensor};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

fn param(shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
    Tensor::try_zeros(shape, dtype, device)?.try_requires_grad_(true)
}

/// `y = x Wᵀ + b` (PyTorch's `nn.Linear`): weight `[out, in]`, kaiming-uniform init.
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Tensor,
    /// `[out_features]`, if enabled.
    pub bias: Option<Tensor>,
}

impl Linear {
    /// A float32 layer on `device`, initialised like PyTorch's.
    pub fn new(
        in_features: usize,
        out_features: usize,
        bias: bool,
        device: &Device,
    ) -> Result<Linear> {
        let weight = param(&[out_features, in_features], DType::F32, device)?;
        init::kaiming_uniform_(&weight, crate::math::sqrt(5.0))?;
        let bias = if bias {
            let b = param(&[out_features], DType::F32, device)?;
            let bound = 1.0 / crate::math::sqrt(in_features.max(1) as f64);
            init::uniform_(&b, -bound, bound)?;
            Some(b)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let inf = self.weight.dims()[1];
        if x.rank() == 0 || x.dims()[x.rank() - 1] != inf {
            return Err(shape_err(
                "Linear",
                alloc::format!("input [..., {inf}]"),
                x.shape(),
            ));
        }
        let y = x.try_matmul(&self.weight.try_t()?)?;
        match &self.bias {
            Some(b) => y.try_add(b),
            None => Ok(y),
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        super::weight_bias(Some(&self.weight), self.bias.as_ref())
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [Some(&mut self.weight), self.bias.as_mut()])
    }
}

/// Weight `[out, in / groups, *kernel]` and optional bias `[out]` of a convolution,
/// initialised like PyTorch's `_ConvNd.reset_parameters`.
fn conv_params(
    op: &'static str,
    in_channels: usize,
    out_channels: usize,
    groups: usize,
    kernel: &[usize],
    bias: bool,
    device: &Device,
) -> Result<(Tensor, Option<Tensor>)> {
    if groups == 0 || in_channels % groups != 0 || out_channels % groups != 0 {
        return Err(arg_err(
            op,
            alloc::format!(
                "in_channels ({in_channels}) and out_channels ({out_channels}) must be \
                 divisible by groups ({groups})"
            ),
        ));
    }
    let mut shape = alloc::vec![out_channels, in_channels / groups];
    shape.extend_from_slice(kernel);
    let weight = param(&shape, DType::F32, device)?;
    init::kaiming_uniform_(&weight, crate::math::sqrt(5.0))?;
    let bias = if bias {
        let (fan_in, _) = init::fan_in_out(&weight)?;
        let b = param(&[out_channels], DType::F32, device)?;
        let bound = 1.0 / crate::math::sqrt(fan_in.max(1) as f64);
        init::uniform_(&b, -bound, bound)?;
        Some(b)
    } else {
        None
    };
    Ok((weight, bias))
}

/// 2-D convolution layer (PyTorch's `nn.Conv2d`).
pub struct Conv2d {
    /// `[out, in / groups, kh, kw]`.
    pub weight: Tensor,
    /// `[out]`, if enabled.
    pub bias: Option<Tensor>,
    /// Stride, padding, dilation, groups.
    pub opts: Conv2dOpts,
}

impl Conv2d {
    /// A float32 layer on `device`, initialised like PyTorch's.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        opts: Conv2dOpts,
        bias: bool,
        device: &Device,
    ) -> Result<Conv2d> {
        let (weight, bias) = conv_params(
            "Conv2d",
            in_channels,
            out_channels,
            opts.groups,
            &kernel,
            bias,
            device,
        )?;
        Ok(Conv2d { weight, bias, opts })
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_conv2d(&self.weight, self.bias.as_ref(), self.opts)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        super::weight_bias(Some(&self.weight), self.bias.as_ref())
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [Some(&mut self.weight), self.bias.as_mut()])
    }
}

/// Stride, padding, dilation and groups of a 1-D convolution (PyTorch's defaults: 1, 0, 1, 1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Conv1dOpts {
    /// Step between windows.
    pub stride: usize,
    /// Implicit zero padding on both sides.
    pub padding: usize,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Channel groups.
    pub groups: usize,
}

impl Default for Conv1dOpts {
    fn default() -> Self {
        Conv1dOpts {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

/// 1-D convolution layer (PyTorch's `nn.Conv1d`): input `[N, C, L]` or `[C, L]`.
pub struct Conv1d {
    /// `[out, in / groups, k]`.
    pub weight: Tensor,
    /// `[out]`, if enabled.
    pub bias: Option<Tensor>,
    /// Stride, padding, dilation, groups.
    pub opts: Conv1dOpts,
}

impl Conv1d {
    /// A float32 layer on `device`, initialised like PyTorch's.
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        opts: Conv1dOpts,
        bias: bool,
        device: &Device,
    ) -> Result<Conv1d> {
        let (weight, bias) = conv_params(
            "Conv1d",
            in_channels,
            out_channels,
            opts.groups,
            &[kernel_size],
            bias,
            device,
        )?;
        Ok(Conv1d { weight, bias, opts })
    }
}

impl Module for Conv1d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let o = self.opts;
        x.try_conv1d(
            &self.weight,
            self.bias.as_ref(),
            o.stride,
            o.padding,
            o.dilation,
            o.groups,
        )
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        super::weight_bias(Some(&self.weight), self.bias.as_ref())
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [Some(&mut self.weight), self.bias.as_mut()])
    }
}

/// `max(x, 0)`.
pub struct ReLU;

impl Module for ReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_relu()
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
}

/// Max pooling with PyTorch's defaults (stride = kernel).
pub struct MaxPool2d {
    /// Window.
    pub kernel: [usize; 2],
    /// Step.
    pub stride: [usize; 2],
    /// Implicit -inf padding.
    pub padding: [usize; 2],
}

impl MaxPool2d {
    /// Stride defaults to the kernel size, as in PyTorch.
    pub fn new(kernel: usize) -> MaxPool2d {
        MaxPool2d {
            kernel: [kernel, kernel],
            stride: [kernel, kernel],
            padding: [0, 0],
        }
    }
}

impl Module for MaxPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_max_pool2d(self.kernel, self.stride, self.padding, [1, 1])
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
}

/// Flattens dims `start_dim..=end_dim` (PyTorch's defaults: 1 and -1).
pub struct Flatten {
    /// First dim merged.
    pub start_dim: isize,
    /// Last dim merged.
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_flatten(self.start_dim, self.end_dim)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
}

/// Zeroes elements with probability `p` in training mode and scales the rest by `1/(1-p)`.
pub struct Dropout {
    /// Drop probability.
    pub p: f64,
    training: bool,
}

impl Dropout {
    /// A dropout layer, in training mode.
    pub fn new(p: f64) -> Dropout {
        Dropout { p, training: true }
    }
}

impl Module for Dropout {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::functional::dropout(x, self.p, self.training)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }
    fn train(&mut self, mode: bool) {
        self.training = mode;
    }
    fn is_training(&self) -> bool {
        self.training
    }
}

/// Layers applied in order; state-dict keys are `"{index}.{name}"` as in PyTorch.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: bool,
}

impl Sequential {
    /// An empty container in training mode.
    pub fn new() -> Sequential {
        Sequential {
            layers: Vec::new(),
            training: true,
        }
    }

    /// Appends a layer (builder style).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, m: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(m));
        self
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h)?;
        }
        Ok(h)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            v.extend(prefixed(&alloc::format!("{i}"), l.named_parameters()));
        }
        v
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            v.extend(prefixed(&alloc::format!("{i}"), l.named_buffers()));
        }
        v
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        self.layers
            .iter_mut()
            .try_for_each(|l| l.visit_tensors_mut(f))
    }

    fn train(&mut self, mode: bool) {
        self.training = mode;
        for l in &mut self.layers {
            l.train(mode);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
}
