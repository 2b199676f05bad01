//! The convolution and max-pool fused ops (`wgsl/conv.wgsl`): each convolution, either of its
//! gradients, a max pool or its gradient is one dispatch (a wide output may take several,
//! see [`COLUMN_TILE`]) instead of core's im2col copy, matmul and col2im.
//!
//! Operands the kernels do not take (not contiguous, not f32/f16/bf16, an inconsistent
//! geometry) return `None`: core then composes the op and reports what is wrong.

use super::{u, Arg};
use crate::{State, WgpuDriver};
use lantern::driver::View;
use lantern::ops::{max_pool2d_dims, Conv2dGeom, FusedOp};
use lantern::{Conv2dOpts, DType, Error, Result};
use lantern_kernels::wgsl::{Spec, HEADER_WORDS};

/// Output columns (and rows) of one convolution workgroup, as in `conv.wgsl`.
const COLUMN_TILE: usize = 64;

/// Core's contract check, and every coordinate below 2^22: the kernels divide by
/// multiplying with an f32 reciprocal, exact for such quotients.
fn geom(x: &[usize], w: &[usize], y: &[usize], o: &Conv2dOpts) -> Option<Conv2dGeom> {
    let g = Conv2dGeom::new(x, w, y, o)?;
    let dims = [g.n, g.c, g.h, g.w, g.oc, g.oh, g.ow];
    dims.iter().all(|&v| v < 1 << 22).then_some(g)
}

/// Longest reduction (batch × output positions) the weight-gradient kernel takes on.
const WEIGHT_GRAD_MAX_WALK: usize = 4096;

/// The four dims of a rank-4 view.
fn dims4(v: &View) -> Option<[usize; 4]> {
    let d = v.layout.dims();
    (d.len() == 4).then(|| [d[0], d[1], d[2], d[3]])
}

/// Contiguous views of one float dtype the kernels compute (int64 where `i64_at` says).
fn fits(views: &[&View], i64_at: Option<usize>) -> bool {
    let dt = views[0].dtype;
    matches!(dt, DType::F32 | DType::F16 | DType::BF16)
        && views.iter().enumerate().all(|(i, v)| {
            let want = if Some(i) == i64_at { DType::I64 } else { dt };
            v.layout.is_contiguous() && v.dtype == want
        })
}

