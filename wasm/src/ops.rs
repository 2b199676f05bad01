//! Tensor ops by name: one export per op family keeps the wasm small; the JS layer gives each
//! op its own camelCase method.

use crate::{arg, dtype, get, get_all, idims, js, put, put_r, scalar, shape, JsResult};
use lantern::nn::functional as F;
use lantern::ops::BinaryOp;
use lantern::{Conv2dOpts, NormOrd, Tensor};
use wasm_bindgen::prelude::*;

fn unknown(family: &str, op: &str) -> JsError {
    arg(family, format!("unknown op '{op}'"))
}

/// Elementwise unary ops and activations without parameters.
#[wasm_bindgen]
pub fn unary(id: u32, op: &str) -> JsResult<u32> {
    let t = get(id)?;
    put_r(match op {
        "neg" => t.try_neg(),
        "abs" => t.try_abs(),
        "sign" => t.try_sign(),
        "reciprocal" => t.try_reciprocal(),
        "sqrt" => t.try_sqrt(),
        "rsqrt" => t.try_rsqrt(),
        "exp" => t.try_exp(),
        "exp2" => t.try_exp2(),
        "expm1" => t.try_expm1(),
        "log" => t.try_log(),
        "log2" => t.try_log2(),
        "log1p" => t.try_log1p(),
        "sin" => t.try_sin(),
        "cos" => t.try_cos(),
        "tanh" => t.try_tanh(),
        "erf" => t.try_erf(),
        "floor" => t.try_floor(),
        "ceil" => t.try_ceil(),
        "round" => t.try_round(),
        "trunc" => t.try_trunc(),
        "logicalNot" => t.try_logical_not(),
        "sigmoid" => t.try_sigmoid(),
        "relu" => t.try_relu(),
        "silu" => t.try_silu(),
        "gelu" => t.try_gelu(false),
        "geluTanh" => t.try_gelu(true),
        "square" => t.try_mul(&t),
        "detach" => Ok(t.detach()),
        "contiguous" => t.try_contiguous(),
        "t" => t.try_t(),
        "zerosLike" => t.try_zeros_like(),
        "onesLike" => t.try_ones_like(),
        "randLike" => t.try_rand_like(),
        "randnLike" => t.try_randn_like(),
        "bernoulli" => t.try_bernoulli(),
        "clone" => t.try_zeros_like().and_then(|z| {
            z.try_copy_(&t)?;
            Ok(z)
        }),
        _ => return Err(unknown("unary", op)),
    })
}

/// Unary ops with one float parameter.
#[wasm_bindgen(js_name = unaryParam)]
pub fn unary_param(id: u32, op: &str, p: f64, q: f64) -> JsResult<u32> {
    let t = get(id)?;
    put_r(match op {
        "powScalar" => t.try_pow_scalar(scalar(p)),
        "leakyRelu" => F::leaky_relu(&t, p),
        "softplus" => t.try_softplus(p, q),
        "fullLike" => t.try_full_like(scalar(p)),
        _ => return Err(unknown("unary", op)),
    })
}

fn binary_op(op: &str) -> JsResult<BinaryOp> {
    Ok(match op {
        "add" => BinaryOp::Add,
        "sub" => BinaryOp::Sub,
        "mul" => BinaryOp::Mul,
        "div" => BinaryOp::Div,
        "pow" => BinaryOp::Pow,
        "remainder" => BinaryOp::Rem,
        "floorDivide" => BinaryOp::FloorDiv,
        "maximum" => BinaryOp::Maximum,
        "minimum" => BinaryOp::Minimum,
        "eq" => BinaryOp::Eq,
        "ne" => BinaryOp::Ne,
        "lt" => BinaryOp::Lt,
        "le" => BinaryOp::Le,
        "gt" => BinaryOp::Gt,
        "ge" => BinaryOp::Ge,
        "logicalAnd" => BinaryOp::LogicalAnd,
        "logicalOr" => BinaryOp::LogicalOr,
        "logicalXor" => BinaryOp::LogicalXor,
        "bitwiseAnd" => BinaryOp::BitAnd,
        "bitwiseOr" => BinaryOp::BitOr,
        "bitwiseXor" => BinaryOp::BitXor,
        _ => return Err(unknown("binary", op)),
    })
}

/// `a ⊕ b` with broadcasting and PyTorch's type promotion.
#[wasm_bindgen]
pub fn binary(a: u32, b: u32, op: &str) -> JsResult<u32> {
    let op = binary_op(op)?;
    put_r(get(a)?.try_binary(&get(b)?, op))
}

