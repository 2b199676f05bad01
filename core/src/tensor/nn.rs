//! Matmul, softmax, padding, convolution and pooling, composed from primitives.
//!
//! Convolution and pooling use one strided view of the padded input as their window
//! tensor (im2col without index arithmetic): a single `Copy` materialises the columns.

use super::{sugar, Tensor};
use crate::autograd::{record, GradOp, Saved};
use crate::driver::View;
use crate::dtype::{DType, Scalar};
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::layout::{broadcast_shapes, wrap_dim, Layout, Shape};
use crate::ops::{FusedOp, PrimOp, ReduceOp};
use alloc::vec::Vec;
use smallvec::smallvec;
use smallvec::SmallVec;

/// Options of a 2-D convolution or pooling window (PyTorch's defaults via `Default`:
/// stride 1, padding 0, dilation 1, groups 1).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Conv2dOpts {
    /// Step between windows, `[h, w]`.
    pub stride: [usize; 2],
    /// Implicit zero padding on both sides, `[h, w]`.
    pub padding: [usize; 2],
    /// Spacing between kernel taps, `[h, w]`.
    pub dilation: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

impl Default for Conv2dOpts {
    fn default() -> Self {
        Conv2dOpts {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

fn out_size(op: &'static str, n: usize, k: usize, s: usize, p: usize, d: usize) -> Result<usize> {
    if s == 0 || d == 0 || k == 0 {
        return Err(arg_err(
            op,
            "kernel size, stride and dilation must be positive",
        ));
    }
    let eff = d * (k - 1) + 1;
    if n + 2 * p < eff {
        return Err(shape_err(
            op,
            alloc::format!("an input of at least {} after padding", eff),
            alloc::format!("{n} + 2·{p}"),
        ));
    }
    Ok((n + 2 * p - eff) / s + 1)
}

impl Tensor {
    /// Matrix product with `torch.matmul`'s rules for 1-D, 2-D and batched (broadcast) operands.
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        self.same_device("matmul", &[other])?;
        if self.rank() == 0 || other.rank() == 0 {
            return Err(shape_err(
                "matmul",
                "operands with at least 1 dim",
                alloc::format!("{} and {}", self.shape(), other.shape()),
            ));
        }
        if self.dtype() != other.dtype() {
            return Err(dtype_err(
                "matmul",
                alloc::format!(
                    "expected both operands to have the same dtype, got {} and {}",
                    self.dtype(),
                    other.dtype()
                ),
            ));
        }
        let a = if self.rank() == 1 {
            self.try_unsqueeze(0)?
        } else {
            self.clone()
        };
        let b = if other.rank() == 1 {
            other.try_unsqueeze(-1)?
        } else {
            other.clone()
        };
        let (ra, rb) = (a.rank(), b.rank());
        let (m, k) = (a.dims()[ra - 2], a.dims()[ra - 1]);
        let (k2, n) = (b.dims()[rb - 2], b.dims()[rb - 1]);
        if k != k2 {
            return Err(shape_err(
                "matmul",
                alloc::format!("inner dims to match (lhs {} has {k})", self.shape()),
                alloc::format!("rhs {} with {k2}", other.shape()),
            ));
        }
        let ba = Shape::new(&a.dims()[..ra - 2]);
        let bb = Shape::new(&b.dims()[..rb - 2]);
        let batch = broadcast_shapes(&ba, &bb, "matmul").map_err(|_| {
            shape_err(
                "matmul",
                alloc::format!("batch dims that broadcast (lhs {})", self.shape()),
                alloc::format!("rhs {}", other.shape()),
            )
        })?;
        let mut out_dims: Vec<usize> = batch.dims().to_vec();
        out_dims.extend([m, n]);
        // A batch of lhs rows times one rhs matrix is a single 2-D product when the rows fold.
        let out = if rb == 2 && ra > 2 {
            let rows = a
                .layout()
                .reshape_strides(&Shape::new(&[batch.numel() * m, k]));
            match rows {
                Some(_) => {
                    let a2 = a.try_reshape_to(&[batch.numel() * m, k])?;
                    let o = Tensor::mm_raw(&a2, &b)?;
                    o.try_reshape_to(&out_dims)?
                }
                None => Tensor::mm_batched(&a, &b, &batch, m, k, n)?,
            }
        } else {
            Tensor::mm_batched(&a, &b, &batch, m, k, n)?
        };
        match (self.rank(), other.rank()) {
            (1, 1) => out.try_reshape_to(&[]),
            (1, _) => out.try_squeeze(Some(-2)),
            (_, 1) => out.try_squeeze(Some(-1)),
            _ => Ok(out),
        }
    }

    fn mm_raw(a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let (m, k, n) = (a.dims()[0], a.dims()[1], b.dims()[1]);
        let out = Tensor::empty(Shape::new(&[m, n]), a.dtype(), a.device())?;
        Tensor::matmul_into(a, b, &out, k)?;
        Ok(record(out, GradOp::Matmul { alpha: 1.0 }, &[a, b], |_| {
            smallvec![Saved::input(a), Saved::input(b)]
        }))
    }

    fn mm_batched(
        a: &Tensor,
        b: &Tensor,
        batch: &Shape,
        m: usize,
        k: usize,
        n: usize,
    ) -> Result<Tensor> {
        let mut da: Vec<usize> = batch.dims().to_vec();
        da.extend([m, k]);
        let mut db: Vec<usize> = batch.dims().to_vec();
        db.extend([k, n]);
        let mut dout: Vec<usize> = batch.dims().to_vec();
        dout.extend([m, n]);
        let va = a.try_broadcast_to(&da)?;
        let vb = b.try_broadcast_to(&db)?;
        let out = Tensor::empty(Shape::new(&dout), a.dtype(), a.device())?;
        Tensor::matmul_into(&va, &vb, &out, k)?;
        Ok(record(
            out,
            GradOp::Matmul { alpha: 1.0 },
            &[&va, &vb],
            |_| smallvec![Saved::input(&va), Saved::input(&vb)],
        ))
    }

    fn matmul_into(a: &Tensor, b: &Tensor, out: &Tensor, k: usize) -> Result<()> {
        if out.numel() == 0 {
            return Ok(());
        }
        if k == 0 {
            return Tensor::exec(&PrimOp::Fill(Scalar::Int(0)), &[], out);
        }
        Tensor::exec(
            &PrimOp::Matmul {
                alpha: 1.0,
                beta: 0.0,
            },
            &[a, b],
            out,
        )
    }

    /// Softmax along `dim`.
    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_impl(dim, false)
    }

    /// Log-softmax along `dim` (stable for large inputs).
    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_impl(dim, true)
    }

