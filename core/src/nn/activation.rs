//! Activations as modules, plus the other parameter-light layers: [`ModuleList`], average
//! pooling ([`AvgPool2d`], [`AdaptiveAvgPool2d`]) and [`Embedding`].

use super::{init, prefixed, visit_each, Module, TensorVisitor};
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

macro_rules! no_params {
    () => {
        fn named_parameters(&self) -> Vec<(String, Tensor)> {
            Vec::new()
        }
    };
}

/// `x` where `x > 0`, else `negative_slope·x` (PyTorch's `nn.LeakyReLU`, default slope 0.01).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct LeakyReLU {
    /// Slope for negative inputs.
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl LeakyReLU {
    /// A leaky ReLU with the given slope.
    pub fn new(negative_slope: f64) -> LeakyReLU {
        LeakyReLU { negative_slope }
    }
}

impl Module for LeakyReLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::functional::leaky_relu(x, self.negative_slope)
    }
    no_params!();
}

/// GELU (PyTorch's `nn.GELU`): exact (`approximate = "none"`, the default) or the tanh form.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct GELU {
    /// Use the tanh approximation (`approximate = "tanh"`).
    pub tanh: bool,
}

impl GELU {
    /// `approximate` is `"none"` or `"tanh"`, as in PyTorch; anything else is an `Err`.
    pub fn new(approximate: &str) -> Result<GELU> {
        match approximate {
            "none" => Ok(GELU { tanh: false }),
            "tanh" => Ok(GELU { tanh: true }),
            other => Err(arg_err(
                "GELU",
                alloc::format!("approximate must be 'none' or 'tanh', got '{other}'"),
            )),
        }
    }
}

impl Module for GELU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_gelu(self.tanh)
    }
    no_params!();
}

/// `x·sigmoid(x)` (PyTorch's `nn.SiLU`).
#[derive(Copy, Clone, Debug, Default)]
pub struct SiLU;

impl Module for SiLU {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_silu()
    }
    no_params!();
}

/// `1 / (1 + e^-x)` (PyTorch's `nn.Sigmoid`).
#[derive(Copy, Clone, Debug, Default)]
pub struct Sigmoid;

impl Module for Sigmoid {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_sigmoid()
    }
    no_params!();
}

/// Hyperbolic tangent (PyTorch's `nn.Tanh`).
#[derive(Copy, Clone, Debug, Default)]
pub struct Tanh;

impl Module for Tanh {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_tanh()
    }
    no_params!();
}

/// Softmax along `dim` (PyTorch's `nn.Softmax(dim)`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Softmax {
    /// The normalised dim (negative counts from the end).
    pub dim: isize,
}

impl Softmax {
    /// Softmax over `dim`.
    pub fn new(dim: isize) -> Softmax {
        Softmax { dim }
    }
}

impl Module for Softmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_softmax(self.dim)
    }
    no_params!();
}

/// Log-softmax along `dim` (PyTorch's `nn.LogSoftmax(dim)`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LogSoftmax {
    /// The normalised dim (negative counts from the end).
    pub dim: isize,
}

impl LogSoftmax {
    /// Log-softmax over `dim`.
    pub fn new(dim: isize) -> LogSoftmax {
        LogSoftmax { dim }
    }
}

impl Module for LogSoftmax {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_log_softmax(self.dim)
    }
    no_params!();
}

/// A list of sub-modules (PyTorch's `nn.ModuleList`): state-dict keys are `"{index}.{name}"`.
/// It has no `forward` of its own (calling it is an `Err`); index it and call the children.
#[derive(Default)]
pub struct ModuleList {
    modules: Vec<Box<dyn Module>>,
    training: bool,
}

impl ModuleList {
    /// An empty list in training mode.
    pub fn new() -> ModuleList {
        ModuleList {
            modules: Vec::new(),
            training: true,
        }
    }

    /// Appends a module.
    pub fn push(&mut self, m: impl Module + 'static) {
        self.modules.push(Box::new(m));
    }

    /// Appends a boxed module.
    pub fn push_boxed(&mut self, m: Box<dyn Module>) {
        self.modules.push(m);
    }