impl WgpuDriver {
    /// Runs a convolution or max-pool fused op in its kernel; `None` for other ops and for
    /// operands core should compose.
    pub(super) fn conv_fused(
        &self,
        st: &mut State,
        op: &FusedOp,
        ins: &[View],
        outs: &[View],
    ) -> Option<Result<()>> {
        match op {
            FusedOp::Conv2d { opts } => {
                let ([x, w, rest @ ..], [y]) = (ins, outs) else {
                    return None;
                };
                let wd = dims4(w)?;
                let bias = match rest {
                    [] => None,
                    [b] if b.layout.dims() == [wd[0]] => Some(b),
                    _ => return None,
                };
                let mut all = vec![x, w, y];
                all.extend(bias);
                if !fits(&all, None) {
                    return None;
                }
                let g = geom(&dims4(x)?, &wd, &dims4(y)?, opts)?;
                Some(self.conv(
                    st,
                    "conv2d",
                    &g,
                    opts,
                    [x, w, bias.unwrap_or(w)],
                    y,
                    bias.is_some(),
                ))
            }
            FusedOp::Conv2dInputGrad { opts } => {
                let ([gy, w], [gx]) = (ins, outs) else {
                    return None;
                };
                if !fits(&[gy, w, gx], None) {
                    return None;
                }
                let g = geom(&dims4(gx)?, &dims4(w)?, &dims4(gy)?, opts)?;
                Some(self.conv(st, "conv2d_input_grad", &g, opts, [gy, w, w], gx, false))
            }
            FusedOp::Conv2dWeightGrad { opts } => {
                let ([x, gy], [gw]) = (ins, outs) else {
                    return None;
                };
                if !fits(&[x, gy, gw], None) {
                    return None;
                }
                let g = geom(&dims4(x)?, &dims4(gw)?, &dims4(gy)?, opts)?;
                // One workgroup per 64×64 tile of gw walks all N·OH·OW positions: a long walk
                // over few workgroups (5 for 32→64 channels 3×3) idles a GPU, and even on
                // lavapipe lost to the composed batched matmul + sum at 8·28·28 positions.
                // Until the kernel splits the walk (split-K), long walks are composed.
                if g.n * g.oh * g.ow > WEIGHT_GRAD_MAX_WALK {
                    return None;
                }
                Some(self.conv(st, "conv2d_weight_grad", &g, opts, [x, gy, gy], gw, false))
            }
            FusedOp::MaxPool2d {
                kernel,
                stride,
                padding,
                dilation,
            } => {
                let ([x], [y, idx]) = (ins, outs) else {
                    return None;
                };
                let window = Some([kernel, stride, dilation]);
                if !fits(&[x, y, idx], Some(2))
                    || !max_pool2d_dims(x.layout.dims(), y.layout.dims(), idx.layout.dims(), window)
                {
                    return None;
                }
                let (xd, yd) = (dims4(x)?, dims4(y)?);
                let mut p = vec![0u32; HEADER_WORDS];
                let words = [
                    yd.iter().product(),
                    xd[2],
                    xd[3],
                    yd[2],
                    yd[3],
                    kernel[0],
                    kernel[1],
                    stride[0],
                    stride[1],
                    padding[0],
                    padding[1],
                ];
                Some(self.max_pool(st, &mut p, &words, dilation, x, y, idx))
            }
            FusedOp::MaxPool2dGrad => {
                let ([gy, idx], [gx]) = (ins, outs) else {
                    return None;
                };
                if !fits(&[gy, gx, idx], Some(2))
                    || !max_pool2d_dims(gx.layout.dims(), gy.layout.dims(), idx.layout.dims(), None)
                {
                    return None;
                }
                let (yd, xd) = (dims4(gy)?, dims4(gx)?);
                Some(self.max_pool_grad(st, yd, xd, gy, idx, gx))
            }
            _ => None,
        }
    }

    /// The views' operands, each with every index a kernel forms into it (below its end)
    /// within 32 bits.
    fn resolve_all<const N: usize>(
        &self,
        st: &State,
        name: &'static str,
        views: [&View; N],
    ) -> Result<[Arg; N]> {
        let mut args = Vec::with_capacity(N);
        for v in views {
            let a = self.resolve(st, name, v)?;
            u(name, a.layout.offset + a.layout.numel())?;
            args.push(a);
        }
        Ok(args
            .try_into()
            .ok()
            .expect("internal: one operand per view"))
    }

