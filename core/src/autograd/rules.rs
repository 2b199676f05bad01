//! Backward rules: one arm per recorded op, written only with public tensor ops, so they
//! run on every driver and record again under `create_graph` (STYLE.md §3).

use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{Layout, Shape};
use crate::ops::{BinaryOp, PrimOp, UnaryOp};
use crate::tensor::Tensor;
use alloc::vec::Vec;
use smallvec::{smallvec, SmallVec};

/// What a node computed, with the parameters its backward needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum GradOp {
    /// A unary primitive; saved `[x, y]`.
    Unary(UnaryOp),
    /// A binary primitive on broadcast operands; saved `[a, b, y]`.
    Binary(BinaryOp),
    /// `where(cond, x, y)`; inputs `[cond, x, y]`, saved `[cond]`.
    Where,
    /// Sum over axes with keepdim output; backward expands back to `in_shape`.
    Sum {
        /// The input's shape.
        in_shape: Shape,
    },
    /// Product over axes (keepdim); saved `[x, y]`.
    Prod,
    /// Max or min over axes (keepdim); ties share the gradient equally. Saved `[x, y]`.
    MaxMin {
        /// Reduced axes.
        axes: SmallVec<[usize; 6]>,
    },
    /// `alpha · a @ b`; saved `[a, b]`.
    Matmul {
        /// Product scale.
        alpha: f64,
    },
    /// Gather along `dim`; inputs `[x, index]`, saved `[index]`.
    Gather {
        /// Axis.
        dim: usize,
        /// Input shape.
        in_shape: Shape,
    },
    /// index_select along `dim`; inputs `[x, index]`, saved `[index]`.
    IndexSelect {
        /// Axis.
        dim: usize,
        /// Input shape.
        in_shape: Shape,
    },
    /// `self + scatter(src)` along `dim`; inputs `[self, index, src]`, saved `[index]`.
    ScatterAdd {
        /// Axis.
        dim: usize,
    },
    /// Cumulative sum along `dim`.
    CumSum {
        /// Axis.
        dim: usize,
    },
    /// Cumulative product along `dim`; saved `[x, y]`.
    CumProd {
        /// Axis.
        dim: usize,
    },
    /// A dense copy (contiguous).
    Copy,
    /// A dtype conversion from `from`.
    Cast {
        /// The input's dtype.
        from: DType,
    },
    /// A move from `from` to another device.
    ToDevice {
        /// The input's device.
        from: Device,
    },
    /// A shape change of the same elements (view, reshape, squeeze, unsqueeze, flatten).
    Reshape {
        /// The input's shape.
        in_shape: Shape,
    },
    /// A permutation of dims.
    Permute {
        /// `out.dim(i) = in.dim(perm[i])`.
        perm: SmallVec<[usize; 6]>,
    },
    /// A broadcast (expand); backward is `sum_to(in_shape)`.
    Expand {
        /// The input's shape.
        in_shape: Shape,
    },
    /// `x[start : start + len*step : step]` along `dim` of an input of size `in_len` there.
    Slice {
        /// Axis.
        dim: usize,
        /// First index.
        start: usize,
        /// Step.
        step: usize,
        /// The input's shape.
        in_shape: Shape,
    },
    /// Removes `dim` by picking `index`.
    Select {
        /// Axis.
        dim: usize,
        /// Index.
        index: usize,
        /// The input's shape.
        in_shape: Shape,
    },
    /// The inverse of `Slice`: the input embedded into zeros of `out_shape`.
    SliceOf {
        /// Axis.
        dim: usize,
        /// First index.
        start: usize,
        /// Step.
        step: usize,
        /// Number of input elements along `dim`.
        len: usize,
    },
    /// Sliding windows `[N, C, OH, OW, KH, KW]` of a `[N, C, H, W]` input (a strided view).
    Windows {
        /// Kernel, output, stride, dilation.
        k: [usize; 2],
        /// Output size.
        o: [usize; 2],
        /// Stride.
        s: [usize; 2],
        /// Dilation.
        d: [usize; 2],
        /// Input `[H, W]`.
        hw: [usize; 2],
    },
    /// The adjoint of `Windows` (col2im): windows summed back onto a `[N, C, H, W]` grid.
    Col2Im {
        /// Kernel.
        k: [usize; 2],
        /// Output size of the forward windows.
        o: [usize; 2],
        /// Stride.
        s: [usize; 2],
        /// Dilation.
        d: [usize; 2],
    },
    /// 2-D convolution; inputs `[x, w]` or `[x, w, bias]`, saved `[x, w]`.
    Conv2d {
        /// Stride, padding, dilation, groups.
        opts: crate::tensor::Conv2dOpts,
        /// The input's `[H, W]`.
        hw: [usize; 2],
    },
    /// 2-D max pooling; saved `[indices]` (each maximum's flat position in its `H·W` plane).
    MaxPool2d {
        /// The input's `[H, W]`.
        hw: [usize; 2],
    },
    /// Concatenation along `dim` of pieces of these sizes.
    Cat {
        /// Axis.
        dim: usize,
        /// Each input's size along `dim`.
        sizes: Vec<usize>,
    },
    /// Constant padding (negative = crop).
    Pad {
        /// The pad amounts, last dim first.
        pad: Vec<isize>,
    },
    /// `max(x, 0)` with gradient 0 at 0 (not the ½ a `maximum` tie would give); saved `[y]`.
    Relu,
    /// Clamp: the gradient passes where `min <= x <= max`; saved `[x]`.
    Clamp {
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
    },
    /// Softplus; saved `[x]`.
    Softplus {
        /// β.
        beta: f64,
        /// Linear above this.
        threshold: f64,
    },
    /// Sigmoid; saved `[x, y]`.
    Sigmoid,
    /// GELU; saved `[x, y]`.
    Gelu {
        /// Tanh approximation.
        tanh: bool,
    },
    /// SiLU; saved `[x, y]`.
    Silu,
    /// Layer norm over the last `k` dims; inputs `[x]`, `[x, weight]`, `[x, bias]` or
    /// `[x, weight, bias]`, saved `[x, mean, rstd]` and the weight if any.
    LayerNorm {
        /// Normalised trailing dims.
        k: usize,
        /// Added to the variance.
        eps: f64,
        /// A weight is input 1.
        weight: bool,
        /// A bias is the last input.
        bias: bool,
    },
    /// Softmax along `dim`; saved `[y]`.
    Softmax {
        /// Axis.
        dim: usize,
    },
    /// Log-softmax along `dim`; saved `[y]`.
    LogSoftmax {
        /// Axis.
        dim: usize,
    },
}