    /// The module at `i`, if any.
    pub fn get(&self, i: usize) -> Option<&dyn Module> {
        self.modules.get(i).map(|m| m.as_ref())
    }

    /// The modules in order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Module> {
        self.modules.iter().map(|m| m.as_ref())
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.modules.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }
}

impl Module for ModuleList {
    fn forward(&self, _x: &Tensor) -> Result<Tensor> {
        Err(arg_err(
            "ModuleList",
            "a ModuleList has no forward; call its modules (get/iter) instead",
        ))
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, m) in self.modules.iter().enumerate() {
            v.extend(prefixed(&alloc::format!("{i}"), m.named_parameters()));
        }
        v
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        self.modules
            .iter_mut()
            .try_for_each(|m| m.visit_tensors_mut(f))
    }

    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, m) in self.modules.iter().enumerate() {
            v.extend(prefixed(&alloc::format!("{i}"), m.named_buffers()));
        }
        v
    }

    fn train(&mut self, mode: bool) {
        self.training = mode;
        for m in &mut self.modules {
            m.train(mode);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

/// 2-D average pooling (PyTorch's `nn.AvgPool2d`; stride defaults to the kernel,
/// `count_include_pad` to true).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    /// Window `[h, w]`.
    pub kernel: [usize; 2],
    /// Step `[h, w]`.
    pub stride: [usize; 2],
    /// Implicit zero padding `[h, w]`.
    pub padding: [usize; 2],
    /// Whether padded zeros count in the divisor.
    pub count_include_pad: bool,
}

impl AvgPool2d {
    /// A square window with stride = kernel and no padding.
    pub fn new(kernel: usize) -> AvgPool2d {
        AvgPool2d {
            kernel: [kernel, kernel],
            stride: [kernel, kernel],
            padding: [0, 0],
            count_include_pad: true,
        }
    }
}

impl Module for AvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.try_avg_pool2d(
            self.kernel,
            self.stride,
            self.padding,
            self.count_include_pad,
        )
    }
    no_params!();
}

/// Average pooling to a fixed output size `[oh, ow]` (PyTorch's `nn.AdaptiveAvgPool2d`):
/// cell `i` averages rows `floor(i·H/oh) .. ceil((i+1)·H/oh)`, likewise for columns.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    /// Output `[h, w]`.
    pub output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools to `output_size`.
    pub fn new(output_size: [usize; 2]) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d { output_size }
    }
}

/// Adaptive average pooling of one axis (`ax`) to `out` cells.
fn adaptive_axis(x: &Tensor, ax: usize, out: usize) -> Result<Tensor> {
    let n = x.dims()[ax];
    if n % out == 0 {
        // Equal windows: a reshape and a mean.
        let mut shape: Vec<isize> = x.dims().iter().map(|&d| d as isize).collect();
        shape[ax] = out as isize;
        shape.insert(ax + 1, (n / out) as isize);
        return x
            .try_reshape(&shape)?
            .try_mean(Some(&[ax as isize + 1]), false);
    }
    let mut cells = Vec::with_capacity(out);
    for i in 0..out {
        let s = i * n / out;
        let e = ((i + 1) * n).div_ceil(out);
        cells.push(
            x.try_narrow(ax as isize, s, e - s)?
                .try_mean(Some(&[ax as isize]), true)?,
        );
    }
    Tensor::try_cat(&cells, ax as isize)
}

/// Adaptive average pooling of `[N, C, H, W]` or `[C, H, W]` to `output_size`.
pub(crate) fn adaptive_avg_pool2d(
    op: &'static str,
    x: &Tensor,
    output_size: [usize; 2],
) -> Result<Tensor> {
    if x.rank() != 3 && x.rank() != 4 {
        return Err(shape_err(op, "input [N, C, H, W] or [C, H, W]", x.shape()));
    }
    if !x.dtype().is_float() {
        return Err(dtype_err(
            op,
            alloc::format!("input must be floating point, got {}", x.dtype()),
        ));
    }
    let [oh, ow] = output_size;
    let (hax, wax) = (x.rank() - 2, x.rank() - 1);
    if oh == 0 || ow == 0 || x.dims()[hax] == 0 || x.dims()[wax] == 0 {
        return Err(shape_err(
            op,
            alloc::format!(
                "a non-empty input and output size (output_size {:?})",
                output_size
            ),
            x.shape(),
        ));
    }
    let y = adaptive_axis(x, hax, oh)?;
    adaptive_axis(&y, wax, ow)
}

