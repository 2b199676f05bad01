//! `exec`: each primitive becomes one dispatch of a WGSL entry point `{op}_{dtype}` with a
//! parameter block of shapes, strides and offsets (views are never copied to broadcast).

use crate::{State, WgpuDriver, BATCH_WORDS};
use lantern::driver::View;
use lantern::ops::{BinaryOp, Distribution, FusedOp, PrimOp, ReduceOp, ScanOp, UnaryOp};
use lantern::{DType, Error, Layout, Result, Scalar};
use lantern_kernels::wgsl::{err, Elem, Spec, HEADER_WORDS, MATMUL_TILE, PARAMS_WORDS, WORKGROUP};
use std::num::NonZeroU64;

mod conv;

/// A resolved operand: its buffer, layout and element type.
pub(crate) struct Arg {
    pub buffer: wgpu::Buffer,
    pub layout: Layout,
    pub elem: Elem,
}

/// The kernel element type of a dtype; f64 has none in WGSL.
pub(crate) fn elem(op: &'static str, dt: DType, device: &str) -> Result<Elem> {
    Ok(match dt {
        DType::Bool => Elem::Bool,
        DType::U8 => Elem::U8,
        DType::I8 => Elem::I8,
        DType::I32 => Elem::I32,
        DType::I64 => Elem::I64,
        DType::F16 => Elem::F16,
        DType::BF16 => Elem::BF16,
        DType::F32 => Elem::F32,
        DType::F64 => return Err(unsupported(op, dt.name(), device)),
    })
}

fn unsupported(op: &'static str, dtype: &str, device: &str) -> Error {
    Error::Unsupported {
        op,
        dtype: dtype.to_string(),
        device: device.to_string(),
    }
}

fn u(op: &'static str, x: usize) -> Result<u32> {
    u32::try_from(x).map_err(|_| Error::Arg {
        op,
        msg: format!("{x} does not fit the wgpu driver's 32-bit indexing"),
    })
}

fn arity(op: &'static str, ins: &[View], n: usize) -> Result<()> {
    if ins.len() == n {
        Ok(())
    } else {
        Err(Error::Driver(format!(
            "{op}: expected {n} inputs, got {}",
            ins.len()
        )))
    }
}

fn same_shape(op: &'static str, y: &Arg, xs: &[&Arg]) -> Result<()> {
    for x in xs {
        if x.layout.shape != y.layout.shape {
            return Err(Error::Shape {
                op,
                expected: format!("{}", y.layout.shape),
                got: format!("{}", x.layout.shape),
            });
        }
    }
    Ok(())
}

/// Drops size-1 dims and merges dims that are contiguous for every operand (as the CPU
/// driver's `coalesce`): a contiguous tensor becomes one dim, whatever its rank.
fn coalesce(shape: &[usize], strides: &[&[usize]]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut dims: Vec<usize> = Vec::new();
    let mut st: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        let merge = !dims.is_empty()
            && strides
                .iter()
                .zip(&st)
                .all(|(s, o)| o.last().is_some_and(|&l| l == s[i] * d));
        if merge {
            let j = dims.len() - 1;
            dims[j] *= d;
            for (o, s) in st.iter_mut().zip(strides) {
                o[j] = s[i];
            }
        } else {
            dims.push(d);
            for (o, s) in st.iter_mut().zip(strides) {
                o.push(s[i]);
            }
        }
    }
    (dims, st)
}

/// The elementwise parameter block over `shape` for operands (strides, offset), outputs
/// first: `[numel, rank, scalars.., dims.., (offset, strides..) per operand]`.
fn elementwise(op: &'static str, shape: &[usize], ops: &[(&[usize], usize)]) -> Result<Vec<u32>> {
    let strides: Vec<&[usize]> = ops.iter().map(|o| o.0).collect();
    let (dims, st) = coalesce(shape, &strides);
    let numel: usize = shape.iter().product();
    let mut p = vec![0u32; HEADER_WORDS];
    p[0] = u(op, numel)?;
    p[1] = u(op, dims.len())?;
    for &d in &dims {
        p.push(u(op, d)?);
    }
    for (o, s) in ops.iter().zip(&st) {
        p.push(u(op, o.1)?);
        for &x in s {
            p.push(u(op, x)?);
        }
    }
    Ok(p)
}

fn ew_params(op: &'static str, y: &Arg, xs: &[&Arg]) -> Result<Vec<u32>> {
    let mut ops = vec![(&y.layout.strides[..], y.layout.offset)];
    for x in xs {
        ops.push((&x.layout.strides[..], x.layout.offset));
    }
    elementwise(op, y.layout.dims(), &ops)
}

/// Bits of a scalar in an element's compute type (f32, i32 or u32), with the CPU's
/// conversions; an int64 that does not fit in 32 bits is unsupported here.
fn scalar_bits(op: &'static str, e: Elem, v: Scalar, device: &str) -> Result<u32> {
    Ok(match e {
        Elem::F32 | Elem::F16 | Elem::BF16 => (v.to_f64() as f32).to_bits(),
        Elem::Bool => (v.to_f64() != 0.0) as u32,
        Elem::U8 | Elem::I8 | Elem::I32 => match v {
            Scalar::Float(f) => (f as i64) as i32 as u32,
            _ => v.to_i64() as i32 as u32,
        },
        Elem::I64 => {
            let i = match v {
                Scalar::Float(f) => f as i64,
                _ => v.to_i64(),
            };
            i32::try_from(i).map_err(|_| unsupported(op, "int64 values beyond 32 bits", device))?
                as u32
        }
    })
}

