//! Attention: [`MultiheadAttention`], [`TransformerEncoderLayer`] and [`TransformerEncoder`]
//! with PyTorch's
//! parameter names (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, ...) and
//! initialisation, composed from recorded primitives.

use super::{functional, init, prefixed, visit_each, LayerNorm, Linear, Module, TensorVisitor};
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::fmt::Float;
use crate::tensor::Tensor;
use alloc::string::String;
use alloc::vec::Vec;

/// Multi-head attention (PyTorch's `nn.MultiheadAttention`, with `kdim = vdim = embed_dim`
/// and no `add_bias_kv` / `add_zero_attn`). `in_proj_weight [3E, E]` is xavier-uniform,
/// `in_proj_bias` and `out_proj.bias` are zeros, `out_proj.weight` keeps Linear's init.
pub struct MultiheadAttention {
    /// `E`.
    pub embed_dim: usize,
    /// Heads (divides `E`).
    pub num_heads: usize,
    /// Dropout on the attention weights, in training mode.
    pub dropout: f64,
    /// Inputs and output are `[N, L, E]` instead of `[L, N, E]`.
    pub batch_first: bool,
    /// `[3E, E]`: the query, key and value projections stacked.
    pub in_proj_weight: Tensor,
    /// `[3E]`, if bias.
    pub in_proj_bias: Option<Tensor>,
    /// The output projection `E → E`.
    pub out_proj: Linear,
    training: bool,
}

/// Masks of [`MultiheadAttention::forward_qkv`]. A bool mask is true where attention is
/// *not* allowed (→ -inf); a float mask is added to the scores, as in PyTorch.
#[derive(Copy, Clone, Default)]
pub struct AttentionMasks<'a> {
    /// `[L, S]` or `[N·heads, L, S]`.
    pub attn_mask: Option<&'a Tensor>,
    /// `[N, S]` (or `[S]` for unbatched input): true for padding keys.
    pub key_padding_mask: Option<&'a Tensor>,
    /// Apply a causal mask (position `i` attends to `j <= i`).
    pub is_causal: bool,
}

impl MultiheadAttention {
    /// PyTorch's defaults: no dropout, bias, sequence-major input; float32 on `device`.
    pub fn new(embed_dim: usize, num_heads: usize, device: &Device) -> Result<MultiheadAttention> {
        MultiheadAttention::with_options(embed_dim, num_heads, 0.0, true, false, device)
    }

    /// PyTorch's constructor arguments `(embed_dim, num_heads, dropout, bias, batch_first)`.
    pub fn with_options(
        embed_dim: usize,
        num_heads: usize,
        dropout: f64,
        bias: bool,
        batch_first: bool,
        device: &Device,
    ) -> Result<MultiheadAttention> {
        if num_heads == 0 || embed_dim % num_heads != 0 {
            return Err(arg_err(
                "MultiheadAttention",
                alloc::format!(
                    "embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
                ),
            ));
        }
        if !(0.0..=1.0).contains(&dropout) {
            return Err(arg_err(
                "MultiheadAttention",
                alloc::format!("dropout must be in [0, 1], got {}", Float(dropout)),
            ));
        }
        let w = Tensor::try_zeros([3 * embed_dim, embed_dim], DType::F32, device)?;
        init::xavier_uniform_(&w, 1.0)?;
        let in_proj_weight = w.try_requires_grad_(true)?;
        let in_proj_bias = if bias {
            Some(Tensor::try_zeros([3 * embed_dim], DType::F32, device)?.try_requires_grad_(true)?)
        } else {
            None
        };
        let out_proj = Linear::new(embed_dim, embed_dim, bias, device)?;
        if let Some(b) = &out_proj.bias {
            init::zeros_(b)?;
        }
        Ok(MultiheadAttention {
            embed_dim,
            num_heads,
            dropout,
            batch_first,
            in_proj_weight,
            in_proj_bias,
            out_proj,
            training: true,
        })
    }