/// `a ⊕ s` (or `s ⊕ a` when `reverse`); the scalar keeps the tensor's dtype unless it is a
/// float on an int tensor (PyTorch's wrapped-number rule).
#[wasm_bindgen(js_name = binaryScalar)]
pub fn binary_scalar(a: u32, s: f64, op: &str, reverse: bool) -> JsResult<u32> {
    let op = binary_op(op)?;
    put_r(get(a)?.try_binary_scalar(scalar(s), op, reverse))
}

/// In-place `a.op_(b)`: `add_`, `sub_`, `mul_`, `div_`, `copy_`.
#[wasm_bindgen]
pub fn inplace(a: u32, b: u32, op: &str) -> JsResult<()> {
    let (a, b) = (get(a)?, get(b)?);
    match op {
        "add_" => a.try_add_(&b),
        "sub_" => a.try_sub_(&b),
        "mul_" => a.try_mul_(&b),
        "div_" => a.try_div_(&b),
        "copy_" => a.try_copy_(&b),
        _ => return Err(unknown("inplace", op)),
    }
    .map_err(js)?;
    Ok(())
}

/// In-place with a scalar: `add_`, `mul_`, `fill_`.
#[wasm_bindgen(js_name = inplaceScalar)]
pub fn inplace_scalar(a: u32, s: f64, op: &str) -> JsResult<()> {
    let a = get(a)?;
    match op {
        "add_" => a.try_add_scalar_(scalar(s)),
        "mul_" => a.try_mul_scalar_(scalar(s)),
        "fill_" => a.try_fill_(scalar(s)),
        _ => return Err(unknown("inplace", op)),
    }
    .map_err(js)?;
    Ok(())
}

/// `torch.where(cond, x, y)`.
#[wasm_bindgen(js_name = whereOp)]
pub fn where_op(c: u32, x: u32, y: u32) -> JsResult<u32> {
    put_r(Tensor::try_where(&get(c)?, &get(x)?, &get(y)?))
}

/// `t.masked_fill(mask, value)`.
#[wasm_bindgen(js_name = maskedFill)]
pub fn masked_fill(id: u32, mask: u32, v: f64) -> JsResult<u32> {
    put_r(get(id)?.try_masked_fill(&get(mask)?, scalar(v)))
}

/// `t.clamp(min, max)`.
#[wasm_bindgen]
pub fn clamp(id: u32, min: Option<f64>, max: Option<f64>) -> JsResult<u32> {
    put_r(get(id)?.try_clamp(min, max))
}

/// `a @ b` (batched, broadcasting).
#[wasm_bindgen]
pub fn matmul(a: u32, b: u32) -> JsResult<u32> {
    put_r(get(a)?.try_matmul(&get(b)?))
}

/// `t.to(dtype)`.
#[wasm_bindgen(js_name = toDtype)]
pub fn to_dtype(id: u32, dtype_name: &str) -> JsResult<u32> {
    put_r(get(id)?.try_to_dtype(dtype(dtype_name)?))
}

// ---------------------------------------------------------------------------- reductions

/// Reductions over `dims` (None: all): sum, mean, prod, amax, amin, logsumexp.
#[wasm_bindgen]
pub fn reduce(id: u32, op: &str, dims: Option<Vec<i32>>, keepdim: bool) -> JsResult<u32> {
    let t = get(id)?;
    let d = dims.as_deref().map(idims);
    let d = d.as_deref();
    put_r(match op {
        "sum" => t.try_sum(d, keepdim),
        "mean" => t.try_mean(d, keepdim),
        "prod" => t.try_prod(d, keepdim),
        "amax" => t.try_amax(d, keepdim),
        "amin" => t.try_amin(d, keepdim),
        "logsumexp" => {
            let all: Vec<isize> = (0..t.rank() as isize).collect();
            t.try_logsumexp(d.unwrap_or(&all), keepdim)
        }
        _ => return Err(unknown("reduce", op)),
    })
}

/// `var`/`std` with Bessel's `correction`.
#[wasm_bindgen]
pub fn moments(
    id: u32,
    op: &str,
    dims: Option<Vec<i32>>,
    correction: f64,
    keepdim: bool,
) -> JsResult<u32> {
    let t = get(id)?;
    let d = dims.as_deref().map(idims);
    put_r(match op {
        "var" => t.try_var(d.as_deref(), correction, keepdim),
        "std" => t.try_std(d.as_deref(), correction, keepdim),
        _ => return Err(unknown("reduce", op)),
    })
}