impl WgpuDriver {
    fn groups_1d(&self, op: &'static str, n: usize) -> Result<[u32; 3]> {
        let max = self.limits.max_compute_workgroups_per_dimension.max(1) as usize;
        let wg = n.div_ceil(WORKGROUP as usize).max(1);
        let x = wg.min(max);
        let y = wg.div_ceil(x);
        if y > max {
            return Err(Error::Arg {
                op,
                msg: format!("{n} elements exceed the device's dispatch limits"),
            });
        }
        Ok([x as u32, y as u32, 1])
    }

    /// Workgroups for one workgroup per item (reductions).
    fn groups_per_item(&self, op: &'static str, n: usize) -> Result<[u32; 3]> {
        self.groups_1d(op, n.saturating_mul(WORKGROUP as usize))
    }

    fn resolve(&self, st: &State, op: &'static str, v: &View) -> Result<Arg> {
        let (buffer, size) = self.buffer(st, op, v.buf)?;
        let elem = elem(op, v.dtype, &self.label)?;
        let end = v.layout.span_end().checked_mul(v.dtype.size());
        // An empty view touches nothing: its offset may lie past the buffer's end (narrowing
        // at the end of several dims does that), and every kernel returns before using it.
        if v.layout.numel() != 0 && end.is_none_or(|e| e as u64 > size) {
            return Err(Error::Driver(format!(
                "{op}: view {:?} of {} exceeds its buffer of {size} bytes",
                v.layout, v.dtype
            )));
        }
        Ok(Arg {
            buffer,
            layout: v.layout.clone(),
            elem,
        })
    }