    /// To `[N, L, E]`, checking the width; also whether the input was unbatched.
    fn batch_major(&self, name: &str, x: &Tensor) -> Result<(Tensor, bool)> {
        let e = self.embed_dim;
        if !(x.rank() == 2 || x.rank() == 3) || x.dims()[x.rank() - 1] != e {
            let want = if self.batch_first {
                alloc::format!("[N, L, {e}] or [L, {e}]")
            } else {
                alloc::format!("[L, N, {e}] or [L, {e}]")
            };
            return Err(shape_err(
                "MultiheadAttention",
                alloc::format!("{name} {want} (batch_first = {})", self.batch_first),
                x.shape(),
            ));
        }
        if !x.dtype().is_float() {
            return Err(dtype_err(
                "MultiheadAttention",
                alloc::format!("{name} must be floating point, got {}", x.dtype()),
            ));
        }
        if x.rank() == 2 {
            return Ok((x.try_unsqueeze(0)?, true));
        }
        Ok((
            if self.batch_first {
                x.clone()
            } else {
                x.try_transpose(0, 1)?
            },
            false,
        ))
    }

    /// `x W[k·E .. (k+1)·E]ᵀ + b[...]`, split into heads: `[N, heads, L, d]`.
    fn project(&self, x: &Tensor, k: usize) -> Result<Tensor> {
        let e = self.embed_dim;
        let w = self.in_proj_weight.try_narrow(0, k * e, e)?;
        let mut y = x.try_matmul(&w.try_t()?)?;
        if let Some(b) = &self.in_proj_bias {
            y = y.try_add(&b.try_narrow(0, k * e, e)?)?;
        }
        let (n, l) = (x.dims()[0] as isize, x.dims()[1] as isize);
        let h = self.num_heads as isize;
        y.try_reshape(&[n, l, h, e as isize / h])?
            .try_permute(&[0, 2, 1, 3])
    }

    /// Full attention: returns `(output, weights)`; output has the query's layout, weights
    /// are `[N, L, S]` averaged over heads (or `[N, heads, L, S]` when
    /// `average_attn_weights` is false), `None` unless `need_weights`.
    pub fn forward_qkv(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        masks: AttentionMasks<'_>,
        need_weights: bool,
        average_attn_weights: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        const OP: &str = "MultiheadAttention";
        let (q, unbatched) = self.batch_major("query", query)?;
        let (k, kub) = self.batch_major("key", key)?;
        let (v, vub) = self.batch_major("value", value)?;
        if kub != unbatched
            || vub != unbatched
            || k.dims() != v.dims()
            || k.dims()[0] != q.dims()[0]
        {
            return Err(shape_err(
                OP,
                alloc::format!(
                    "key and value of equal shapes with the query's batch (query {})",
                    query.shape()
                ),
                alloc::format!("key {}, value {}", key.shape(), value.shape()),
            ));
        }
        let (n, l, s) = (q.dims()[0], q.dims()[1], k.dims()[1]);
        let heads = self.num_heads;
        if heads == 0
            || self.embed_dim % heads != 0
            || self.in_proj_weight.dims() != [3 * self.embed_dim, self.embed_dim]
        {
            return Err(shape_err(
                OP,
                alloc::format!(
                    "in_proj_weight [{}, {}] with embed_dim divisible by num_heads = {heads}",
                    3 * self.embed_dim,
                    self.embed_dim
                ),
                self.in_proj_weight.shape(),
            ));
        }
        let d = self.embed_dim / heads;
        let qh = self
            .project(&q, 0)?
            .try_mul_scalar(1.0 / crate::math::sqrt(d as f64))?;
        let kh = self.project(&k, 1)?;
        let vh = self.project(&v, 2)?;
        let mut scores = qh.try_matmul(&kh.try_transpose(-2, -1)?)?; // [N, h, L, S]
        if let Some(m) = masks.attn_mask {
            let m4 = if m.dims() == [l, s] {
                m.clone()
            } else if m.dims() == [n * heads, l, s] {
                m.try_reshape(&[n as isize, heads as isize, l as isize, s as isize])?
            } else {
                return Err(shape_err(
                    OP,
                    alloc::format!("attn_mask [{l}, {s}] or [{}, {l}, {s}]", n * heads),
                    m.shape(),
                ));
            };
            scores = apply_mask(OP, &scores, &m4)?;
        }
        if let Some(m) = masks.key_padding_mask {
            let want: &[usize] = if unbatched { &[s] } else { &[n, s] };
            if m.dims() != want {
                return Err(shape_err(
                    OP,
                    alloc::format!("key_padding_mask {want:?}"),
                    m.shape(),
                ));
            }
            let m4 = m.try_reshape(&[n as isize, 1, 1, s as isize])?;
            scores = apply_mask(OP, &scores, &m4)?;
        }
        if masks.is_causal {
            scores = apply_mask(OP, &scores, &causal_mask(l, s, q.device())?)?;
        }
        let attn = scores.try_softmax(-1)?;
        let attn_d = functional::dropout(&attn, self.dropout, self.training)?;
        let o = attn_d
            .try_matmul(&vh)?
            .try_permute(&[0, 2, 1, 3])?
            .try_reshape(&[n as isize, l as isize, self.embed_dim as isize])?;
        let o = self.out_proj.forward(&o)?;
        let o = if unbatched {
            o.try_squeeze(Some(0))?
        } else if self.batch_first {
            o
        } else {
            o.try_transpose(0, 1)?
        };
        let w = if need_weights {
            let w = if average_attn_weights {
                attn.try_mean(Some(&[1]), false)?
            } else {
                attn
            };
            Some(if unbatched {
                w.try_squeeze(Some(0))?
            } else {
                w
            })
        } else {
            None
        };
        Ok((o, w))
    }
}