impl GradOp {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            GradOp::Unary(u) => u.name(),
            GradOp::Binary(b) => b.name(),
            GradOp::Where => "where",
            GradOp::Sum { .. } => "sum",
            GradOp::Prod => "prod",
            GradOp::MaxMin { .. } => "amax/amin",
            GradOp::Matmul { .. } => "matmul",
            GradOp::Gather { .. } => "gather",
            GradOp::IndexSelect { .. } => "index_select",
            GradOp::ScatterAdd { .. } => "scatter_add",
            GradOp::CumSum { .. } => "cumsum",
            GradOp::CumProd { .. } => "cumprod",
            GradOp::Copy => "contiguous",
            GradOp::Cast { .. } => "to_dtype",
            GradOp::ToDevice { .. } => "to_device",
            GradOp::Reshape { .. } => "reshape",
            GradOp::Permute { .. } => "permute",
            GradOp::Expand { .. } => "expand",
            GradOp::Slice { .. } => "slice",
            GradOp::Select { .. } => "select",
            GradOp::SliceOf { .. } => "slice_backward",
            GradOp::Windows { .. } => "unfold",
            GradOp::Col2Im { .. } => "fold",
            GradOp::Conv2d { .. } => "conv2d",
            GradOp::MaxPool2d { .. } => "max_pool2d",
            GradOp::Cat { .. } => "cat",
            GradOp::Pad { .. } => "pad",
            GradOp::Relu => "relu",
            GradOp::Clamp { .. } => "clamp",
            GradOp::Softplus { .. } => "softplus",
            GradOp::Sigmoid => "sigmoid",
            GradOp::Gelu { .. } => "gelu",
            GradOp::Silu => "silu",
            GradOp::LayerNorm { .. } => "layer_norm",
            GradOp::Softmax { .. } => "softmax",
            GradOp::LogSoftmax { .. } => "log_softmax",
        }
    }
}