    fn pipeline(
        &self,
        st: &mut State,
        spec: &Spec,
        op: &'static str,
    ) -> Result<wgpu::ComputePipeline> {
        if let Some(p) = st.pipelines.get(&(spec.clone(), op)) {
            return Ok(p.clone());
        }
        #[cfg(not(target_arch = "wasm32"))]
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = match st.modules.get(spec) {
            Some(m) => m.clone(),
            None => {
                let src = spec.source();
                let m = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(spec.group.name()),
                        source: wgpu::ShaderSource::Wgsl(src.into()),
                    });
                st.modules.insert(spec.clone(), m.clone());
                m
            }
        };
        let key = (spec.inputs.len(), spec.outputs.len(), spec.aliased);
        if let std::collections::hash_map::Entry::Vacant(slot) = st.layouts.entry(key) {
            let buf = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let mut entries = vec![
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                buf(1, false),
            ];
            for i in 0..key.0 {
                entries.push(buf(2 + i as u32, !key.2));
            }
            for i in 0..key.1 {
                entries.push(buf((2 + key.0 + i) as u32, false));
            }
            let bgl = self
                .device
                .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: None,
                    entries: &entries,
                });
            let pl = self
                .device
                .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: None,
                    bind_group_layouts: &[Some(&bgl)],
                    immediate_size: 0,
                });
            slot.insert((bgl, pl));
        }
        let (_, pl) = st.layouts.get(&key).expect("internal: inserted above");
        let entry = spec.entry(op);
        let p = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&entry),
                layout: Some(pl),
                module: &module,
                entry_point: Some(&entry),
                compilation_options: Default::default(),
                cache: None,
            });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(e) = lantern::block_on(scope.pop()) {
            st.modules.remove(spec);
            return Err(Error::Driver(format!("wgpu: building kernel {entry}: {e}")));
        }
        st.pipelines.insert((spec.clone(), op), p.clone());
        Ok(p)
    }

    /// Encodes one dispatch of `{op}_{dtype}` into the open compute pass.
    fn dispatch(
        &self,
        st: &mut State,
        spec: &Spec,
        op: &'static str,
        params: &[u32],
        bufs: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<()> {
        if spec.aliased && self.snapshot_aliased {
            let (plain, bound, temps) = self.snapshot_inputs(st, spec, bufs)?;
            let refs: Vec<&wgpu::Buffer> = bound.iter().collect();
            let r = self.dispatch(st, &plain, op, params, &refs, groups);
            for (tmp, class) in temps {
                st.pool.release(tmp, class);
            }
            return r;
        }
        let pipeline = self.pipeline(st, spec, op)?;
        let align = (self.limits.min_uniform_buffer_offset_alignment as usize / 4).max(1);
        if params.len() > PARAMS_WORDS {
            return Err(Error::Arg {
                op,
                msg: "too many dims for the wgpu driver (after merging contiguous dims)"
                    .to_string(),
            });
        }
        let mut start = st.params.len().div_ceil(align) * align;
        if start + PARAMS_WORDS > BATCH_WORDS {
            self.flush(st);
            start = 0;
        }
        st.params.resize(start, 0);
        st.params.extend_from_slice(params);
        st.params.resize(start + PARAMS_WORDS, 0);
        let key = (spec.inputs.len(), spec.outputs.len(), spec.aliased);
        let (bgl, _) = st
            .layouts
            .get(&key)
            .expect("internal: made with the pipeline");
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &st.params_buf,
                    offset: (start * 4) as u64,
                    size: NonZeroU64::new((PARAMS_WORDS * 4) as u64),
                }),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: self.err_buf.as_entire_binding(),
            },
        ];
        for (i, b) in bufs.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry {
                binding: 2 + i as u32,
                resource: b.as_entire_binding(),
            });
        }
        let bg = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: bgl,
            entries: &entries,
        });
        if st.pass.is_none() {
            let enc = st.encoder.get_or_insert_with(|| {
                self.device
                    .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
            });
            st.pass = Some(
                enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: None,
                })
                .forget_lifetime(),
            );
        }
        let pass = st.pass.as_mut().expect("internal: opened above");
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bg, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        st.dispatches += 1;
        Ok(())
    }

    /// The bindings of an aliased dispatch with every input that shares an output's buffer
    /// replaced by a copy of that buffer, the spec without aliasing, and the copies (taken
    /// from the pool; the caller returns them after encoding, as later work on them is
    /// encoded after the dispatch).
    #[allow(clippy::type_complexity)]
    fn snapshot_inputs(
        &self,
        st: &mut State,
        spec: &Spec,
        bufs: &[&wgpu::Buffer],
    ) -> Result<(Spec, Vec<wgpu::Buffer>, Vec<(wgpu::Buffer, usize)>)> {
        let n_in = spec.inputs.len();
        let mut bound: Vec<wgpu::Buffer> = bufs.iter().map(|b| (*b).clone()).collect();
        let mut temps = Vec::new();
        for i in 0..n_in {
            if !bufs[n_in..].contains(&bufs[i]) {
                continue;
            }
            // The same buffer twice among the inputs (`x.add_(&x)`) shares one snapshot.
            if let Some(j) = (0..i).find(|&j| bufs[j] == bufs[i]) {
                bound[i] = bound[j].clone();
                continue;
            }
            let size = bufs[i].size();
            let (tmp, class) = match st.pool.acquire(size as usize, |c| self.raw_alloc(c), drop) {
                Ok(t) => t,
                Err(e) => {
                    for (t, c) in temps {
                        st.pool.release(t, c);
                    }
                    return Err(e);
                }
            };
            self.encoder(st)
                .copy_buffer_to_buffer(bufs[i], 0, &tmp, 0, size);
            bound[i] = tmp.clone();
            temps.push((tmp, class));
        }
        let mut plain = spec.clone();
        plain.aliased = false;
        Ok((plain, bound, temps))
    }

    /// Spec with `aliased` set when an input shares a buffer with an output.
    fn alias(spec: Spec, ins: &[&Arg], y: &Arg) -> Spec {
        if ins.iter().any(|x| x.buffer == y.buffer) {
            spec.aliased()
        } else {
            spec
        }
    }

    /// A strided copy of one dtype (used by `Copy`, reads of strided views, unaligned writes).
    pub(crate) fn copy(&self, st: &mut State, x: &Arg, y: &Arg) -> Result<()> {
        same_shape("copy", y, &[x])?;
        if y.layout.numel() == 0 {
            return Ok(());
        }
        let p = ew_params("copy", y, &[x])?;
        let g = self.groups_1d("copy", y.layout.numel())?;
        let spec = Self::alias(Spec::copy(x.elem), &[x], y);
        self.dispatch(st, &spec, "copy", &p, &[&x.buffer, &y.buffer], g)
    }

    /// Runs `{op}` elementwise with inputs `xs` into `y`.
    fn ew(
        &self,
        st: &mut State,
        spec: Spec,
        op: &'static str,
        xs: &[&Arg],
        y: &Arg,
        scalars: &[u32],
    ) -> Result<()> {
        same_shape(op, y, xs)?;
        let n = y.layout.numel();
        if n == 0 {
            return Ok(());
        }
        let mut p = ew_params(op, y, xs)?;
        p[2..2 + scalars.len()].copy_from_slice(scalars);
        let g = self.groups_1d(op, n)?;
        let spec = Self::alias(spec, xs, y);
        let mut bufs: Vec<&wgpu::Buffer> = xs.iter().map(|x| &x.buffer).collect();
        bufs.push(&y.buffer);
        self.dispatch(st, &spec, op, &p, &bufs, g)
    }

    pub(crate) fn exec_locked(
        &self,
        st: &mut State,
        op: &PrimOp,
        ins: &[View],
        outs: &[View],
    ) -> Result<()> {
        let name = op.name();
        if outs.len() != 1 {
            return Err(Error::Driver(format!(
                "{name}: the wgpu driver's primitives take 1 output, got {}",
                outs.len()
            )));
        }
        lantern::driver::check_views(op, ins, &outs[0])?;
        let y = self.resolve(st, name, &outs[0])?;
        let mut xs = Vec::with_capacity(ins.len());
        for v in ins {
            xs.push(self.resolve(st, name, v)?);
        }
        let dev = self.label.as_str();
        let unsup = |e: Elem| unsupported(name, e.name(), dev);
        match op {
            PrimOp::Copy => {
                arity(name, ins, 1)?;
                if xs[0].elem != y.elem {
                    return Err(Error::DType {
                        op: name,
                        msg: format!("copy from {:?} to {:?}", xs[0].elem, y.elem),
                    });
                }
                self.copy(st, &xs[0], &y)
            }
            PrimOp::Cast => {
                arity(name, ins, 1)?;
                if xs[0].elem == y.elem {
                    return self.copy(st, &xs[0], &y);
                }
                self.ew(
                    st,
                    Spec::cast(xs[0].elem, y.elem),
                    "cast",
                    &[&xs[0]],
                    &y,
                    &[],
                )
            }
            PrimOp::Fill(v) => {
                arity(name, ins, 0)?;
                let bits = scalar_bits(name, y.elem, *v, dev)?;
                self.ew(st, Spec::fill(y.elem), "fill", &[], &y, &[bits])
            }
            PrimOp::Iota { start, step } => {
                arity(name, ins, 0)?;
                let (a, b) = if y.elem.is_float() {
                    ((*start as f32).to_bits(), (*step as f32).to_bits())
                } else if start.fract() == 0.0 && step.fract() == 0.0 {
                    let s = scalar_bits(name, y.elem, Scalar::Int(*start as i64), dev)?;
                    let d = scalar_bits(name, y.elem, Scalar::Int(*step as i64), dev)?;
                    (s, d)
                } else {
                    return Err(unsupported(
                        name,
                        "integer ranges with fractional steps",
                        dev,
                    ));
                };
                self.ew(st, Spec::iota(y.elem), "iota", &[], &y, &[a, b])
            }
            PrimOp::Unary(uop) => {
                arity(name, ins, 1)?;
                let x = &xs[0];
                let entry = unary_entry(*uop, x.elem).ok_or_else(|| unsup(x.elem))?;
                self.ew(st, Spec::unary(x.elem), entry, &[x], &y, &[])
            }
            PrimOp::Binary(bop) => {
                arity(name, ins, 2)?;
                let e = xs[0].elem;
                if xs[1].elem != e {
                    return Err(Error::DType {
                        op: name,
                        msg: format!("operands of {:?} and {:?}", e, xs[1].elem),
                    });
                }
                let (spec, entry) = if bop.is_cmp() {
                    (Spec::compare(e), bop.name())
                } else {
                    (
                        Spec::binary(e),
                        binary_entry(*bop, e).ok_or_else(|| unsup(e))?,
                    )
                };
                self.ew(st, spec, entry, &[&xs[0], &xs[1]], &y, &[])
            }
            PrimOp::Where => {
                arity(name, ins, 3)?;
                if xs[0].elem != Elem::Bool {
                    return Err(Error::DType {
                        op: name,
                        msg: format!("condition of {:?}", xs[0].elem),
                    });
                }
                self.ew(
                    st,
                    Spec::where_(y.elem),
                    "where",
                    &[&xs[0], &xs[1], &xs[2]],
                    &y,
                    &[],
                )
            }
            PrimOp::Reduce { op: rop, axes } => {
                arity(name, ins, 1)?;
                self.reduce(st, *rop, axes, &xs[0], &y)
            }
            PrimOp::Matmul { alpha, beta } => {
                arity(name, ins, 2)?;
                self.matmul(st, &xs[0], &xs[1], &y, *alpha, *beta)
            }
            PrimOp::Gather { dim } => {
                arity(name, ins, 2)?;
                self.gather(st, *dim, &xs[0], &xs[1], &y, false)
            }
            PrimOp::IndexSelect { dim } => {
                arity(name, ins, 2)?;
                self.gather(st, *dim, &xs[0], &xs[1], &y, true)
            }
            PrimOp::ScatterAdd { dim } => {
                arity(name, ins, 2)?;
                self.scatter_add(st, *dim, &xs[0], &xs[1], &y)
            }
            PrimOp::Scan { op: sop, dim } => {
                arity(name, ins, 1)?;
                self.scan(st, *sop, *dim, &xs[0], &y)
            }
            PrimOp::Random { dist, seed, offset } => {
                arity(name, ins, 0)?;
                self.random(st, *dist, *seed, *offset, &y)
            }
        }
    }

    /// Softmax, log-softmax and layer norm over the last axis of contiguous float views in
    /// one kernel, optimizer steps, and convolutions and max pools (`conv`); `None` (core's
    /// composed default) for other fused ops, dtypes or layouts.
    pub(crate) fn fused_locked(
        &self,
        st: &mut State,
        op: &FusedOp,
        ins: &[View],
        outs: &[View],
    ) -> Option<Result<()>> {
        if let Some(r) = self.conv_fused(st, op, ins, outs) {
            return Some(r);
        }
        if let Some((name, g, outs)) = lantern::ops::optim_step_views(op, ins, outs, &[DType::F32])
        {
            return self.optim_step(st, op, name, g, outs);
        }
        const FLOATS: [DType; 3] = [DType::F32, DType::F16, DType::BF16];
        if let Some(v) = lantern::ops::layer_norm_views(op, ins, outs, &FLOATS) {
            return Some(self.layer_norm(st, &v));
        }
        let (name, x, y) = lantern::ops::softmax_rows(op, ins, outs, &FLOATS)?;
        Some((|| {
            let (x, y) = (self.resolve(st, name, x)?, self.resolve(st, name, y)?);
            let cols = *x.layout.dims().last().unwrap_or(&1);
            let rows = x.layout.numel() / cols.max(1);
            if rows == 0 || cols == 0 {
                return Ok(());
            }
            let mut p = vec![0u32; HEADER_WORDS];
            p[0] = u(name, rows)?;
            p[1] = u(name, cols)?;
            p[2] = u(name, x.layout.offset)?;
            p[3] = u(name, y.layout.offset)?;
            let spec = Self::alias(Spec::fused(x.elem), &[&x], &y);
            let g = self.groups_per_item(name, rows)?;
            self.dispatch(st, &spec, name, &p, &[&x.buffer, &y.buffer], g)
        })())
    }

    /// One layer norm in one dispatch (a workgroup per row), on views that passed
    /// `lantern::ops::layer_norm_views`: mean and rstd are f32 for every input dtype here.
    fn layer_norm(&self, st: &mut State, v: &lantern::ops::LayerNormViews) -> Result<()> {
        let name = "layer_norm";
        let x = self.resolve(st, name, v.x)?;
        let w = v.weight.map(|w| self.resolve(st, name, w)).transpose()?;
        let b = v.bias.map(|b| self.resolve(st, name, b)).transpose()?;
        let outs = [v.y, v.mean, v.rstd].map(|o| self.resolve(st, name, o));
        let [y, mean, rstd] = outs;
        let (y, mean, rstd) = (y?, mean?, rstd?);
        let mut p = vec![0u32; HEADER_WORDS];
        p[0] = u(name, v.rows)?;
        p[1] = u(name, v.cols)?;
        p[2] = u(name, x.layout.offset)?;
        p[3] = u(name, y.layout.offset)?;
        p[4] = w.as_ref().map_or(Ok(0), |w| u(name, w.layout.offset))?;
        p[5] = b.as_ref().map_or(Ok(0), |b| u(name, b.layout.offset))?;
        p[6] = u(name, mean.layout.offset)?;
        p[7] = u(name, rstd.layout.offset)?;
        p[8] = (v.eps as f32).to_bits();
        let ins: Vec<&Arg> = [Some(&x), w.as_ref(), b.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        let mut spec = Spec::layer_norm(x.elem, w.is_some(), b.is_some());
        if [&y, &mean, &rstd]
            .iter()
            .any(|o| Self::alias(spec.clone(), &ins, o).aliased)
        {
            spec = spec.aliased();
        }
        let mut bufs: Vec<&wgpu::Buffer> = ins.iter().map(|a| &a.buffer).collect();
        bufs.extend([&y.buffer, &mean.buffer, &rstd.buffer]);
        let g = self.groups_per_item(name, v.rows)?;
        self.dispatch(st, &spec, name, &p, &bufs, g)
    }

    /// One optimizer update in one dispatch, on f32 views that passed
    /// `lantern::ops::optim_step_views` (its `name`).
    fn optim_step(
        &self,
        st: &mut State,
        op: &FusedOp,
        name: &'static str,
        g: &View,
        outs: &[View],
    ) -> Option<Result<()>> {
        let (spec, scalars): (Spec, Vec<u32>) = match op {
            FusedOp::AdamStep(a) => (
                Spec::adam(Elem::F32),
                [
                    a.decay_mul,
                    a.l2,
                    a.one_minus_beta1,
                    a.beta2,
                    a.one_minus_beta2,
                    a.bias2_sqrt,
                    a.eps,
                    a.neg_step_size,
                ]
                .iter()
                .map(|&x| (x as f32).to_bits())
                .collect(),
            ),
            FusedOp::SgdStep(o) => (
                Spec::sgd(Elem::F32),
                [o.lr, o.momentum, 1.0 - o.dampening, o.weight_decay]
                    .iter()
                    .map(|&x| (x as f32).to_bits())
                    .chain([o.nesterov as u32])
                    .collect(),
            ),
            _ => return None,
        };
        Some((|| {
            let g = self.resolve(st, name, g)?;
            let outs: Vec<Arg> = outs
                .iter()
                .map(|v| self.resolve(st, name, v))
                .collect::<Result<_>>()?;
            let n = g.layout.numel();
            if n == 0 {
                return Ok(());
            }
            let mut p = vec![u(name, n)?, u(name, g.layout.offset)?];
            for o in &outs {
                p.push(u(name, o.layout.offset)?);
            }
            p.resize(5, 0);
            p.extend(scalars);
            let mut bufs = vec![&g.buffer];
            bufs.extend(outs.iter().map(|o| &o.buffer));
            let g1 = self.groups_1d(name, n)?;
            self.dispatch(st, &spec, name, &p, &bufs, g1)
        })())
    }

    fn reduce(&self, st: &mut State, op: ReduceOp, axes: &[usize], x: &Arg, y: &Arg) -> Result<()> {
        let name = op.name();
        let r = x.layout.rank();
        if y.layout.rank() != r || axes.iter().any(|&a| a >= r) {
            return Err(Error::Shape {
                op: name,
                expected: format!("an output of rank {r} with reduced axes of size 1"),
                got: format!("{}", y.layout.shape),
            });
        }
        let (mut kd, mut kx, mut ky, mut rd, mut rx) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for d in 0..r {
            if axes.contains(&d) {
                rd.push(x.layout.dims()[d]);
                rx.push(x.layout.strides[d]);
            } else {
                kd.push(x.layout.dims()[d]);
                kx.push(x.layout.strides[d]);
                ky.push(y.layout.strides[d]);
            }
        }
        let (kd, ks) = coalesce(&kd, &[&kx, &ky]);
        let (rd, rs) = coalesce(&rd, &[&rx]);
        let nout: usize = kd.iter().product();
        let nred: usize = rd.iter().product();
        if nout == 0 {
            return Ok(());
        }
        let arg = matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin);
        if nred == 0 && !matches!(op, ReduceOp::Sum | ReduceOp::Prod) {
            return Err(Error::Arg {
                op: name,
                msg: "cannot reduce over an empty dimension".to_string(),
            });
        }
        if arg && rd.len() > 1 {
            return Err(Error::Arg {
                op: name,
                msg: "reduces over exactly one axis".to_string(),
            });
        }
        if arg && y.elem != Elem::I64 {
            return Err(Error::DType {
                op: name,
                msg: format!("output of {:?}, expected int64", y.elem),
            });
        }
        let mut p = vec![0u32; HEADER_WORDS];
        p[0] = u(name, nout)?;
        p[1] = u(name, kd.len())?;
        p[2] = u(name, rd.len())?;
        p[3] = u(name, nred)?;
        for v in kd
            .iter()
            .chain(&ks[0])
            .chain(&ks[1])
            .chain(&rd)
            .chain(&rs[0])
        {
            p.push(u(name, *v)?);
        }
        p.push(u(name, x.layout.offset)?);
        p.push(u(name, y.layout.offset)?);
        let spec = if arg {
            Spec::arg_reduce(x.elem)
        } else {
            Spec::reduce(x.elem)
        };
        let spec = Self::alias(spec, &[x], y);
        // Short reductions: one invocation per output; long ones: a workgroup tree.
        let small = nred <= 64;
        let entry = match (op, small) {
            (ReduceOp::Sum, false) => "sum",
            (ReduceOp::Sum, true) => "sum_small",
            (ReduceOp::Prod, false) => "prod",
            (ReduceOp::Prod, true) => "prod_small",
            (ReduceOp::Max, false) => "max",
            (ReduceOp::Max, true) => "max_small",
            (ReduceOp::Min, false) => "min",
            (ReduceOp::Min, true) => "min_small",
            (ReduceOp::ArgMax, false) => "argmax",
            (ReduceOp::ArgMax, true) => "argmax_small",
            (ReduceOp::ArgMin, false) => "argmin",
            (ReduceOp::ArgMin, true) => "argmin_small",
        };
        let g = if small {
            self.groups_1d(name, nout)?
        } else {
            self.groups_per_item(name, nout)?
        };
        self.dispatch(st, &spec, entry, &p, &[&x.buffer, &y.buffer], g)
    }

    fn matmul(
        &self,
        st: &mut State,
        a: &Arg,
        b: &Arg,
        y: &Arg,
        alpha: f64,
        beta: f64,
    ) -> Result<()> {
        let name = "matmul";
        let r = y.layout.rank();
        if r < 2 || a.layout.rank() != r || b.layout.rank() != r {
            return Err(Error::Shape {
                op: name,
                expected: "operands of one rank >= 2".to_string(),
                got: format!(
                    "{} @ {} -> {}",
                    a.layout.shape, b.layout.shape, y.layout.shape
                ),
            });
        }
        if a.elem != b.elem || a.elem != y.elem {
            return Err(Error::DType {
                op: name,
                msg: format!("{:?} @ {:?} -> {:?}", a.elem, b.elem, y.elem),
            });
        }
        let (m, n, k) = (
            y.layout.dims()[r - 2],
            y.layout.dims()[r - 1],
            a.layout.dims()[r - 1],
        );
        if a.layout.dims()[r - 2] != m || b.layout.dims()[r - 2] != k || b.layout.dims()[r - 1] != n
        {
            return Err(Error::Shape {
                op: name,
                expected: format!("[.., {m}, k] @ [.., k, {n}]"),
                got: format!("{} @ {}", a.layout.shape, b.layout.shape),
            });
        }
        let batch = &y.layout.dims()[..r - 2];
        let nbatch: usize = batch.iter().product();
        if m == 0 || n == 0 || nbatch == 0 {
            return Ok(());
        }
        let (ab, bb, yb) = (
            &a.layout.strides[..r - 2],
            &b.layout.strides[..r - 2],
            &y.layout.strides[..r - 2],
        );
        let (bd, bs) = coalesce(batch, &[ab, bb, yb]);
        let bits = |v: f64| match y.elem {
            Elem::F32 | Elem::F16 | Elem::BF16 => (v as f32).to_bits(),
            _ => v as i64 as i32 as u32,
        };
        let mut p = vec![0u32; HEADER_WORDS];
        p[0] = u(name, m)?;
        p[1] = u(name, n)?;
        p[2] = u(name, k)?;
        p[3] = u(name, nbatch)?;
        p[4] = u(name, bd.len())?;
        p[5] = bits(alpha);
        p[6] = bits(beta);
        p[7] = (beta != 0.0) as u32;
        let s = |l: &Layout, i: usize| l.strides[r - 2 + i];
        for v in [
            a.layout.offset,
            b.layout.offset,
            y.layout.offset,
            s(&a.layout, 0),
            s(&a.layout, 1),
            s(&b.layout, 0),
            s(&b.layout, 1),
            s(&y.layout, 0),
            s(&y.layout, 1),
        ]
        .iter()
        .chain(&bd)
        .chain(&bs[0])
        .chain(&bs[1])
        .chain(&bs[2])
        {
            p.push(u(name, *v)?);
        }
        let max = self.limits.max_compute_workgroups_per_dimension as usize;
        let gx = n.div_ceil(MATMUL_TILE as usize);
        let gy = m.div_ceil(MATMUL_TILE as usize);
        if gx > max || gy > max {
            return Err(Error::Arg {
                op: name,
                msg: format!("a {m} x {n} output exceeds the device's dispatch limits"),
            });
        }
        let spec = Self::alias(Spec::matmul(a.elem), &[a, b], y);
        // Batches beyond the z limit go in several dispatches (P[8]: the first batch).
        let mut b0 = 0;
        while b0 < nbatch {
            let nz = (nbatch - b0).min(max);
            p[8] = u(name, b0)?;
            self.dispatch(
                st,
                &spec,
                name,
                &p,
                &[&a.buffer, &b.buffer, &y.buffer],
                [gx as u32, gy as u32, nz as u32],
            )?;
            b0 += nz;
        }
        Ok(())
    }

    /// gather (y shaped like the index) and index_select (a 1-D index along `dim`).
    fn gather(
        &self,
        st: &mut State,
        dim: usize,
        x: &Arg,
        idx: &Arg,
        y: &Arg,
        select: bool,
    ) -> Result<()> {
        let name = if select { "index_select" } else { "gather" };
        let r = y.layout.rank();
        if dim >= r || x.layout.rank() != r || (!select && idx.layout.rank() != r) {
            return Err(Error::Shape {
                op: name,
                expected: format!("operands of rank {r} and dim < {r}"),
                got: format!("{} and index {}", x.layout.shape, idx.layout.shape),
            });
        }
        if !matches!(idx.elem, Elem::I64 | Elem::I32) {
            return Err(Error::DType {
                op: name,
                msg: format!("index of {:?}", idx.elem),
            });
        }
        if x.elem != y.elem {
            return Err(Error::DType {
                op: name,
                msg: format!("{:?} into {:?}", x.elem, y.elem),
            });
        }
        let n = y.layout.numel();
        if n == 0 {
            return Ok(());
        }
        let idx_strides: Vec<usize> = if select {
            if idx.layout.rank() != 1 || idx.layout.dims()[0] != y.layout.dims()[dim] {
                return Err(Error::Shape {
                    op: name,
                    expected: format!("a 1-D index of {} elements", y.layout.dims()[dim]),
                    got: format!("{}", idx.layout.shape),
                });
            }
            (0..r)
                .map(|d| if d == dim { idx.layout.strides[0] } else { 0 })
                .collect()
        } else {
            if idx.layout.shape != y.layout.shape {
                return Err(Error::Shape {
                    op: name,
                    expected: format!("an index shaped like the output, {}", y.layout.shape),
                    got: format!("{}", idx.layout.shape),
                });
            }
            idx.layout.strides.to_vec()
        };
        let code = if select {
            err::INDEX_SELECT
        } else {
            err::GATHER
        };
        let p = index_params(
            name,
            code,
            y.layout.dims(),
            dim,
            x.layout.dims()[dim],
            &[
                (&y.layout.strides, y.layout.offset),
                (&x.layout.strides, x.layout.offset),
                (&idx_strides, idx.layout.offset),
            ],
        )?;
        let g = self.groups_1d(name, n)?;
        let spec = Self::alias(Spec::gather(x.elem, idx.elem), &[x, idx], y);
        self.dispatch(
            st,
            &spec,
            "gather",
            &p,
            &[&x.buffer, &idx.buffer, &y.buffer],
            g,
        )
    }

    fn scatter_add(&self, st: &mut State, dim: usize, src: &Arg, idx: &Arg, y: &Arg) -> Result<()> {
        let name = "scatter_add";
        let r = idx.layout.rank();
        if dim >= r || y.layout.rank() != r || src.layout.rank() != r {
            return Err(Error::Shape {
                op: name,
                expected: format!("operands of rank {r} and dim < {r}"),
                got: format!("{} and index {}", src.layout.shape, idx.layout.shape),
            });
        }
        if !matches!(idx.elem, Elem::I64 | Elem::I32) || src.elem != y.elem {
            return Err(Error::DType {
                op: name,
                msg: format!(
                    "{:?} with an index of {:?} into {:?}",
                    src.elem, idx.elem, y.elem
                ),
            });
        }
        if y.elem == Elem::I64 {
            // The two words of an int64 cannot be updated in one atomic operation.
            return Err(unsupported(name, "int64", &self.label));
        }
        let n = idx.layout.numel();
        if n == 0 {
            return Ok(());
        }
        let p = index_params(
            name,
            err::SCATTER_ADD,
            idx.layout.dims(),
            dim,
            y.layout.dims()[dim],
            &[
                (&y.layout.strides, y.layout.offset),
                (&src.layout.strides, src.layout.offset),
                (&idx.layout.strides, idx.layout.offset),
            ],
        )?;
        let g = self.groups_1d(name, n)?;
        let spec = Self::alias(Spec::scatter_add(src.elem, idx.elem), &[src, idx], y);
        self.dispatch(
            st,
            &spec,
            "scatter_add",
            &p,
            &[&src.buffer, &idx.buffer, &y.buffer],
            g,
        )
    }

    fn scan(&self, st: &mut State, op: ScanOp, dim: usize, x: &Arg, y: &Arg) -> Result<()> {
        let name = match op {
            ScanOp::CumSum => "cumsum",
            ScanOp::CumProd => "cumprod",
        };
        same_shape(name, y, &[x])?;
        let r = x.layout.rank();
        if dim >= r {
            return Err(Error::Arg {
                op: name,
                msg: format!("dim {dim} out of range for rank {r}"),
            });
        }
        if x.layout.numel() == 0 {
            return Ok(());
        }
        let others = |l: &Layout| -> Vec<usize> {
            (0..r).filter(|&d| d != dim).map(|d| l.strides[d]).collect()
        };
        let od: Vec<usize> = (0..r)
            .filter(|&d| d != dim)
            .map(|d| x.layout.dims()[d])
            .collect();
        let (ys, xs) = (others(&y.layout), others(&x.layout));
        let mut p = elementwise(name, &od, &[(&ys, y.layout.offset), (&xs, x.layout.offset)])?;
        let rows: usize = od.iter().product();
        p[2] = u(name, x.layout.dims()[dim])?;
        p[3] = u(name, x.layout.strides[dim])?;
        p[4] = u(name, y.layout.strides[dim])?;
        let g = self.groups_1d(name, rows)?;
        let spec = Self::alias(Spec::scan(x.elem), &[x], y);
        self.dispatch(st, &spec, name, &p, &[&x.buffer, &y.buffer], g)
    }

    fn random(
        &self,
        st: &mut State,
        dist: Distribution,
        seed: u64,
        offset: u64,
        y: &Arg,
    ) -> Result<()> {
        let n = y.layout.numel();
        if n == 0 {
            return Ok(());
        }
        let mut p = ew_params("random", y, &[])?;
        p[2] = seed as u32;
        p[3] = (seed >> 32) as u32;
        p[4] = offset as u32;
        p[5] = (offset >> 32) as u32;
        // Element i uses counter offset + i; the kernel adds i to the low word with carry.
        let entry = match dist {
            Distribution::Uniform { low, high } => {
                let l = low as f32;
                let h = high as f32;
                // The smallest f32 >= high: the CPU compares the f32 result with high in f64.
                let h_up = if (h as f64) < high { next_up(h) } else { h };
                p[7] = l.to_bits();
                p[8] = ((high - low) as f32).to_bits();
                p[9] = h_up.to_bits();
                "uniform"
            }
            Distribution::Normal { mean, std } => {
                p[7] = (mean as f32).to_bits();
                p[8] = (std as f32).to_bits();
                "normal"
            }
            Distribution::Bernoulli { p: prob } => {
                // Draw k (24 bits) hits when k / 2^24 < p, i.e. k < ceil(p * 2^24).
                let t = (prob * 16_777_216.0).ceil();
                p[7] = if t.is_nan() || t <= 0.0 {
                    0
                } else {
                    t.min(16_777_216.0) as u32
                };
                "bernoulli"
            }
        };
        let g = self.groups_1d("random", n)?;
        self.dispatch(st, &Spec::random(y.elem), entry, &p, &[&y.buffer], g)
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let b = x.to_bits();
    f32::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

/// The index kernels' parameter block: the elementwise layout over `shape` (no coalescing:
/// `dim` keeps its meaning) with P[2] = dim, P[3] = the indexed dim's size and P[4] the
/// error bit naming the op (`err::GATHER`, ...) that a bad index sets with `err::INDEX`.
fn index_params(
    op: &'static str,
    code: u32,
    shape: &[usize],
    dim: usize,
    size: usize,
    ops: &[(&[usize], usize)],
) -> Result<Vec<u32>> {
    let mut p = vec![0u32; HEADER_WORDS];
    p[0] = u(op, shape.iter().product())?;
    p[1] = u(op, shape.len())?;
    p[2] = u(op, dim)?;
    p[3] = u(op, size)?;
    p[4] = code;
    for &d in shape {
        p.push(u(op, d)?);
    }
    for (s, off) in ops {
        p.push(u(op, *off)?);
        for &x in s.iter() {
            p.push(u(op, x)?);
        }
    }
    Ok(p)
}

/// The unary entry for an op on a dtype class, or `None` where the CPU driver also refuses.
fn unary_entry(op: UnaryOp, e: Elem) -> Option<&'static str> {
    use UnaryOp::*;
    match e.class() {
        "float" => match op {
            LogicalNot => None,
            _ => Some(op.name()),
        },
        "sint" => match op {
            Neg | Abs | Sign => Some(op.name()),
            Floor | Ceil | Round | Trunc => Some("identity"),
            Recip | Sqrt | Rsqrt | Exp | Exp2 | Expm1 | Log | Log2 | Log1p | Sin | Cos | Tanh
            | Erf | LogicalNot => None,
        },
        "uint" => match op {
            Neg | Sign => Some(op.name()),
            Abs | Floor | Ceil | Round | Trunc => Some("identity"),
            Recip | Sqrt | Rsqrt | Exp | Exp2 | Expm1 | Log | Log2 | Log1p | Sin | Cos | Tanh
            | Erf | LogicalNot => None,
        },
        _ => match op {
            LogicalNot => Some("logical_not"),
            Abs | Floor | Ceil | Round | Trunc => Some("identity"),
            _ => None,
        },
    }
}

/// The binary entry (non-comparison) for an op on a dtype class, as the CPU driver maps it.
fn binary_entry(op: BinaryOp, e: Elem) -> Option<&'static str> {
    use BinaryOp::*;
    match e.class() {
        "float" => match op {
            LogicalAnd | LogicalOr | LogicalXor | BitAnd | BitOr | BitXor => None,
            _ => Some(op.name()),
        },
        "sint" | "uint" => match op {
            LogicalAnd | LogicalOr | LogicalXor => None,
            _ => Some(op.name()),
        },
        _ => match op {
            LogicalAnd | BitAnd | Mul | Minimum => Some("logical_and"),
            LogicalOr | BitOr | Add | Maximum => Some("logical_or"),
            LogicalXor | BitXor => Some("logical_xor"),
            Sub | Div | Pow | Rem | FloorDiv => None,
            Eq | Ne | Lt | Le | Gt | Ge => Some(op.name()),
        },
    }
}