/// True above the diagonal (`j > i`): the positions a causal mask hides.
pub(crate) fn causal_mask(l: usize, s: usize, device: &Device) -> Result<Tensor> {
    let i = Tensor::try_arange(0.0, l as f64, 1.0, DType::I64, device)?.try_unsqueeze(1)?;
    let j = Tensor::try_arange(0.0, s as f64, 1.0, DType::I64, device)?.try_unsqueeze(0)?;
    j.try_gt(&i)
}

/// Bool masks (true = hidden) become -inf; float masks are added.
pub(crate) fn apply_mask(op: &'static str, scores: &Tensor, m: &Tensor) -> Result<Tensor> {
    if m.dtype() == DType::Bool {
        scores.try_masked_fill(m, f64::NEG_INFINITY)
    } else if m.dtype().is_float() {
        scores.try_add(&m.try_to_dtype(scores.dtype())?)
    } else {
        Err(dtype_err(
            op,
            alloc::format!("masks must be bool or floating point, got {}", m.dtype()),
        ))
    }
}

impl Module for MultiheadAttention {
    /// Self-attention `forward_qkv(x, x, x)` without masks; returns the output only.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self
            .forward_qkv(x, x, x, AttentionMasks::default(), false, true)?
            .0)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = alloc::vec![(String::from("in_proj_weight"), self.in_proj_weight.clone())];
        if let Some(b) = &self.in_proj_bias {
            v.push((String::from("in_proj_bias"), b.clone()));
        }
        v.extend(prefixed("out_proj", self.out_proj.named_parameters()));
        v
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        visit_each(
            f,
            [Some(&mut self.in_proj_weight), self.in_proj_bias.as_mut()],
        )?;
        self.out_proj.visit_tensors_mut(f)
    }

    fn train(&mut self, mode: bool) {
        self.training = mode;
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

/// The feed-forward activation of [`TransformerEncoderLayer`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// ReLU (PyTorch's default).
    #[default]
    Relu,
    /// Exact GELU.
    Gelu,
}