type Grads = SmallVec<[Option<Tensor>; 3]>;

/// Sums `g` down to `shape` (undoes broadcasting), once, for every rule.
pub fn sum_to(g: &Tensor, shape: &Shape) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.rank() - shape.rank();
    let mut axes: Vec<isize> = (0..lead as isize).collect();
    for (i, &d) in shape.dims().iter().enumerate() {
        if d == 1 && g.dims()[lead + i] != 1 {
            axes.push((lead + i) as isize);
        }
    }
    let s = if axes.is_empty() {
        g.clone()
    } else {
        g.try_sum(Some(&axes), true)?
    };
    s.try_reshape_to(shape.dims())
}

fn zero_grad_like(x: &Tensor) -> Result<Option<Tensor>> {
    Ok(Some(x.detach().try_zeros_like()?))
}

/// The embedding of a slice's gradient into zeros of the input's shape (differentiable).
pub(crate) fn slice_of(
    g: &Tensor,
    in_shape: &Shape,
    dim: usize,
    start: usize,
    step: usize,
) -> Result<Tensor> {
    let out = Tensor::try_zeros(in_shape.clone(), g.dtype(), g.device())?;
    let view = out.raw_slice(dim, start, g.dims()[dim], step);
    Tensor::exec(&PrimOp::Copy, &[g], &view)?;
    let len = g.dims()[dim];
    Ok(crate::autograd::record(
        out,
        GradOp::SliceOf {
            dim,
            start,
            step,
            len,
        },
        &[g],
        |_| smallvec![],
    ))
}

/// col2im: sums windows `[N, C, OH, OW, KH, KW]` back onto `[N, C, H, W]` (differentiable).
pub(crate) fn col2im(
    g: &Tensor,
    hw: [usize; 2],
    k: [usize; 2],
    o: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
) -> Result<Tensor> {
    let (n, c) = (g.dims()[0], g.dims()[1]);
    let out = Tensor::try_zeros([n, c, hw[0], hw[1]], g.dtype(), g.device())?;
    let st = out.strides().to_vec();
    for kh in 0..k[0] {
        for kw in 0..k[1] {
            // Window tap (kh, kw) of every output position: a non-overlapping strided view.
            let dst = out.raw_view(Layout {
                shape: Shape::new(&[n, c, o[0], o[1]]),
                strides: smallvec![st[0], st[1], s[0] * st[2], s[1] * st[3]],
                offset: kh * d[0] * st[2] + kw * d[1] * st[3],
            });
            let src = g.try_select(5, kw as isize)?.try_select(4, kh as isize)?;
            let src = crate::autograd::with_grad_mode(false, || src.try_contiguous())?;
            Tensor::exec(&PrimOp::Binary(BinaryOp::Add), &[&dst, &src], &dst)?;
        }
    }
    Ok(crate::autograd::record(
        out,
        GradOp::Col2Im { k, o, s, d },
        &[g],
        |_| smallvec![],
    ))
}

fn inverse(perm: &[usize]) -> Vec<isize> {
    let mut inv = alloc::vec![0isize; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i as isize;
    }
    inv
}

const LN_2: f64 = core::f64::consts::LN_2;