impl Module for AdaptiveAvgPool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        adaptive_avg_pool2d("AdaptiveAvgPool2d", x, self.output_size)
    }
    no_params!();
}

/// A lookup table (PyTorch's `nn.Embedding`): `forward` maps int64 indices of any shape to
/// rows of `weight`, giving `[*indices.shape, embedding_dim]`. Weights start as `N(0, 1)`;
/// the `padding_idx` row starts at zero and receives no gradient.
pub struct Embedding {
    /// `[num_embeddings, embedding_dim]`.
    pub weight: Tensor,
    /// The row that gets no gradient, if any (negative counts from the end, as in PyTorch).
    pub padding_idx: Option<usize>,
}

impl Embedding {
    /// A float32 table on `device`, initialised like PyTorch's.
    pub fn new(
        num_embeddings: usize,
        embedding_dim: usize,
        padding_idx: Option<i64>,
        device: &Device,
    ) -> Result<Embedding> {
        let padding_idx = match padding_idx {
            None => None,
            Some(p) => {
                let n = num_embeddings as i64;
                if p >= n || p < -n {
                    return Err(arg_err(
                        "Embedding",
                        alloc::format!(
                            "padding_idx {p} must be within num_embeddings {num_embeddings}"
                        ),
                    ));
                }
                Some(if p < 0 { (p + n) as usize } else { p as usize })
            }
        };
        let weight = Tensor::try_zeros([num_embeddings, embedding_dim], DType::F32, device)?;
        init::normal_(&weight, 0.0, 1.0)?;
        if let Some(p) = padding_idx {
            let _ng = crate::autograd::no_grad();
            weight.try_narrow(0, p, 1)?.try_zero_()?;
        }
        let weight = weight.try_requires_grad_(true)?;
        Ok(Embedding {
            weight,
            padding_idx,
        })
    }
}

/// Rows of `weight` at int64 (or int32) indices `x`; the `padding_idx` rows get no gradient.
pub(crate) fn embedding(
    op: &'static str,
    x: &Tensor,
    weight: &Tensor,
    padding_idx: Option<usize>,
) -> Result<Tensor> {
    if weight.rank() != 2 {
        return Err(shape_err(
            op,
            "weight [num_embeddings, embedding_dim]",
            weight.shape(),
        ));
    }
    if x.dtype() != DType::I64 && x.dtype() != DType::I32 {
        return Err(dtype_err(
            op,
            alloc::format!(
                "indices must be int64 (or int32), got {} of shape {}",
                x.dtype(),
                x.shape()
            ),
        ));
    }
    let n = weight.dims()[0];
    let idx = x.try_to_dtype(DType::I64)?.try_reshape(&[-1])?;
    if idx.numel() > 0 {
        let lo = idx.try_amin(None, false)?.try_item::<i64>()?;
        let hi = idx.try_amax(None, false)?.try_item::<i64>()?;
        if lo < 0 || hi >= n as i64 {
            return Err(arg_err(
                op,
                alloc::format!(
                    "index {} is out of range for a table of {n} rows (weight {})",
                    if lo < 0 { lo } else { hi },
                    weight.shape()
                ),
            ));
        }
    }
    let mut rows = weight.try_index_select(0, &idx)?;
    if let Some(p) = padding_idx {
        // Same values, but the padding rows are cut from the graph.
        let keep = idx.try_ne_scalar(p as i64)?.try_unsqueeze(1)?;
        rows = Tensor::try_where(&keep, &rows, &rows.detach())?;
    }
    let mut shape: Vec<usize> = x.dims().to_vec();
    shape.push(weight.dims()[1]);
    rows.try_reshape_to(&shape)
}

impl Module for Embedding {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        embedding("Embedding", x, &self.weight, self.padding_idx)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        alloc::vec![(String::from("weight"), self.weight.clone())]
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(f, [Some(&mut self.weight)])
    }
}