/// Constructor arguments of [`TransformerEncoderLayer`] besides `d_model` and `nhead`, with
/// PyTorch's defaults via `Default`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct TransformerEncoderLayerOptions {
    /// Hidden width of the feed-forward block (2048).
    pub dim_feedforward: usize,
    /// Dropout probability (0.1).
    pub dropout: f64,
    /// Feed-forward activation (ReLU).
    pub activation: Activation,
    /// LayerNorm epsilon (1e-5).
    pub layer_norm_eps: f64,
    /// `[N, L, E]` inputs (false).
    pub batch_first: bool,
    /// Pre-norm instead of post-norm (false).
    pub norm_first: bool,
    /// Biases in the linear layers and norms (true).
    pub bias: bool,
}

impl Default for TransformerEncoderLayerOptions {
    fn default() -> Self {
        TransformerEncoderLayerOptions {
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: Activation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
        }
    }
}

/// One transformer encoder block (PyTorch's `nn.TransformerEncoderLayer`): self-attention
/// and a feed-forward block, each with dropout, a residual and a LayerNorm (post-norm by
/// default). State-dict keys: `self_attn.*`, `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*`.
pub struct TransformerEncoderLayer {
    /// Self-attention.
    pub self_attn: MultiheadAttention,
    /// `d_model → dim_feedforward`.
    pub linear1: Linear,
    /// `dim_feedforward → d_model`.
    pub linear2: Linear,
    /// Norm after (or before, if norm_first) attention.
    pub norm1: LayerNorm,
    /// Norm after (or before) the feed-forward block.
    pub norm2: LayerNorm,
    /// The options it was built with.
    pub opts: TransformerEncoderLayerOptions,
    training: bool,
}

impl TransformerEncoderLayer {
    /// PyTorch's defaults; float32 on `device`.
    pub fn new(d_model: usize, nhead: usize, device: &Device) -> Result<TransformerEncoderLayer> {
        TransformerEncoderLayer::with_options(
            d_model,
            nhead,
            TransformerEncoderLayerOptions::default(),
            device,
        )
    }

    /// Every constructor argument of PyTorch's layer (activation as an enum).
    pub fn with_options(
        d_model: usize,
        nhead: usize,
        opts: TransformerEncoderLayerOptions,
        device: &Device,
    ) -> Result<TransformerEncoderLayer> {
        let self_attn = MultiheadAttention::with_options(
            d_model,
            nhead,
            opts.dropout,
            opts.bias,
            opts.batch_first,
            device,
        )?;
        let linear1 = Linear::new(d_model, opts.dim_feedforward, opts.bias, device)?;
        let linear2 = Linear::new(opts.dim_feedforward, d_model, opts.bias, device)?;
        let norm1 =
            LayerNorm::with_options(&[d_model], opts.layer_norm_eps, true, opts.bias, device)?;
        let norm2 =
            LayerNorm::with_options(&[d_model], opts.layer_norm_eps, true, opts.bias, device)?;
        Ok(TransformerEncoderLayer {
            self_attn,
            linear1,
            linear2,
            norm1,
            norm2,
            opts,
            training: true,
        })
    }

    fn sa_block(&self, x: &Tensor, masks: AttentionMasks<'_>) -> Result<Tensor> {
        let y = self.self_attn.forward_qkv(x, x, x, masks, false, true)?.0;
        functional::dropout(&y, self.opts.dropout, self.training)
    }

    fn ff_block(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.linear1.forward(x)?;
        let h = match self.opts.activation {
            Activation::Relu => h.try_relu()?,
            Activation::Gelu => h.try_gelu(false)?,
        };
        let h = functional::dropout(&h, self.opts.dropout, self.training)?;
        let y = self.linear2.forward(&h)?;
        functional::dropout(&y, self.opts.dropout, self.training)
    }

    /// The block with `src_mask` (`attn_mask`), `src_key_padding_mask` and `is_causal`.
    pub fn forward_masked(&self, src: &Tensor, masks: AttentionMasks<'_>) -> Result<Tensor> {
        if self.opts.norm_first {
            let x = src.try_add(&self.sa_block(&self.norm1.forward(src)?, masks)?)?;
            x.try_add(&self.ff_block(&self.norm2.forward(&x)?)?)
        } else {
            let x = self
                .norm1
                .forward(&src.try_add(&self.sa_block(src, masks)?)?)?;
            self.norm2.forward(&x.try_add(&self.ff_block(&x)?)?)
        }
    }
}