/// Gradients of one node's inputs given its output gradient `g`. `needs[i]` is false for
/// inputs that need none (their slot may be `None`).
pub fn backward(op: &GradOp, saved: &[Tensor], g: &Tensor, needs: &[bool]) -> Result<Grads> {
    let s = |i: usize| -> Result<&Tensor> {
        saved.get(i).ok_or_else(|| {
            Error::Autograd(alloc::format!(
                "internal: {} saved too few tensors",
                op.name()
            ))
        })
    };
    Ok(match op {
        GradOp::Unary(u) => {
            let (x, y) = (s(0)?, s(1)?);
            use UnaryOp::*;
            let gx = match u {
                Neg => g.try_neg()?,
                Abs => g.try_mul(&x.try_sign()?)?,
                Sign | Floor | Ceil | Round | Trunc => return Ok(smallvec![zero_grad_like(x)?]),
                Recip => g.try_mul(&y.try_mul(y)?)?.try_neg()?,
                Sqrt => g.try_div(&y.try_mul_scalar(2.0)?)?,
                Rsqrt => g
                    .try_mul(&y.try_mul(y)?.try_mul(y)?)?
                    .try_mul_scalar(-0.5)?,
                Exp => g.try_mul(y)?,
                Exp2 => g.try_mul(y)?.try_mul_scalar(LN_2)?,
                Expm1 => g.try_mul(&y.try_add_scalar(1.0)?)?,
                Log => g.try_div(x)?,
                Log2 => g.try_div(&x.try_mul_scalar(LN_2)?)?,
                Log1p => g.try_div(&x.try_add_scalar(1.0)?)?,
                Sin => g.try_mul(&x.try_cos()?)?,
                Cos => g.try_mul(&x.try_sin()?)?.try_neg()?,
                Tanh => g.try_mul(&y.try_mul(y)?.try_neg()?.try_add_scalar(1.0)?)?,
                Erf => {
                    let e = x.try_mul(x)?.try_neg()?.try_exp()?;
                    g.try_mul(&e)?
                        .try_mul_scalar(core::f64::consts::FRAC_2_SQRT_PI)?
                }
                LogicalNot => return Ok(smallvec![None]),
            };
            smallvec![Some(gx)]
        }
        GradOp::Binary(b) => {
            let (a, bb, y) = (s(0)?, s(1)?, s(2)?);
            use BinaryOp::*;
            let (ga, gb) = match b {
                Add => (Some(g.clone()), Some(g.clone())),
                Sub => (Some(g.clone()), Some(g.try_neg()?)),
                Mul => (
                    needs[0].then(|| g.try_mul(bb)).transpose()?,
                    needs[1].then(|| g.try_mul(a)).transpose()?,
                ),
                Div => (
                    needs[0].then(|| g.try_div(bb)).transpose()?,
                    needs[1]
                        .then(|| g.try_mul(y)?.try_div(bb)?.try_neg())
                        .transpose()?,
                ),
                Pow => {
                    let ga = needs[0]
                        .then(|| {
                            g.try_mul(bb)?
                                .try_mul(&a.try_pow(&bb.try_sub_scalar(1.0)?)?)
                        })
                        .transpose()?;
                    // d/db a^b = a^b ln a; PyTorch masks a == 0 (where b >= 0) to 0.
                    let gb = needs[1]
                        .then(|| -> Result<Tensor> {
                            let zero = a.try_eq_scalar(0.0)?;
                            let safe = Tensor::try_where(&zero, &a.try_ones_like()?, a)?;
                            g.try_mul(y)?.try_mul(&safe.try_log()?)
                        })
                        .transpose()?;
                    (ga, gb)
                }
                Rem => (
                    Some(g.clone()),
                    needs[1]
                        .then(|| g.try_mul(&a.try_floor_divide(bb)?)?.try_neg())
                        .transpose()?,
                ),
                Maximum | Minimum => {
                    // Ties split the gradient ½/½, as torch.maximum does.
                    let (wa, wb) = if *b == Maximum {
                        (a.try_gt(bb)?, bb.try_gt(a)?)
                    } else {
                        (a.try_lt(bb)?, bb.try_lt(a)?)
                    };
                    let tie = a.try_eq(bb)?.try_to_dtype(g.dtype())?.try_mul_scalar(0.5)?;
                    let ma = wa.try_to_dtype(g.dtype())?.try_add(&tie)?;
                    let mb = wb.try_to_dtype(g.dtype())?.try_add(&tie)?;
                    (Some(g.try_mul(&ma)?), Some(g.try_mul(&mb)?))
                }
                FloorDiv => (zero_grad_like(a)?, zero_grad_like(bb)?),
                Eq | Ne | Lt | Le | Gt | Ge | LogicalAnd | LogicalOr | LogicalXor | BitAnd
                | BitOr | BitXor => (None, None),
            };
            smallvec![ga, gb]
        }
        GradOp::Where => {
            let c = s(0)?;
            let z = g.detach().try_zeros_like()?;
            smallvec![
                None,
                needs[1].then(|| Tensor::try_where(c, g, &z)).transpose()?,
                needs[2].then(|| Tensor::try_where(c, &z, g)).transpose()?
            ]
        }
        GradOp::Sum { in_shape } => smallvec![Some(g.try_broadcast_to(in_shape.dims())?)],
        GradOp::Prod => {
            let (x, y) = (s(0)?, s(1)?);
            smallvec![Some(g.try_mul(y)?.try_div(x)?)]
        }
        GradOp::MaxMin { axes } => {
            let (x, y) = (s(0)?, s(1)?);
            let mask = x.try_eq(y)?.try_to_dtype(g.dtype())?;
            let ax: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            let count = mask.try_sum(Some(&ax), true)?;
            smallvec![Some(mask.try_mul(&g.try_div(&count)?)?)]
        }
        GradOp::Matmul { alpha } => {
            let (a, b) = (s(0)?, s(1)?);
            // A transposed operand (Linear's `w.t()`) gets its gradient in its own layout,
            // `(gᵀ a)ᵀ`, as PyTorch's mm backward does: the transpose's backward then hands the
            // parameter a contiguous gradient instead of one that needs a copy.
            let transposed = |t: &Tensor| {
                let st = t.strides();
                t.rank() == 2
                    && g.rank() == 2
                    && !t.is_contiguous()
                    && st[0] == 1
                    && st[1] == t.dims()[0]
            };
            let ga = needs[0]
                .then(|| {
                    if transposed(a) {
                        b.try_matmul(&g.try_transpose(-1, -2)?)?
                            .try_transpose(-1, -2)
                    } else {
                        g.try_matmul(&b.try_transpose(-1, -2)?)
                    }
                })
                .transpose()?;
            let gb = needs[1]
                .then(|| {
                    if transposed(b) {
                        g.try_transpose(-1, -2)?
                            .try_matmul(a)?
                            .try_transpose(-1, -2)
                    } else {
                        a.try_transpose(-1, -2)?.try_matmul(g)
                    }
                })
                .transpose()?;
            let scale = |t: Option<Tensor>| -> Result<Option<Tensor>> {
                match t {
                    Some(t) if *alpha != 1.0 => Ok(Some(t.try_mul_scalar(*alpha)?)),
                    t => Ok(t),
                }
            };
            smallvec![scale(ga)?, scale(gb)?]
        }
        GradOp::Gather { dim, in_shape } => {
            let idx = s(0)?;
            let z = Tensor::try_zeros(in_shape.clone(), g.dtype(), g.device())?;
            smallvec![Some(z.try_scatter_add(*dim as isize, idx, g)?), None]
        }
        GradOp::IndexSelect { dim, in_shape } => {
            let idx = s(0)?;
            // index_add as a scatter_add with the index broadcast along every other axis.
            let mut shape = alloc::vec![1isize; g.rank()];
            shape[*dim] = -1;
            let full = idx.try_reshape(&shape)?.try_broadcast_to(g.dims())?;
            let z = Tensor::try_zeros(in_shape.clone(), g.dtype(), g.device())?;
            smallvec![Some(z.try_scatter_add(*dim as isize, &full, g)?), None]
        }
        GradOp::ScatterAdd { dim } => {
            let idx = s(0)?;
            smallvec![
                Some(g.clone()),
                None,
                needs[2]
                    .then(|| g.try_gather(*dim as isize, idx))
                    .transpose()?
            ]
        }
        GradOp::CumSum { dim } => {
            // Reverse cumulative sum: total - cumsum + g.
            let d = *dim as isize;
            let total = g.try_sum(Some(&[d]), true)?;
            smallvec![Some(total.try_sub(&g.try_cumsum(d)?)?.try_add(g)?)]
        }
        GradOp::CumProd { dim } => {
            let (x, y) = (s(0)?, s(1)?);
            let d = *dim as isize;
            let gy = g.try_mul(y)?;
            let total = gy.try_sum(Some(&[d]), true)?;
            let rev = total.try_sub(&gy.try_cumsum(d)?)?.try_add(&gy)?;
            smallvec![Some(rev.try_div(x)?)]
        }
        GradOp::Copy => smallvec![Some(g.clone())],
        GradOp::Cast { from } => {
            smallvec![from.is_float().then(|| g.try_to_dtype(*from)).transpose()?]
        }
        GradOp::ToDevice { from } => smallvec![Some(g.try_to_device(from)?)],
        GradOp::Reshape { in_shape } => smallvec![Some(g.try_reshape_to(in_shape.dims())?)],
        GradOp::Permute { perm } => smallvec![Some(g.try_permute(&inverse(perm))?)],
        GradOp::Expand { in_shape } => smallvec![Some(sum_to(g, in_shape)?)],
        GradOp::Slice {
            dim,
            start,
            step,
            in_shape,
        } => smallvec![Some(slice_of(g, in_shape, *dim, *start, *step)?)],
        GradOp::Select {
            dim,
            index,
            in_shape,
        } => {
            let gu = g.try_unsqueeze(*dim as isize)?;
            smallvec![Some(slice_of(&gu, in_shape, *dim, *index, 1)?)]
        }
        GradOp::SliceOf {
            dim,
            start,
            step,
            len,
        } => {
            let end = (*start + *len * *step) as isize;
            smallvec![Some(g.try_slice(
                *dim as isize,
                *start as isize,
                Some(end),
                *step
            )?)]
        }
        GradOp::Windows { k, o, s: st, d, hw } => smallvec![Some(col2im(g, *hw, *k, *o, *st, *d)?)],
        GradOp::Col2Im { k, o, s: st, d } => smallvec![Some(g.windows(*k, *o, *st, *d)?)],
        GradOp::Conv2d { opts, hw } => {
            let (x, w) = (s(0)?, s(1)?);
            let mut gs: Grads = smallvec![
                needs[0]
                    .then(|| Tensor::conv2d_input_grad(g, w, *hw, *opts))
                    .transpose()?,
                needs[1]
                    .then(|| Tensor::conv2d_weight_grad(x, g, w.dims(), *opts))
                    .transpose()?,
            ];
            if let Some(&nb) = needs.get(2) {
                gs.push(nb.then(|| g.try_sum(Some(&[0, 2, 3]), false)).transpose()?);
            }
            gs
        }
        GradOp::MaxPool2d { hw } => {
            smallvec![Some(Tensor::max_pool2d_grad(g, s(0)?, *hw)?)]
        }
        GradOp::Cat { dim, sizes } => {
            let parts = g.try_split_sizes(sizes, *dim as isize)?;
            parts.into_iter().map(Some).collect()
        }
        GradOp::Pad { pad } => {
            let neg: Vec<isize> = pad.iter().map(|p| -p).collect();
            smallvec![Some(g.try_pad(&neg, 0.0)?)]
        }
        GradOp::Relu => {
            // PyTorch's threshold_backward: where(y > 0, g, 0), two passes (a mask times g
            // needs a cast too), and 0 where y <= 0 even for an infinite or NaN g.
            let y = s(0)?;
            let zero = Tensor::try_zeros([], g.dtype(), g.device())?;
            smallvec![Some(Tensor::try_where(&y.try_gt_scalar(0.0)?, g, &zero)?)]
        }
        GradOp::Clamp { min, max } => {
            let x = s(0)?;
            let mut m = x.try_eq(x)?; // false at NaN: PyTorch passes no gradient there
            if let Some(lo) = min {
                m = m.try_logical_and(&x.try_ge_scalar(*lo)?)?;
            }
            if let Some(hi) = max {
                m = m.try_logical_and(&x.try_le_scalar(*hi)?)?;
            }
            smallvec![Some(g.try_mul(&m.try_to_dtype(g.dtype())?)?)]
        }
        GradOp::Softplus { beta, threshold } => {
            let x = s(0)?;
            let bx = x.try_mul_scalar(*beta)?;
            let sg = g.try_mul(&bx.try_sigmoid()?)?;
            smallvec![Some(Tensor::try_where(
                &bx.try_gt_scalar(*threshold)?,
                g,
                &sg
            )?)]
        }
        GradOp::Sigmoid => {
            let y = s(1)?;
            smallvec![Some(
                g.try_mul(&y.try_mul(&y.try_neg()?.try_add_scalar(1.0)?)?)?
            )]
        }
        GradOp::Gelu { tanh } => {
            let x = s(0)?;
            let d = if *tanh {
                // y = ½x(1 + t), t = tanh(u), u = c(x + 0.044715x³)
                const C: f64 = 0.797_884_560_802_865_4;
                let x2 = x.try_mul(x)?;
                let u = x2
                    .try_mul_scalar(0.044715)?
                    .try_add_scalar(1.0)?
                    .try_mul(x)?
                    .try_mul_scalar(C)?;
                let t = u.try_tanh()?;
                let du = x2
                    .try_mul_scalar(3.0 * 0.044715)?
                    .try_add_scalar(1.0)?
                    .try_mul_scalar(C)?;
                let sech2 = t.try_mul(&t)?.try_neg()?.try_add_scalar(1.0)?;
                t.try_add_scalar(1.0)?
                    .try_mul_scalar(0.5)?
                    .try_add(&x.try_mul(&sech2)?.try_mul(&du)?.try_mul_scalar(0.5)?)?
            } else {
                // Φ(x) + x φ(x)
                let cdf = x
                    .try_mul_scalar(core::f64::consts::FRAC_1_SQRT_2)?
                    .try_erf()?
                    .try_add_scalar(1.0)?
                    .try_mul_scalar(0.5)?;
                let pdf = x
                    .try_mul(x)?
                    .try_mul_scalar(-0.5)?
                    .try_exp()?
                    .try_mul_scalar(0.398_942_280_401_432_7)?;
                cdf.try_add(&x.try_mul(&pdf)?)?
            };
            smallvec![Some(g.try_mul(&d)?)]
        }
        GradOp::Silu => {
            let x = s(0)?;
            let sg = x.try_sigmoid()?;
            let d = sg.try_mul(
                &x.try_mul(&sg.try_neg()?.try_add_scalar(1.0)?)?
                    .try_add_scalar(1.0)?,
            )?;
            smallvec![Some(g.try_mul(&d)?)]
        }
        GradOp::LayerNorm {
            k,
            eps,
            weight,
            bias,
        } => {
            let w = if *weight { Some(s(3)?) } else { None };
            let nb = *bias && needs.last().copied().unwrap_or(false);
            let nw = *weight && needs.get(1).copied().unwrap_or(false);
            let [gx, gw, gb] = crate::nn::norm::layer_norm_backward(
                g,
                s(0)?,
                [s(1)?, s(2)?],
                w,
                *k,
                *eps,
                [needs[0], nw, nb],
            )?;
            let mut gs: Grads = smallvec![gx];
            if *weight {
                gs.push(gw);
            }
            if *bias {
                gs.push(gb);
            }
            gs
        }
        GradOp::Softmax { dim } => {
            let y = s(0)?;
            let gy = g.try_mul(y)?;
            let sum = gy.try_sum(Some(&[*dim as isize]), true)?;
            smallvec![Some(gy.try_sub(&y.try_mul(&sum)?)?)]
        }
        GradOp::LogSoftmax { dim } => {
            let y = s(0)?;
            let sum = g.try_sum(Some(&[*dim as isize]), true)?;
            smallvec![Some(g.try_sub(&y.try_exp()?.try_mul(&sum)?)?)]
        }
    })
}