/// `torch.linalg.vector_norm(t, ord, dims)`; `ord` ±Infinity for the max/min norms.
#[wasm_bindgen]
pub fn norm(id: u32, ord: f64, dims: Option<Vec<i32>>, keepdim: bool) -> JsResult<u32> {
    let o = if ord == f64::INFINITY {
        NormOrd::Inf
    } else if ord == f64::NEG_INFINITY {
        NormOrd::NegInf
    } else {
        NormOrd::P(ord)
    };
    let d = dims.as_deref().map(idims);
    put_r(get(id)?.try_norm(o, d.as_deref(), keepdim))
}

/// `argmax`/`argmin` (None: over the flattened tensor).
#[wasm_bindgen]
pub fn argreduce(id: u32, op: &str, dim: Option<i32>, keepdim: bool) -> JsResult<u32> {
    let t = get(id)?;
    let d = dim.map(|d| d as isize);
    put_r(match op {
        "argmax" => t.try_argmax(d, keepdim),
        "argmin" => t.try_argmin(d, keepdim),
        _ => return Err(unknown("reduce", op)),
    })
}

/// `max`/`min` along `dim`: `[values, indices]`; without a dim, the 0-dim max/min.
#[wasm_bindgen(js_name = maxMin)]
pub fn max_min(id: u32, op: &str, dim: Option<i32>, keepdim: bool) -> JsResult<Vec<u32>> {
    let t = get(id)?;
    let r = match (op, dim) {
        ("max", None) => t.try_max_all().map(|v| vec![v]),
        ("min", None) => t.try_min_all().map(|v| vec![v]),
        ("max", Some(d)) => t.try_max_dim(d as isize, keepdim).map(|(v, i)| vec![v, i]),
        ("min", Some(d)) => t.try_min_dim(d as isize, keepdim).map(|(v, i)| vec![v, i]),
        _ => return Err(unknown("reduce", op)),
    };
    Ok(r.map_err(js)?.into_iter().map(put).collect())
}

/// Ops along one dim: cumsum, cumprod, softmax, logSoftmax, squeeze/unsqueeze, select.
#[wasm_bindgen(js_name = alongDim)]
pub fn along_dim(id: u32, op: &str, dim: i32) -> JsResult<u32> {
    let t = get(id)?;
    let d = dim as isize;
    put_r(match op {
        "cumsum" => t.try_cumsum(d),
        "cumprod" => t.try_cumprod(d),
        "softmax" => t.try_softmax(d),
        "logSoftmax" => t.try_log_softmax(d),
        "unsqueeze" => t.try_unsqueeze(d),
        _ => return Err(unknown("dim op", op)),
    })
}

// ---------------------------------------------------------------------------- views

/// Ops that take a list of ints: reshape, view, permute, expand, pad (with `value`).
#[wasm_bindgen(js_name = withDims)]
pub fn with_dims(id: u32, op: &str, dims: &[i32], value: f64) -> JsResult<u32> {
    let t = get(id)?;
    let d = idims(dims);
    put_r(match op {
        "reshape" => t.try_reshape(&d),
        "view" => t.try_view(&d),
        "permute" => t.try_permute(&d),
        "expand" => t.try_expand(&d),
        "pad" => t.try_pad(&d, value),
        _ => return Err(unknown("view", op)),
    })
}

/// `squeeze(dim)`; all size-1 dims when `dim` is None.
#[wasm_bindgen]
pub fn squeeze(id: u32, dim: Option<i32>) -> JsResult<u32> {
    put_r(get(id)?.try_squeeze(dim.map(|d| d as isize)))
}

/// Ops on two dims or a dim and an index: transpose, flatten, select.
#[wasm_bindgen(js_name = twoInts)]
pub fn two_ints(id: u32, op: &str, a: i32, b: i32) -> JsResult<u32> {
    let t = get(id)?;
    let (a, b) = (a as isize, b as isize);
    put_r(match op {
        "transpose" => t.try_transpose(a, b),
        "flatten" => t.try_flatten(a, b),
        "select" => t.try_select(a, b),
        _ => return Err(unknown("view", op)),
    })
}

/// `narrow(dim, start, length)`.
#[wasm_bindgen]
pub fn narrow(id: u32, dim: i32, start: u32, length: u32) -> JsResult<u32> {
    put_r(get(id)?.try_narrow(dim as isize, start as usize, length as usize))
}