impl Module for TransformerEncoderLayer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_masked(x, AttentionMasks::default())
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = prefixed("self_attn", self.self_attn.named_parameters());
        v.extend(prefixed("linear1", self.linear1.named_parameters()));
        v.extend(prefixed("linear2", self.linear2.named_parameters()));
        v.extend(prefixed("norm1", self.norm1.named_parameters()));
        v.extend(prefixed("norm2", self.norm2.named_parameters()));
        v
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        self.self_attn.visit_tensors_mut(f)?;
        self.linear1.visit_tensors_mut(f)?;
        self.linear2.visit_tensors_mut(f)?;
        self.norm1.visit_tensors_mut(f)?;
        self.norm2.visit_tensors_mut(f)
    }

    fn train(&mut self, mode: bool) {
        self.training = mode;
        self.self_attn.train(mode);
    }

    fn is_training(&self) -> bool {
        self.training
    }
}

/// A stack of encoder layers with an optional final LayerNorm (PyTorch's
/// `nn.TransformerEncoder`). State-dict keys: `layers.{i}.…` and `norm.weight`/`norm.bias`.
pub struct TransformerEncoder {
    /// The layers, applied in order.
    pub layers: Vec<TransformerEncoderLayer>,
    /// Applied after the last layer, if any.
    pub norm: Option<LayerNorm>,
    training: bool,
}

impl TransformerEncoder {
    /// `num_layers` layers built with `(d_model, nhead, opts)`, all starting from the same
    /// weights as PyTorch's deep copies of one layer do, and a final LayerNorm over `d_model`
    /// (eps and bias from `opts`) when `final_norm`.
    pub fn new(
        d_model: usize,
        nhead: usize,
        opts: TransformerEncoderLayerOptions,
        num_layers: usize,
        final_norm: bool,
        device: &Device,
    ) -> Result<TransformerEncoder> {
        let mut layers: Vec<TransformerEncoderLayer> = Vec::with_capacity(num_layers);
        for _ in 0..num_layers {
            let layer = TransformerEncoderLayer::with_options(d_model, nhead, opts, device)?;
            if let Some(first) = layers.first() {
                let _ng = crate::autograd::no_grad();
                for ((_, dst), (_, src)) in layer
                    .named_parameters()
                    .iter()
                    .zip(first.named_parameters().iter())
                {
                    dst.try_copy_(src)?;
                }
            }
            layers.push(layer);
        }
        let norm = if final_norm {
            Some(LayerNorm::with_options(
                &[d_model],
                opts.layer_norm_eps,
                true,
                opts.bias,
                device,
            )?)
        } else {
            None
        };
        Ok(TransformerEncoder {
            layers,
            norm,
            training: true,
        })
    }

    /// Runs every layer with the same masks, then the final norm.
    pub fn forward_masked(&self, src: &Tensor, masks: AttentionMasks<'_>) -> Result<Tensor> {
        let mut x = src.clone();
        for l in &self.layers {
            x = l.forward_masked(&x, masks)?;
        }
        match &self.norm {
            Some(n) => n.forward(&x),
            None => Ok(x),
        }
    }
}

impl Module for TransformerEncoder {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_masked(x, AttentionMasks::default())
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut v = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            v.extend(prefixed(
                &alloc::format!("layers.{i}"),
                l.named_parameters(),
            ));
        }
        if let Some(n) = &self.norm {
            v.extend(prefixed("norm", n.named_parameters()));
        }
        v
    }

    fn visit_tensors_mut(&mut self, f: &mut TensorVisitor<'_>) -> Result<()> {
        for l in &mut self.layers {
            l.visit_tensors_mut(f)?;
        }
        match &mut self.norm {
            Some(n) => n.visit_tensors_mut(f),
            None => Ok(()),
        }
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
