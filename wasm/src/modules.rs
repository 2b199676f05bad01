//! Layers with parameters, built by core (its initialisation and forward), driven from JS.
//! Stateless layers (ReLU, Flatten, ...) and containers (Sequential) are JS over tensor ops.

use crate::{arg, device, get, get_all, js, put, put_r, shape, JsResult};
use lantern::nn::{self, Module};
use lantern::{Conv2dOpts, Tensor};
use wasm_bindgen::prelude::*;

/// A core layer: `forward`, its named parameters and buffers, train/eval mode.
#[wasm_bindgen]
pub struct RawModule(Box<dyn Module>);

fn boxed(r: lantern::Result<impl Module + 'static>) -> JsResult<RawModule> {
    Ok(RawModule(Box::new(r.map_err(js)?)))
}

fn two(v: &[u32], what: &str) -> JsResult<[usize; 2]> {
    match v {
        [a, b] => Ok([*a as usize, *b as usize]),
        _ => Err(arg(what, "expected two values [h, w]")),
    }
}

#[wasm_bindgen]
impl RawModule {
    /// `nn.Linear(in, out, bias)`.
    pub fn linear(inp: u32, out: u32, bias: bool) -> JsResult<RawModule> {
        boxed(nn::Linear::new(inp as usize, out as usize, bias, &device()))
    }

    /// `nn.Conv2d(in, out, kernel, stride, padding, dilation, groups, bias)`.
    #[allow(clippy::too_many_arguments)]
    pub fn conv2d(
        inp: u32,
        out: u32,
        kernel: &[u32],
        stride: &[u32],
        padding: &[u32],
        dilation: &[u32],
        groups: u32,
        bias: bool,
    ) -> JsResult<RawModule> {
        if groups == 0 || inp % groups != 0 || out % groups != 0 {
            return Err(arg(
                "Conv2d",
                format!("in_channels ({inp}) and out_channels ({out}) must be divisible by groups ({groups})"),
            ));
        }
        let opts = Conv2dOpts {
            stride: two(stride, "Conv2d stride")?,
            padding: two(padding, "Conv2d padding")?,
            dilation: two(dilation, "Conv2d dilation")?,
            groups: groups as usize,
        };
        boxed(nn::Conv2d::new(
            inp as usize,
            out as usize,
            two(kernel, "Conv2d kernel_size")?,
            opts,
            bias,
            &device(),
        ))
    }

    /// `nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)`.
    #[wasm_bindgen(js_name = layerNorm)]
    pub fn layer_norm(
        normalized: &[u32],
        eps: f64,
        affine: bool,
        bias: bool,
    ) -> JsResult<RawModule> {
        boxed(nn::LayerNorm::with_options(
            &shape(normalized),
            eps,
            affine,
            bias,
            &device(),
        ))
    }

    /// `nn.BatchNorm1d`/`nn.BatchNorm2d(num_features, eps, momentum, affine, track_running_stats)`.
    #[wasm_bindgen(js_name = batchNorm)]
    pub fn batch_norm(
        dims: u32,
        n: u32,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
        track: bool,
    ) -> JsResult<RawModule> {
        let dev = device();
        match dims {
            1 => boxed(nn::BatchNorm1d::with_options(
                n as usize, eps, momentum, affine, track, &dev,
            )),
            2 => boxed(nn::BatchNorm2d::with_options(
                n as usize, eps, momentum, affine, track, &dev,
            )),
            _ => Err(arg("BatchNorm", "only BatchNorm1d and BatchNorm2d exist")),
        }
    }

    /// `nn.GroupNorm(num_groups, num_channels, eps, affine)`.
    #[wasm_bindgen(js_name = groupNorm)]
    pub fn group_norm(groups: u32, channels: u32, eps: f64, affine: bool) -> JsResult<RawModule> {
        boxed(nn::GroupNorm::with_options(
            groups as usize,
            channels as usize,
            eps,
            affine,
            &device(),
        ))
    }

    /// `nn.Embedding(num_embeddings, embedding_dim, padding_idx)`.
    pub fn embedding(n: u32, dim: u32, padding_idx: Option<i32>) -> JsResult<RawModule> {
        boxed(nn::Embedding::new(
            n as usize,
            dim as usize,
            padding_idx.map(i64::from),
            &device(),
        ))
    }

    /// `nn.LSTM`/`nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout,
    /// bidirectional)`; `forward` returns the output sequence.
    #[allow(clippy::too_many_arguments)]
    pub fn rnn(
        kind: &str,
        input: u32,
        hidden: u32,
        num_layers: u32,
        bias: bool,
        batch_first: bool,
        dropout: f64,
        bidirectional: bool,
    ) -> JsResult<RawModule> {
        let o = nn::RnnOptions {
            num_layers: num_layers as usize,
            bias,
            batch_first,
            dropout,
            bidirectional,
        };
        let (i, h, dev) = (input as usize, hidden as usize, device());
        match kind {
            "LSTM" => boxed(nn::LSTM::with_options(i, h, o, &dev)),
            "GRU" => boxed(nn::GRU::with_options(i, h, o, &dev)),
            _ => Err(arg("rnn", format!("unknown kind '{kind}'"))),
        }
    }