/// Python slicing `t[start:end:step]` along `dim`.
#[wasm_bindgen]
pub fn slice(id: u32, dim: i32, start: i32, end: Option<i32>, step: u32) -> JsResult<u32> {
    put_r(get(id)?.try_slice(
        dim as isize,
        start as isize,
        end.map(|e| e as isize),
        step as usize,
    ))
}

/// `unflatten(dim, sizes)`.
#[wasm_bindgen]
pub fn unflatten(id: u32, dim: i32, sizes: &[i32]) -> JsResult<u32> {
    put_r(get(id)?.try_unflatten(dim as isize, &idims(sizes)))
}

/// `torch.cat`/`torch.stack` along `dim`.
#[wasm_bindgen]
pub fn join(ids: &[u32], op: &str, dim: i32) -> JsResult<u32> {
    let ts = get_all(ids)?;
    put_r(match op {
        "cat" => Tensor::try_cat(&ts, dim as isize),
        "stack" => Tensor::try_stack(&ts, dim as isize),
        _ => return Err(unknown("join", op)),
    })
}

/// `split(size, dim)` or `chunk(chunks, dim)`.
#[wasm_bindgen]
pub fn split(id: u32, op: &str, n: u32, dim: i32) -> JsResult<Vec<u32>> {
    let t = get(id)?;
    let parts = match op {
        "split" => t.try_split(n as usize, dim as isize),
        "chunk" => t.try_chunk(n as usize, dim as isize),
        _ => return Err(unknown("split", op)),
    }
    .map_err(js)?;
    Ok(parts.into_iter().map(put).collect())
}

// ---------------------------------------------------------------------------- indexing

/// `gather`, `indexSelect` along `dim` with an int64 index.
#[wasm_bindgen]
pub fn index(id: u32, op: &str, dim: i32, idx: u32) -> JsResult<u32> {
    let (t, i) = (get(id)?, get(idx)?);
    put_r(match op {
        "gather" => t.try_gather(dim as isize, &i),
        "indexSelect" => t.try_index_select(dim as isize, &i),
        _ => return Err(unknown("index", op)),
    })
}

/// `t.scatter_add(dim, index, src)` (out of place).
#[wasm_bindgen(js_name = scatterAdd)]
pub fn scatter_add(id: u32, dim: i32, idx: u32, src: u32) -> JsResult<u32> {
    put_r(get(id)?.try_scatter_add(dim as isize, &get(idx)?, &get(src)?))
}

/// `F.one_hot(t, num_classes)`; `num_classes` 0 infers it from the data.
#[wasm_bindgen(js_name = oneHot)]
pub fn one_hot(id: u32, num_classes: u32) -> JsResult<u32> {
    let n = (num_classes > 0).then_some(num_classes as usize);
    put_r(get(id)?.try_one_hot(n))
}

// ---------------------------------------------------------------------------- nn functional

fn pair(v: &[u32], what: &str) -> JsResult<[usize; 2]> {
    match v {
        [a, b] => Ok([*a as usize, *b as usize]),
        _ => Err(arg(what, "expected two values [h, w]")),
    }
}

/// `F.conv2d(x, weight, bias, stride, padding, dilation, groups)`.
#[wasm_bindgen]
pub fn conv2d(
    x: u32,
    w: u32,
    b: Option<u32>,
    stride: &[u32],
    padding: &[u32],
    dilation: &[u32],
    groups: u32,
) -> JsResult<u32> {
    let opts = Conv2dOpts {
        stride: pair(stride, "conv2d stride")?,
        padding: pair(padding, "conv2d padding")?,
        dilation: pair(dilation, "conv2d dilation")?,
        groups: groups as usize,
    };
    let b = b.map(get).transpose()?;
    put_r(get(x)?.try_conv2d(&get(w)?, b.as_ref(), opts))
}

/// `F.max_pool2d`/`F.avg_pool2d` (`count_include_pad` as PyTorch's default).
#[wasm_bindgen]
pub fn pool2d(x: u32, op: &str, kernel: &[u32], stride: &[u32], padding: &[u32]) -> JsResult<u32> {
    let t = get(x)?;
    let (k, s, p) = (pair(kernel, op)?, pair(stride, op)?, pair(padding, op)?);
    put_r(match op {
        "maxPool2d" => t.try_max_pool2d(k, s, p, [1, 1]),
        "avgPool2d" => t.try_avg_pool2d(k, s, p, true),
        "adaptiveAvgPool2d" => F::adaptive_avg_pool2d(&t, k),
        _ => return Err(unknown("pool", op)),
    })
}

/// `F.dropout(x, p, training)`.
#[wasm_bindgen]
pub fn dropout(x: u32, p: f64, training: bool) -> JsResult<u32> {
    put_r(F::dropout(&get(x)?, p, training))
}