    /// One convolution kernel (`name`): ins are bound as inputs 0..3 (the third only read
    /// with `bias`), out as the output; one dispatch per [`COLUMN_TILE`] × the dispatch
    /// limit of output columns.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &self,
        st: &mut State,
        name: &'static str,
        g: &Conv2dGeom,
        o: &Conv2dOpts,
        ins: [&View; 3],
        out: &View,
        bias: bool,
    ) -> Result<()> {
        let [a0, a1, a2, y] = self.resolve_all(st, name, [ins[0], ins[1], ins[2], out])?;
        let args = [a0, a1, a2];
        let (cg, ocg, khw) = (g.c / o.groups, g.oc / o.groups, g.kh * g.kw);
        // Rows and columns of each group's product.
        let (rows, cols) = match name {
            "conv2d" => (ocg, g.n * g.oh * g.ow),
            "conv2d_input_grad" => (cg, g.n * g.h * g.w),
            _ => (ocg, cg * khw),
        };
        if rows == 0 || cols == 0 || o.groups == 0 {
            return Ok(());
        }
        let mut p = vec![0u32; HEADER_WORDS];
        let head = [
            g.n,
            g.c,
            g.h,
            g.w,
            g.oc,
            g.kh,
            g.kw,
            g.oh,
            g.ow,
            o.groups,
            bias as usize,
        ];
        for (i, &v) in head.iter().enumerate() {
            p[i] = u(name, v)?;
        }
        let tail = [
            o.stride[0],
            o.stride[1],
            o.padding[0],
            o.padding[1],
            o.dilation[0],
            o.dilation[1],
            args[0].layout.offset,
            args[1].layout.offset,
            args[2].layout.offset,
            y.layout.offset,
        ];
        for v in tail {
            p.push(u(name, v)?);
        }
        let max = self.limits.max_compute_workgroups_per_dimension as usize;
        let gy = rows.div_ceil(COLUMN_TILE);
        if gy > max || o.groups > max {
            return Err(Error::Arg {
                op: name,
                msg: format!(
                    "{rows} rows in {} groups exceed the device's dispatch limits",
                    o.groups
                ),
            });
        }
        let spec = if name == "conv2d" {
            Spec::conv2d(y.elem)
        } else {
            Spec::conv2d_grad(y.elem)
        };
        let spec = Self::alias(spec, &[&args[0], &args[1], &args[2]], &y);
        let mut bufs: Vec<&wgpu::Buffer> = if name == "conv2d" {
            args.iter().map(|a| &a.buffer).collect()
        } else {
            args[..2].iter().map(|a| &a.buffer).collect()
        };
        bufs.push(&y.buffer);
        // Columns beyond one grid dimension go in several dispatches (P[11]: the first).
        let per = max * COLUMN_TILE;
        let mut c0 = 0;
        while c0 < cols {
            let gx = (cols - c0).min(per).div_ceil(COLUMN_TILE);
            p[11] = u(name, c0)?;
            let groups = [gx as u32, gy as u32, o.groups as u32];
            self.dispatch(st, &spec, name, &p, &bufs, groups)?;
            c0 += per;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn max_pool(
        &self,
        st: &mut State,
        p: &mut Vec<u32>,
        words: &[usize; 11],
        dilation: &[usize; 2],
        x: &View,
        y: &View,
        idx: &View,
    ) -> Result<()> {
        let name = "max_pool2d";
        let [x, y, idx] = self.resolve_all(st, name, [x, y, idx])?;
        if words[0] == 0 {
            return Ok(());
        }
        for (i, &v) in words.iter().enumerate() {
            p[i] = u(name, v)?;
        }
        for v in [
            dilation[0],
            dilation[1],
            x.layout.offset,
            y.layout.offset,
            idx.layout.offset,
        ] {
            p.push(u(name, v)?);
        }
        let groups = self.groups_1d(name, words[0])?;
        let spec = Self::alias(Spec::max_pool2d(x.elem), &[&x], &y);
        let spec = if x.buffer == idx.buffer {
            spec.aliased()
        } else {
            spec
        };
        let bufs = [&x.buffer, &y.buffer, &idx.buffer];
        self.dispatch(st, &spec, name, p, &bufs, groups)
    }

    fn max_pool_grad(
        &self,
        st: &mut State,
        yd: [usize; 4],
        xd: [usize; 4],
        gy: &View,
        idx: &View,
        gx: &View,
    ) -> Result<()> {
        let name = "max_pool2d_grad";
        let [gy, idx, gx] = self.resolve_all(st, name, [gy, idx, gx])?;
        let planes = xd[0] * xd[1];
        if planes == 0 || xd[2] * xd[3] == 0 {
            return Ok(());
        }
        let mut p = vec![0u32; HEADER_WORDS];
        for (i, v) in [
            planes,
            xd[2] * xd[3],
            yd[2] * yd[3],
            gy.layout.offset,
            idx.layout.offset,
            gx.layout.offset,
        ]
        .into_iter()
        .enumerate()
        {
            p[i] = u(name, v)?;
        }
        let groups = self.groups_1d(name, planes)?;
        let spec = Self::alias(Spec::max_pool2d_grad(gx.elem), &[&gy, &idx], &gx);
        let bufs = [&gy.buffer, &idx.buffer, &gx.buffer];
        self.dispatch(st, &spec, name, &p, &bufs, groups)
    }
}