    fn softmax_impl(&self, dim: isize, log: bool) -> Result<Tensor> {
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.try_to_dtype(DType::F32)?
        };
        if x.rank() == 0 {
            return if log {
                x.try_zeros_like()
            } else {
                x.try_ones_like()
            };
        }
        let d = wrap_dim(dim, x.rank(), if log { "log_softmax" } else { "softmax" })?;
        if x.numel() == 0 {
            return x.try_contiguous();
        }
        let y = crate::autograd::with_grad_mode(false, || x.softmax_plain(d, log))?;
        let op = if log {
            GradOp::LogSoftmax { dim: d }
        } else {
            GradOp::Softmax { dim: d }
        };
        Ok(record(y, op, &[&x], |y| smallvec![Saved::output(y)]))
    }

    /// Softmax without recording: the driver's fused kernel when it has one, else composed.
    fn softmax_plain(&self, d: usize, log: bool) -> Result<Tensor> {
        let x = self;
        if d == x.rank() - 1 && x.is_contiguous() {
            let op = if log {
                FusedOp::LogSoftmax
            } else {
                FusedOp::Softmax
            };
            let out = Tensor::empty(x.shape().clone(), x.dtype(), x.device())?;
            if let Some(r) = x.device().driver().fused(
                &op,
                &[x.as_view()],
                core::slice::from_ref(&out.as_view()),
            ) {
                return r.map(|_| out);
            }
        }
        let axes = SmallVec::from_slice(&[d]);
        let m = x.reduce_prim(ReduceOp::Max, &axes, true, x.dtype())?;
        let z = x.try_sub(&m)?;
        let e = z.try_exp()?;
        let s = e.reduce_prim(ReduceOp::Sum, &axes, true, x.dtype())?;
        if log {
            z.try_sub(&s.try_log()?)
        } else {
            e.try_div(&s)
        }
    }

    /// Pads the last dims: `pad = [left, right, top, bottom, ...]` from the last dim inward;
    /// negative amounts crop (PyTorch's `F.pad`, constant mode).
    pub fn try_pad(&self, pad: &[isize], value: f64) -> Result<Tensor> {
        if pad.len() % 2 != 0 || pad.len() / 2 > self.rank() {
            return Err(arg_err(
                "pad",
                alloc::format!(
                    "padding {pad:?} must have an even length of at most 2·{}",
                    self.rank()
                ),
            ));
        }
        let r = self.rank();
        let mut shape = self.shape().clone();
        let mut src = self.clone();
        let mut dst_ranges: Vec<(usize, usize, usize)> = Vec::new();
        for i in 0..pad.len() / 2 {
            let d = r - 1 - i;
            let (lo, hi) = (pad[2 * i], pad[2 * i + 1]);
            let n = self.dims()[d] as isize;
            let new = n + lo + hi;
            if new < 0 {
                return Err(arg_err(
                    "pad",
                    alloc::format!("padding {pad:?} makes dim {d} of {} negative", self.shape()),
                ));
            }
            shape.0[d] = new as usize;
            // Crop the source by negative pads, place it at max(lo, 0) in the output.
            let s0 = (-lo).max(0) as usize;
            let s1 = (n - (-hi).max(0)).max(s0 as isize) as usize;
            src = src.try_narrow(d as isize, s0.min(n as usize), s1.saturating_sub(s0))?;
            dst_ranges.push((d, lo.max(0) as usize, s1.saturating_sub(s0)));
        }
        let int = !self.dtype().is_float();
        let fill = if int {
            Scalar::Int(value as i64)
        } else {
            Scalar::Float(value)
        };
        let out = Tensor::try_full(shape, fill, self.dtype(), self.device())?;
        let mut dst = out.clone();
        for (d, at, len) in dst_ranges {
            dst = dst.try_narrow(d as isize, at, len)?;
        }
        if dst.numel() > 0 {
            Tensor::exec(&PrimOp::Copy, &[&src], &dst)?;
        }
        Ok(record(
            out,
            GradOp::Pad { pad: pad.to_vec() },
            &[self],
            |_| smallvec![],
        ))
    }

    /// The windows of a padded `[N, C, H, W]` input as a strided view
    /// `[N, C, OH, OW, KH, KW]` (no copy).
    pub(crate) fn windows(
        &self,
        k: [usize; 2],
        o: [usize; 2],
        s: [usize; 2],
        d: [usize; 2],
    ) -> Result<Tensor> {
        let xp = self;
        if xp.rank() != 4 {
            return Err(shape_err("unfold", "a [N, C, H, W] input", xp.shape()));
        }
        let st = xp.strides();
        let l = Layout {
            shape: Shape::new(&[xp.dims()[0], xp.dims()[1], o[0], o[1], k[0], k[1]]),
            strides: SmallVec::from_slice(&[
                st[0],
                st[1],
                s[0] * st[2],
                s[1] * st[3],
                d[0] * st[2],
                d[1] * st[3],
            ]),
            offset: xp.layout().offset,
        };
        let hw = [xp.dims()[2], xp.dims()[3]];
        Ok(xp.with_layout_op(l, || GradOp::Windows { k, o, s, d, hw }))
    }

    /// 2-D convolution (PyTorch's `F.conv2d`): input `[N, C, H, W]` (or `[C, H, W]`),
    /// weight `[OC, C / groups, KH, KW]`, optional bias `[OC]`.
    pub fn try_conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOpts,
    ) -> Result<Tensor> {
        if self.rank() == 3 {
            return self
                .try_unsqueeze(0)?
                .try_conv2d(weight, bias, opts)?
                .try_squeeze(Some(0));
        }
        self.same_device("conv2d", &[weight])?;
        if self.rank() != 4 || weight.rank() != 4 {
            return Err(shape_err(
                "conv2d",
                "input [N, C, H, W] and weight [OC, C/groups, KH, KW]",
                alloc::format!("input {}, weight {}", self.shape(), weight.shape()),
            ));
        }
        if self.dtype() != weight.dtype() || !self.dtype().is_float() {
            return Err(dtype_err(
                "conv2d",
                alloc::format!(
                    "input and weight must share a float dtype, got {} and {}",
                    self.dtype(),
                    weight.dtype()
                ),
            ));
        }
        let g = opts.groups;
        let (c, h, w) = (self.dims()[1], self.dims()[2], self.dims()[3]);
        let (oc, cg, kh, kw) = (
            weight.dims()[0],
            weight.dims()[1],
            weight.dims()[2],
            weight.dims()[3],
        );
        if g == 0 || c != cg * g || oc % g != 0 {
            return Err(shape_err(
                "conv2d",
                alloc::format!("input channels = weight.size(1) · groups and out channels divisible by groups ({g})"),
                alloc::format!("input {}, weight {}", self.shape(), weight.shape()),
            ));
        }
        let oh = out_size(
            "conv2d",
            h,
            kh,
            opts.stride[0],
            opts.padding[0],
            opts.dilation[0],
        )?;
        let ow = out_size(
            "conv2d",
            w,
            kw,
            opts.stride[1],
            opts.padding[1],
            opts.dilation[1],
        )?;
        if let Some(b) = bias {
            if b.rank() != 1 || b.dims()[0] != oc {
                return Err(shape_err(
                    "conv2d",
                    alloc::format!("bias of shape [{oc}]"),
                    b.shape(),
                ));
            }
            self.same_device("conv2d", &[b])?;
        }
        let y = crate::autograd::with_grad_mode(false, || {
            self.conv2d_plain(weight, bias, opts, [oh, ow])
        })?;
        let mut inputs: SmallVec<[&Tensor; 3]> = smallvec![self, weight];
        inputs.extend(bias);
        Ok(record(
            y,
            GradOp::Conv2d { opts, hw: [h, w] },
            &inputs,
            |_| smallvec![Saved::input(self), Saved::input(weight)],
        ))
    }

    /// The convolution without recording: the driver's fused kernel when it has one, else
    /// im2col and a matmul.
    fn conv2d_plain(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        opts: Conv2dOpts,
        o: [usize; 2],
    ) -> Result<Tensor> {
        let (n, oc) = (self.dims()[0], weight.dims()[0]);
        let (x, w) = (self.try_contiguous()?, weight.try_contiguous()?);
        let b = bias.map(|b| b.try_contiguous()).transpose()?;
        let y = Tensor::empty(Shape::new(&[n, oc, o[0], o[1]]), x.dtype(), x.device())?;
        let mut ins: SmallVec<[View; 3]> = smallvec![x.as_view(), w.as_view()];
        ins.extend(b.as_ref().map(|b| b.as_view()));
        let op = FusedOp::Conv2d { opts };
        if let Some(r) = x.device().driver().fused(&op, &ins, &[y.as_view()]) {
            return r.map(|_| y);
        }
        let cols = x.conv_cols(weight.dims(), o, opts)?; // [N, g, C/g·KH·KW, OH·OW]
        let g = opts.groups;
        let wm = w.try_reshape_to(&[g, oc / g, cols.dims()[2]])?;
        let out = wm.try_matmul(&cols)?; // [N, g, OC/g, OH·OW]
        let out = out.try_reshape_to(&[n, oc, o[0], o[1]])?;
        match b {
            Some(b) => out.try_add(&b.try_reshape_to(&[1, oc, 1, 1])?),
            None => Ok(out),
        }
    }

    /// im2col of a `[N, C, H, W]` input for a weight of shape `wshape`: the columns
    /// `[N, groups, C/groups·KH·KW, OH·OW]`, one strided copy of the padded input's windows.
    fn conv_cols(&self, wshape: &[usize], o: [usize; 2], opts: Conv2dOpts) -> Result<Tensor> {
        let (n, g) = (self.dims()[0], opts.groups);
        let (cg, kh, kw) = (wshape[1], wshape[2], wshape[3]);
        let [ph, pw] = opts.padding;
        let xp = if ph > 0 || pw > 0 {
            self.try_pad(&[pw as isize, pw as isize, ph as isize, ph as isize], 0.0)?
        } else {
            self.try_contiguous()?
        };
        let win = xp.windows([kh, kw], o, opts.stride, opts.dilation)?; // [N, C, OH, OW, KH, KW]
        let win = win.try_permute(&[0, 1, 4, 5, 2, 3])?; // [N, C, KH, KW, OH, OW]
        win.try_contiguous()?
            .try_reshape_to(&[n, g, cg * kh * kw, o[0] * o[1]])
    }

    /// The gradient of [`Tensor::try_conv2d`] for its input of spatial size `hw`, given the
    /// output gradient `gy` and the weight: the driver's kernel unless the result must
    /// record (`create_graph`), else `wᵀ @ gy` folded back by col2im.
    pub(crate) fn conv2d_input_grad(
        gy: &Tensor,
        w: &Tensor,
        hw: [usize; 2],
        opts: Conv2dOpts,
    ) -> Result<Tensor> {
        let g = opts.groups;
        let (n, oc, oh, ow) = (gy.dims()[0], gy.dims()[1], gy.dims()[2], gy.dims()[3]);
        let (cg, kh, kw) = (w.dims()[1], w.dims()[2], w.dims()[3]);
        let c = cg * g;
        if !crate::autograd::needs_grad(&[gy, w]) {
            let (gyc, wc) = (gy.try_contiguous()?, w.try_contiguous()?);
            let gx = Tensor::empty(Shape::new(&[n, c, hw[0], hw[1]]), gy.dtype(), gy.device())?;
            let op = FusedOp::Conv2dInputGrad { opts };
            let ins = [gyc.as_view(), wc.as_view()];
            if let Some(r) = gy.device().driver().fused(&op, &ins, &[gx.as_view()]) {
                return r.map(|_| gx);
            }
        }
        let gm = gy.try_reshape_to(&[n, g, oc / g, oh * ow])?;
        let wt = w
            .try_reshape_to(&[g, oc / g, cg * kh * kw])?
            .try_transpose(-1, -2)?;
        let cols = wt.try_matmul(&gm)?; // [N, g, C/g·KH·KW, OH·OW]
        let win = cols
            .try_reshape_to(&[n, c, kh, kw, oh, ow])?
            .try_permute(&[0, 1, 4, 5, 2, 3])?; // [N, C, OH, OW, KH, KW]
        let [ph, pw] = opts.padding;
        let padded = [hw[0] + 2 * ph, hw[1] + 2 * pw];
        let gxp = crate::autograd::rules::col2im(
            &win,
            padded,
            [kh, kw],
            [oh, ow],
            opts.stride,
            opts.dilation,
        )?;
        if ph > 0 || pw > 0 {
            let (ph, pw) = (ph as isize, pw as isize);
            gxp.try_pad(&[-pw, -pw, -ph, -ph], 0.0)
        } else {
            Ok(gxp)
        }
    }

    /// The gradient of [`Tensor::try_conv2d`] for its weight of shape `wshape`, given the
    /// input `x` and the output gradient `gy`: the driver's kernel unless the result must
    /// record, else `gy @ colsᵀ` summed over the batch.
    pub(crate) fn conv2d_weight_grad(
        x: &Tensor,
        gy: &Tensor,
        wshape: &[usize],
        opts: Conv2dOpts,
    ) -> Result<Tensor> {
        let g = opts.groups;
        let (n, oc, oh, ow) = (gy.dims()[0], gy.dims()[1], gy.dims()[2], gy.dims()[3]);
        if !crate::autograd::needs_grad(&[x, gy]) {
            let (xc, gyc) = (x.try_contiguous()?, gy.try_contiguous()?);
            let gw = Tensor::empty(Shape::new(wshape), x.dtype(), x.device())?;
            let op = FusedOp::Conv2dWeightGrad { opts };
            let ins = [xc.as_view(), gyc.as_view()];
            if let Some(r) = x.device().driver().fused(&op, &ins, &[gw.as_view()]) {
                return r.map(|_| gw);
            }
        }
        let cols = x.conv_cols(wshape, [oh, ow], opts)?; // [N, g, C/g·KH·KW, OH·OW]
        let gm = gy.try_reshape_to(&[n, g, oc / g, oh * ow])?;
        gm.try_matmul(&cols.try_transpose(-1, -2)?)?
            .try_sum(Some(&[0]), false)?
            .try_reshape_to(wshape)
    }

    /// 1-D convolution: input `[N, C, L]` (or `[C, L]`), weight `[OC, C / groups, K]`.
    pub fn try_conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: usize,
        padding: usize,
        dilation: usize,
        groups: usize,
    ) -> Result<Tensor> {
        if self.rank() == 2 {
            return self
                .try_unsqueeze(0)?
                .try_conv1d(weight, bias, stride, padding, dilation, groups)?
                .try_squeeze(Some(0));
        }
        if self.rank() != 3
            || weight.rank() != 3
            || groups == 0
            || self.dims()[1] != weight.dims()[1] * groups
            || weight.dims()[0] % groups != 0
        {
            return Err(shape_err(
                "conv1d",
                alloc::format!(
                    "input [N, C, L] and weight [OC, C/groups, K] with groups = {groups}"
                ),
                alloc::format!("input {}, weight {}", self.shape(), weight.shape()),
            ));
        }
        let opts = Conv2dOpts {
            stride: [1, stride],
            padding: [0, padding],
            dilation: [1, dilation],
            groups,
        };
        self.try_unsqueeze(2)?
            .try_conv2d(&weight.try_unsqueeze(2)?, bias, opts)?
            .try_squeeze(Some(2))
    }

    /// 2-D max pooling over `[N, C, H, W]` (or `[C, H, W]`); padding counts as -inf.
    pub fn try_max_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Result<Tensor> {
        self.pool2d("max_pool2d", kernel, stride, padding, dilation, None)
    }

    /// 2-D average pooling; `count_include_pad` as in PyTorch (default true).
    pub fn try_avg_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
    ) -> Result<Tensor> {
        self.pool2d(
            "avg_pool2d",
            kernel,
            stride,
            padding,
            [1, 1],
            Some(count_include_pad),
        )
    }

    fn pool2d(
        &self,
        op: &'static str,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
        d: [usize; 2],
        avg: Option<bool>,
    ) -> Result<Tensor> {
        if self.rank() == 3 {
            return self
                .try_unsqueeze(0)?
                .pool2d(op, k, s, p, d, avg)?
                .try_squeeze(Some(0));
        }
        if self.rank() != 4 {
            return Err(shape_err(
                op,
                "input [N, C, H, W] or [C, H, W]",
                self.shape(),
            ));
        }
        if !self.dtype().is_float() {
            return Err(dtype_err(
                op,
                alloc::format!("input must be floating point, got {}", self.dtype()),
            ));
        }
        if p[0] * 2 > k[0] || p[1] * 2 > k[1] {
            return Err(arg_err(
                op,
                alloc::format!("padding {p:?} must be at most half the kernel {k:?}"),
            ));
        }
        let (h, w) = (self.dims()[2], self.dims()[3]);
        let oh = out_size(op, h, k[0], s[0], p[0], d[0])?;
        let ow = out_size(op, w, k[1], s[1], p[1], d[1])?;
        let pad = [p[1] as isize, p[1] as isize, p[0] as isize, p[0] as isize];
        let axes: SmallVec<[usize; 6]> = SmallVec::from_slice(&[4, 5]);
        match avg {
            None => {
                let (y, idx) = crate::autograd::with_grad_mode(false, || {
                    self.max_pool2d_plain(k, s, p, d, [oh, ow])
                })?;
                Ok(record(y, GradOp::MaxPool2d { hw: [h, w] }, &[self], |_| {
                    smallvec![Saved::input(&idx)]
                }))
            }
            Some(include_pad) => {
                let xp = if p != [0, 0] {
                    self.try_pad(&pad, 0.0)?
                } else {
                    self.clone()
                };
                let win = xp.windows(k, [oh, ow], s, d)?;
                let sum = win.reduce_prim(ReduceOp::Sum, &axes, false, self.dtype())?;
                if include_pad || p == [0, 0] {
                    sum.try_div_scalar((k[0] * k[1]) as f64)
                } else {
                    // Count the real (unpadded) elements of each window by pooling ones.
                    let ones = Tensor::try_ones([1, 1, h, w], self.dtype(), self.device())?
                        .try_pad(&pad, 0.0)?;
                    let cnt = ones.windows(k, [oh, ow], s, d)?.reduce_prim(
                        ReduceOp::Sum,
                        &axes,
                        false,
                        self.dtype(),
                    )?;
                    sum.try_div(&cnt)
                }
            }
        }
    }

    /// Max pooling without recording: `(values, indices)`, each index the flat position of
    /// its window's first maximum in the `H·W` plane (PyTorch's `return_indices`).
    fn max_pool2d_plain(
        &self,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
        d: [usize; 2],
        o: [usize; 2],
    ) -> Result<(Tensor, Tensor)> {
        let (n, c, w) = (self.dims()[0], self.dims()[1], self.dims()[3]);
        let x = self.try_contiguous()?;
        let shape = Shape::new(&[n, c, o[0], o[1]]);
        let y = Tensor::empty(shape.clone(), x.dtype(), x.device())?;
        let idx = Tensor::empty(shape, DType::I64, x.device())?;
        let op = FusedOp::MaxPool2d {
            kernel: k,
            stride: s,
            padding: p,
            dilation: d,
        };
        let outs = [y.as_view(), idx.as_view()];
        if let Some(r) = x.device().driver().fused(&op, &[x.as_view()], &outs) {
            return r.map(|_| (y, idx));
        }
        let pad = [p[1] as isize, p[1] as isize, p[0] as isize, p[0] as isize];
        let xp = if p != [0, 0] {
            x.try_pad(&pad, f64::NEG_INFINITY)?
        } else {
            x
        };
        let flat = xp.windows(k, o, s, d)?.try_contiguous()?.try_reshape_to(&[
            n,
            c,
            o[0],
            o[1],
            k[0] * k[1],
        ])?;
        let am = flat.try_argmax(Some(-1), true)?; // [N, C, OH, OW, 1]: tap kh·KW + kw
        let y = flat.try_gather(-1, &am)?.try_squeeze(Some(-1))?;
        // Tap (kh, kw) of window (oy, ox) is input (oy·s - p + kh·d, ox·s - p + kw·d).
        let dev = self.device();
        let at = |i: usize, len: usize, tap: Tensor, shape: &[usize]| -> Result<Tensor> {
            Tensor::try_arange(0.0, len as f64, 1.0, DType::I64, dev)?
                .try_reshape_to(shape)?
                .try_mul_scalar(s[i] as i64)?
                .try_sub_scalar(p[i] as i64)?
                .try_add(&tap.try_mul_scalar(d[i] as i64)?)
        };
        let iy = at(
            0,
            o[0],
            am.try_floor_divide_scalar(k[1] as i64)?,
            &[o[0], 1, 1],
        )?;
        let ix = at(1, o[1], am.try_remainder_scalar(k[1] as i64)?, &[o[1], 1])?;
        let idx = iy
            .try_mul_scalar(w as i64)?
            .try_add(&ix)?
            .try_squeeze(Some(-1))?;
        Ok((y, idx))
    }

    /// The gradient of max pooling: `gy` added at `idx` into zeros of `[N, C, hw]` (the
    /// driver's kernel unless the result must record).
    pub(crate) fn max_pool2d_grad(gy: &Tensor, idx: &Tensor, hw: [usize; 2]) -> Result<Tensor> {
        let (n, c) = (gy.dims()[0], gy.dims()[1]);
        if !crate::autograd::needs_grad(&[gy]) {
            let (gyc, ic) = (gy.try_contiguous()?, idx.try_contiguous()?);
            let gx = Tensor::empty(Shape::new(&[n, c, hw[0], hw[1]]), gy.dtype(), gy.device())?;
            let ins = [gyc.as_view(), ic.as_view()];
            let op = FusedOp::MaxPool2dGrad;
            if let Some(r) = gy.device().driver().fused(&op, &ins, &[gx.as_view()]) {
                return r.map(|_| gx);
            }
        }
        let ohw = gy.dims()[2] * gy.dims()[3];
        Tensor::try_zeros([n, c, hw[0] * hw[1]], gy.dtype(), gy.device())?
            .try_scatter_add(
                2,
                &idx.try_reshape_to(&[n, c, ohw])?,
                &gy.try_reshape_to(&[n, c, ohw])?,
            )?
            .try_reshape_to(&[n, c, hw[0], hw[1]])
    }

    /// 1-D max pooling over `[N, C, L]` (or `[C, L]`).
    pub fn try_max_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
    ) -> Result<Tensor> {
        let u = self.try_unsqueeze(-2)?;
        u.try_max_pool2d([1, kernel], [1, stride], [0, padding], [1, dilation])?
            .try_squeeze(Some(-2))
    }

    /// 1-D average pooling over `[N, C, L]` (or `[C, L]`).
    pub fn try_avg_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        count_include_pad: bool,
    ) -> Result<Tensor> {
        let u = self.try_unsqueeze(-2)?;
        u.try_avg_pool2d([1, kernel], [1, stride], [0, padding], count_include_pad)?
            .try_squeeze(Some(-2))
    }

    sugar! {
        /// Panicking form of [`Tensor::try_matmul`].
        fn matmul(&self, other: &Tensor) -> Tensor = try_matmul;
        /// Panicking form of [`Tensor::try_softmax`].
        fn softmax(&self, dim: isize) -> Tensor = try_softmax;
        /// Panicking form of [`Tensor::try_log_softmax`].
        fn log_softmax(&self, dim: isize) -> Tensor = try_log_softmax;
        /// Panicking form of [`Tensor::try_pad`].
        fn pad(&self, pad: &[isize], value: f64) -> Tensor = try_pad;
        /// Panicking form of [`Tensor::try_conv2d`].
        fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, opts: Conv2dOpts) -> Tensor = try_conv2d;
        /// Panicking form of [`Tensor::try_max_pool2d`].
        fn max_pool2d(&self, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2]) -> Tensor = try_max_pool2d;
        /// Panicking form of [`Tensor::try_avg_pool2d`].
        fn avg_pool2d(&self, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2], count_include_pad: bool) -> Tensor = try_avg_pool2d;
    }
}