    /// `nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, batch_first)`;
    /// `forward(x)` is self-attention.
    #[wasm_bindgen(js_name = multiheadAttention)]
    pub fn multihead_attention(
        embed_dim: u32,
        heads: u32,
        dropout: f64,
        bias: bool,
        batch_first: bool,
    ) -> JsResult<RawModule> {
        boxed(nn::MultiheadAttention::with_options(
            embed_dim as usize,
            heads as usize,
            dropout,
            bias,
            batch_first,
            &device(),
        ))
    }

    /// `nn.TransformerEncoderLayer(d_model, nhead)` with PyTorch's other defaults.
    #[wasm_bindgen(js_name = transformerEncoderLayer)]
    pub fn transformer_encoder_layer(d_model: u32, nhead: u32) -> JsResult<RawModule> {
        boxed(nn::TransformerEncoderLayer::new(
            d_model as usize,
            nhead as usize,
            &device(),
        ))
    }

    /// Runs the layer.
    pub fn forward(&self, x: u32) -> JsResult<u32> {
        put_r(self.0.forward(&get(x)?))
    }

    /// Parameter names in registration order (PyTorch's keys).
    #[wasm_bindgen(js_name = paramNames)]
    pub fn param_names(&self) -> Vec<String> {
        self.0
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    /// New handles on the parameters, in the order of [`RawModule::param_names`].
    #[wasm_bindgen(js_name = paramIds)]
    pub fn param_ids(&self) -> Vec<u32> {
        self.0
            .named_parameters()
            .into_iter()
            .map(|(_, t)| put(t))
            .collect()
    }

    /// Buffer names (running statistics).
    #[wasm_bindgen(js_name = bufferNames)]
    pub fn buffer_names(&self) -> Vec<String> {
        self.0.named_buffers().into_iter().map(|(n, _)| n).collect()
    }

    /// New handles on the buffers.
    #[wasm_bindgen(js_name = bufferIds)]
    pub fn buffer_ids(&self) -> Vec<u32> {
        self.0
            .named_buffers()
            .into_iter()
            .map(|(_, t)| put(t))
            .collect()
    }

    /// Training (true) or evaluation mode.
    pub fn train(&mut self, mode: bool) {
        self.0.train(mode)
    }
}

/// A state dict assembled in JS (the module tree lives there), checked and loaded by core's
/// `Module::load_state_dict`: same strictness and messages as the Rust API.
struct Named(Vec<(String, Tensor)>);

impl Module for Named {
    fn forward(&self, x: &Tensor) -> lantern::Result<Tensor> {
        Ok(x.clone())
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.0.clone()
    }
}

fn zip(names: Vec<String>, ids: &[u32]) -> JsResult<Vec<(String, Tensor)>> {
    if names.len() != ids.len() {
        return Err(arg(
            "state_dict",
            "internal: names and tensors differ in count",
        ));
    }
    Ok(names.into_iter().zip(get_all(ids)?).collect())
}

/// Copies `src` into `dst` by name (strict: every key present, same shapes and dtypes).
#[wasm_bindgen(js_name = loadStateDict)]
pub fn load_state_dict(
    dst_names: Vec<String>,
    dst: &[u32],
    src_names: Vec<String>,
    src: &[u32],
) -> JsResult<()> {
    let model = Named(zip(dst_names, dst)?);
    model.load_state_dict(&zip(src_names, src)?).map_err(js)
}

/// Names and tensor handles (a state dict crossing into JS).
#[wasm_bindgen]
pub struct NamedTensors {
    names: Vec<String>,
    ids: Vec<u32>,
}

impl NamedTensors {
    pub(crate) fn register(items: Vec<(String, Tensor)>) -> NamedTensors {
        let (names, ts): (Vec<_>, Vec<_>) = items.into_iter().unzip();
        NamedTensors {
            names,
            ids: ts.into_iter().map(put).collect(),
        }
    }
}

#[wasm_bindgen]
impl NamedTensors {
    /// The keys.
    #[wasm_bindgen(getter)]
    pub fn names(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The tensor handles, in key order.
    #[wasm_bindgen(getter)]
    pub fn ids(&self) -> Vec<u32> {
        self.ids.clone()
    }
}

/// Serialises a state dict as safetensors bytes (PyTorch's `safetensors.torch.save`).
#[wasm_bindgen(js_name = saveSafetensors)]
pub fn save_safetensors(names: Vec<String>, ids: &[u32]) -> JsResult<Vec<u8>> {
    lantern::io::save_state_dict(&zip(names, ids)?).map_err(js)
}

/// Parses safetensors bytes (e.g. written by PyTorch) into tensors on the current device.
#[wasm_bindgen(js_name = loadSafetensors)]
pub fn load_safetensors(bytes: &[u8]) -> JsResult<NamedTensors> {
    let items = lantern::io::load_state_dict_to(bytes, &device()).map_err(js)?;
    Ok(NamedTensors::register(items))
}