/// `F.layer_norm(x, normalized_shape, weight, bias, eps)`.
#[wasm_bindgen(js_name = layerNorm)]
pub fn layer_norm(
    x: u32,
    normalized: &[u32],
    w: Option<u32>,
    b: Option<u32>,
    eps: f64,
) -> JsResult<u32> {
    let (w, b) = (w.map(get).transpose()?, b.map(get).transpose()?);
    put_r(F::layer_norm(
        &get(x)?,
        &shape(normalized),
        w.as_ref(),
        b.as_ref(),
        eps,
    ))
}

/// `F.embedding(idx, weight)`.
#[wasm_bindgen]
pub fn embedding(idx: u32, weight: u32) -> JsResult<u32> {
    put_r(F::embedding(&get(idx)?, &get(weight)?, None))
}

fn reduction(r: &str) -> JsResult<F::Reduction> {
    Ok(match r {
        "mean" => F::Reduction::Mean,
        "sum" => F::Reduction::Sum,
        "none" => F::Reduction::None,
        _ => {
            return Err(arg(
                "loss",
                format!("reduction must be 'mean', 'sum' or 'none', got '{r}'"),
            ))
        }
    })
}

/// Losses with PyTorch's options: `p` is `label_smoothing` (cross entropy), `beta`
/// (smooth L1), `delta` (Huber) or unused; `ignore_index` for the class losses; `weight`
/// for class weights (cross entropy, NLL) or element weights (BCE).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn loss(
    op: &str,
    input: u32,
    target: u32,
    red: &str,
    p: f64,
    ignore_index: f64,
    weight: Option<u32>,
    pos_weight: Option<u32>,
) -> JsResult<u32> {
    let (x, y, r) = (get(input)?, get(target)?, reduction(red)?);
    let w = weight.map(get).transpose()?;
    let pw = pos_weight.map(get).transpose()?;
    let class_opts = F::CrossEntropyOptions {
        weight: w.clone(),
        ignore_index: ignore_index as i64,
        reduction: r,
        label_smoothing: p,
    };
    put_r(match op {
        "crossEntropy" => F::cross_entropy_ext(&x, &y, &class_opts),
        "nllLoss" => F::nll_loss_ext(&x, &y, &class_opts),
        "mseLoss" => F::mse_loss(&x, &y, r),
        "l1Loss" => F::l1_loss(&x, &y, r),
        "smoothL1Loss" => F::smooth_l1_loss(&x, &y, r, p),
        "huberLoss" => F::huber_loss(&x, &y, r, p),
        "binaryCrossEntropy" => F::binary_cross_entropy(&x, &y, w.as_ref(), r),
        "binaryCrossEntropyWithLogits" => {
            F::binary_cross_entropy_with_logits(&x, &y, w.as_ref(), pw.as_ref(), r)
        }
        "klDiv" => F::kl_div(&x, &y, r, p != 0.0),
        _ => return Err(unknown("loss", op)),
    })
}

/// `F.scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)`.
#[wasm_bindgen(js_name = scaledDotProductAttention)]
pub fn scaled_dot_product_attention(
    q: u32,
    k: u32,
    v: u32,
    mask: Option<u32>,
    dropout_p: f64,
    is_causal: bool,
) -> JsResult<u32> {
    let m = mask.map(get).transpose()?;
    put_r(F::scaled_dot_product_attention(
        &get(q)?,
        &get(k)?,
        &get(v)?,
        m.as_ref(),
        dropout_p,
        is_causal,
        None,
    ))
}

/// `torch.nn.utils.clip_grad_norm_` over the parameters; returns the total norm's handle.
#[wasm_bindgen(js_name = clipGradNorm)]
pub fn clip_grad_norm(ids: &[u32], max_norm: f64, norm_type: f64) -> JsResult<u32> {
    put_r(lantern::optim::clip_grad_norm_(
        &get_all(ids)?,
        max_norm,
        norm_type,
    ))
}

/// `torch.nn.utils.clip_grad_value_`.
#[wasm_bindgen(js_name = clipGradValue)]
pub fn clip_grad_value(ids: &[u32], clip: f64) -> JsResult<()> {
    lantern::optim::clip_grad_value_(&get_all(ids)?, clip).map_err(js)
}

/// Registers an existing tensor again (a second JS handle on the same tensor).
#[wasm_bindgen]
pub fn alias(id: u32) -> JsResult<u32> {
    Ok(put(get(id)?))
}
