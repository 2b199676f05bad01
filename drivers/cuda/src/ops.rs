//! `exec`: one arm per primitive (no wildcard arm), each checking what it can at call time
//! and queueing its kernel on the driver's stream without waiting.

use crate::device::{driver_err, Inner, KernelKey};
use crate::params::{
    self, coalesce, too_many_dims, vec_width, Ew, Idx, Operand, Red, Rnd, Scan, MAX_DIMS,
};
use cudarc::driver::result as cu;
use half::{bf16, f16};
use lantern::ops::FusedOp;
use lantern::ops::{BinaryOp, Distribution, PrimOp, ReduceOp, ScanOp, UnaryOp};
use lantern::{DType, Error, Layout, Result, Scalar, View};
use lantern_kernels::cuda::{Group, BINARY, FUSED, INDEX, LAYOUT, RANDOM, REDUCE, TERNARY, UNARY};
use std::ffi::c_void;

fn unsupported(inner: &Inner, op: &'static str, dt: DType) -> Error {
    Error::Unsupported {
        op,
        dtype: String::from(dt.name()),
        device: format!("cuda:{}", inner.ordinal),
    }
}

fn dtype_err(op: &'static str, msg: String) -> Error {
    Error::DType { op, msg }
}

fn shape_err(op: &'static str, expected: String, got: String) -> Error {
    Error::Shape { op, expected, got }
}

fn key(group: &Group, op: &'static str, dt: DType) -> KernelKey {
    KernelKey {
        group: group.name,
        op,
        dt,
        dt2: None,
        suffix: "",
    }
}

fn same_shape(op: &'static str, y: &View, x: &View) -> Result<()> {
    if x.layout.shape != y.layout.shape {
        return Err(shape_err(
            op,
            format!("an input of the output's shape {}", y.layout.shape),
            format!("{}", x.layout.shape),
        ));
    }
    Ok(())
}

pub(crate) fn exec(inner: &Inner, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()> {
    let name = op.name();
    if outs.len() != 1 {
        return Err(Error::Driver(format!(
            "{name}: the cuda driver writes exactly 1 output, got {}",
            outs.len()
        )));
    }
    // The shared operand contract (arity, dtypes, shapes, axes), so every driver rejects
    // a malformed call with the same error; the arms below add what CUDA needs.
    lantern::driver::check_views(op, ins, &outs[0])?;
    let arity = |n: usize| {
        if ins.len() == n {
            Ok(())
        } else {
            Err(Error::Driver(format!(
                "{name}: expected {n} inputs, got {}",
                ins.len()
            )))
        }
    };
    let y = &outs[0];
    match op {
        PrimOp::Copy => {
            arity(1)?;
            copy(inner, &ins[0], y)
        }
        PrimOp::Cast => {
            arity(1)?;
            cast(inner, &ins[0], y)
        }
        PrimOp::Fill(v) => {
            arity(0)?;
            fill(inner, y, *v)
        }
        PrimOp::Iota { start, step } => {
            arity(0)?;
            iota(inner, y, *start, *step)
        }
        PrimOp::Unary(u) => {
            arity(1)?;
            unary(inner, *u, &ins[0], y)
        }
        PrimOp::Binary(b) => {
            arity(2)?;
            binary(inner, *b, &ins[0], &ins[1], y)
        }
        PrimOp::Where => {
            arity(3)?;
            where_(inner, &ins[0], &ins[1], &ins[2], y)
        }
        PrimOp::Reduce { op, axes } => {
            arity(1)?;
            reduce(inner, *op, axes, &ins[0], y)
        }
        PrimOp::Matmul { alpha, beta } => {
            arity(2)?;
            crate::blas::matmul(inner, &ins[0], &ins[1], y, *alpha, *beta)
        }
        PrimOp::Gather { dim } => {
            arity(2)?;
            index(inner, IndexKind::Gather, *dim, &ins[0], &ins[1], y)
        }
        PrimOp::IndexSelect { dim } => {
            arity(2)?;
            index(inner, IndexKind::Select, *dim, &ins[0], &ins[1], y)
        }
        PrimOp::ScatterAdd { dim } => {
            arity(2)?;
            index(inner, IndexKind::ScatterAdd, *dim, &ins[0], &ins[1], y)
        }
        PrimOp::Scan { op, dim } => {
            arity(1)?;
            scan(inner, *op, *dim, &ins[0], y)
        }
        PrimOp::Random { dist, seed, offset } => {
            arity(0)?;
            random(inner, *dist, *seed, *offset, y)
        }
    }
}

/// Launches an elementwise kernel: `(Ew, y, inputs..., extra...)`.
#[allow(clippy::too_many_arguments)]
fn launch_ew(
    inner: &Inner,
    group: &Group,
    key: KernelKey,
    mut e: Ew,
    mut ptrs: [u64; 4],
    nptrs: usize,
    extra: &mut [*mut c_void],
    vec: usize,
) -> Result<()> {
    if e.numel == 0 {
        return Ok(());
    }
    let f = inner.func(group, key)?;
    let work = if e.mode == 2 {
        e.numel / vec as u64
    } else {
        e.numel
    };
    // One pass, no grid-stride loop: enough warps in flight to saturate memory.
    let blocks = work.div_ceil(256).clamp(1, i32::MAX as u64) as u32;
    let mut args: [*mut c_void; 8] = [std::ptr::null_mut(); 8];
    args[0] = &mut e as *mut Ew as *mut c_void;
    let (head, _) = ptrs.split_at_mut(nptrs);
    for (i, p) in head.iter_mut().enumerate() {
        args[1 + i] = p as *mut u64 as *mut c_void;
    }
    for (i, x) in extra.iter().enumerate() {
        args[1 + nptrs + i] = *x;
    }
    inner.launch(
        f,
        (blocks, 1, 1),
        (256, 1, 1),
        &mut args[..1 + nptrs + extra.len()],
    )
}

fn operand<'a>(v: &'a View, addr: u64) -> Operand<'a> {
    Operand {
        layout: &v.layout,
        size: v.dtype.size(),
        addr,
    }
}

fn copy(inner: &Inner, x: &View, y: &View) -> Result<()> {
    let op = "copy";
    if x.dtype != y.dtype {
        return Err(dtype_err(
            op,
            format!("copy needs one dtype, got {} and {}", x.dtype, y.dtype),
        ));
    }
    same_shape(op, y, x)?;
    let [py, px] = inner.resolve(op, [y, x])?;
    let n = y.layout.numel();
    if n == 0 || (py == px && x.layout == y.layout) {
        return Ok(());
    }
    if x.layout.is_contiguous() && y.layout.is_contiguous() {
        // SAFETY: both ranges lie in their buffers (resolve); stream-ordered.
        return unsafe { cu::memcpy_dtod_async(py, px, n * x.dtype.size(), inner.stream) }
            .map_err(|e| driver_err("copying on the device", e));
    }
    let es = x.dtype.size();
    let v = vec_width(es, es);
    let e = params::ew(op, x.dtype, &operand(y, py), &[operand(x, px)], Some(v))?;
    launch_ew(
        inner,
        &LAYOUT,
        key(&LAYOUT, "copy", x.dtype),
        e,
        [py, px, 0, 0],
        2,
        &mut [],
        v,
    )
}

fn cast(inner: &Inner, x: &View, y: &View) -> Result<()> {
    if x.dtype == y.dtype {
        return copy(inner, x, y);
    }
    let op = "cast";
    same_shape(op, y, x)?;
    let [py, px] = inner.resolve(op, [y, x])?;
    let v = vec_width(x.dtype.size(), y.dtype.size());
    let e = params::ew(op, x.dtype, &operand(y, py), &[operand(x, px)], Some(v))?;
    let k = KernelKey {
        group: LAYOUT.name,
        op: "cast",
        dt: x.dtype,
        dt2: Some(y.dtype),
        suffix: "",
    };
    launch_ew(inner, &LAYOUT, k, e, [py, px, 0, 0], 2, &mut [], v)
}

/// The element bits of a scalar in `dt`, with the CPU driver's conversions (`Num::from_f64`
/// saturates floats into ints; `from_i64` wraps).
pub(crate) fn scalar_bits(v: Scalar, dt: DType) -> u64 {
    fn from_f64(x: f64, dt: DType) -> u64 {
        match dt {
            DType::Bool => (x != 0.0) as u64,
            DType::U8 => x as u8 as u64,
            DType::I8 => x as i8 as u8 as u64,
            DType::I32 => x as i32 as u32 as u64,
            DType::I64 => x as i64 as u64,
            DType::F16 => f16::from_f64(x).to_bits() as u64,
            DType::BF16 => bf16::from_f64(x).to_bits() as u64,
            DType::F32 => (x as f32).to_bits() as u64,
            DType::F64 => x.to_bits(),
        }
    }
    fn from_i64(x: i64, dt: DType) -> u64 {
        match dt {
            DType::Bool => (x != 0) as u64,
            DType::U8 => x as u8 as u64,
            DType::I8 => x as i8 as u8 as u64,
            DType::I32 => x as i32 as u32 as u64,
            DType::I64 => x as u64,
            DType::F16 => f16::from_f64(x as f64).to_bits() as u64,
            DType::BF16 => bf16::from_f64(x as f64).to_bits() as u64,
            DType::F32 => (x as f32).to_bits() as u64,
            DType::F64 => (x as f64).to_bits(),
        }
    }
    match v {
        Scalar::Float(f) => from_f64(f, dt),
        Scalar::Int(i) => from_i64(i, dt),
        Scalar::Bool(b) => from_i64(b as i64, dt),
    }
}

fn fill(inner: &Inner, y: &View, v: Scalar) -> Result<()> {
    let [py] = inner.resolve("fill", [y])?;
    fill_bits(inner, y, py, scalar_bits(v, y.dtype))
}

fn fill_bits(inner: &Inner, y: &View, py: u64, mut bits: u64) -> Result<()> {
    let n = y.layout.numel();
    if n == 0 {
        return Ok(());
    }
    if y.layout.is_contiguous() {
        // SAFETY: the range lies in the buffer (resolve); stream-ordered.
        let r = unsafe {
            match y.dtype.size() {
                1 => Some(cu::memset_d8_async(py, bits as u8, n, inner.stream)),
                2 => Some(
                    cudarc::driver::sys::cuMemsetD16Async(py, bits as u16, n, inner.stream)
                        .result(),
                ),
                4 => Some(
                    cudarc::driver::sys::cuMemsetD32Async(py, bits as u32, n, inner.stream)
                        .result(),
                ),
                _ => None,
            }
        };
        if let Some(r) = r {
            return r.map_err(|e| driver_err("filling device memory", e));
        }
    }
    let e = params::ew("fill", y.dtype, &operand(y, py), &[], None)?;
    launch_ew(
        inner,
        &LAYOUT,
        key(&LAYOUT, "fill", y.dtype),
        e,
        [py, 0, 0, 0],
        1,
        &mut [&mut bits as *mut u64 as *mut c_void],
        1,
    )
}

fn iota(inner: &Inner, y: &View, mut start: f64, mut step: f64) -> Result<()> {
    let [py] = inner.resolve("iota", [y])?;
    let e = params::ew("iota", y.dtype, &operand(y, py), &[], None)?;
    launch_ew(
        inner,
        &LAYOUT,
        key(&LAYOUT, "iota", y.dtype),
        e,
        [py, 0, 0, 0],
        1,
        &mut [
            &mut start as *mut f64 as *mut c_void,
            &mut step as *mut f64 as *mut c_void,
        ],
        1,
    )
}

fn unary_supported(u: UnaryOp, dt: DType) -> bool {
    use UnaryOp::*;
    match dt {
        DType::F16 | DType::BF16 | DType::F32 | DType::F64 => u != LogicalNot,
        DType::I32 | DType::I64 | DType::I8 | DType::U8 => {
            matches!(u, Neg | Abs | Sign | Floor | Ceil | Round | Trunc)
        }
        DType::Bool => matches!(u, LogicalNot | Abs | Floor | Ceil | Round | Trunc),
    }
}

fn unary(inner: &Inner, u: UnaryOp, x: &View, y: &View) -> Result<()> {
    let op = u.name();
    if !unary_supported(u, x.dtype) {
        return Err(unsupported(inner, op, x.dtype));
    }
    if x.dtype != y.dtype {
        return Err(dtype_err(
            op,
            format!("input is {}, output {}", x.dtype, y.dtype),
        ));
    }
    same_shape(op, y, x)?;
    let [py, px] = inner.resolve(op, [y, x])?;
    let es = x.dtype.size();
    let v = vec_width(es, es);
    let e = params::ew(op, x.dtype, &operand(y, py), &[operand(x, px)], Some(v))?;
    launch_ew(
        inner,
        &UNARY,
        key(&UNARY, op, x.dtype),
        e,
        [py, px, 0, 0],
        2,
        &mut [],
        v,
    )
}

fn binary_supported(b: BinaryOp, dt: DType) -> bool {
    use BinaryOp::*;
    match dt {
        DType::F16 | DType::BF16 | DType::F32 | DType::F64 => !b.is_logical() && !b.is_bitwise(),
        DType::I32 | DType::I64 | DType::I8 | DType::U8 => !b.is_logical(),
        DType::Bool => !matches!(b, Sub | Div | Pow | Rem | FloorDiv),
    }
}

fn binary(inner: &Inner, b: BinaryOp, x1: &View, x2: &View, y: &View) -> Result<()> {
    let op = b.name();
    if x1.dtype != x2.dtype {
        return Err(dtype_err(
            op,
            format!(
                "operands must share a dtype, got {} and {}",
                x1.dtype, x2.dtype
            ),
        ));
    }
    if !binary_supported(b, x1.dtype) {
        return Err(unsupported(inner, op, x1.dtype));
    }
    let out_dt = if b.is_cmp() { DType::Bool } else { x1.dtype };
    if y.dtype != out_dt {
        return Err(dtype_err(
            op,
            format!("output must be {out_dt}, got {}", y.dtype),
        ));
    }
    same_shape(op, y, x1)?;
    same_shape(op, y, x2)?;
    let [py, pa, pb] = inner.resolve(op, [y, x1, x2])?;
    let v = vec_width(x1.dtype.size(), out_dt.size());
    let e = params::ew(
        op,
        x1.dtype,
        &operand(y, py),
        &[operand(x1, pa), operand(x2, pb)],
        Some(v),
    )?;
    let mut err = inner.err_flag;
    launch_ew(
        inner,
        &BINARY,
        key(&BINARY, op, x1.dtype),
        e,
        [py, pa, pb, 0],
        3,
        &mut [&mut err as *mut u64 as *mut c_void],
        v,
    )
}

fn where_(inner: &Inner, c: &View, a: &View, b: &View, y: &View) -> Result<()> {
    let op = "where";
    if c.dtype != DType::Bool {
        return Err(dtype_err(
            op,
            format!("the condition must be bool, got {}", c.dtype),
        ));
    }
    if a.dtype != y.dtype || b.dtype != y.dtype {
        return Err(dtype_err(
            op,
            format!(
                "values must share the output's dtype {}, got {} and {}",
                y.dtype, a.dtype, b.dtype
            ),
        ));
    }
    for x in [c, a, b] {
        same_shape(op, y, x)?;
    }
    let [py, pc, pa, pb] = inner.resolve(op, [y, c, a, b])?;
    let e = params::ew(
        op,
        y.dtype,
        &operand(y, py),
        &[operand(c, pc), operand(a, pa), operand(b, pb)],
        None,
    )?;
    launch_ew(
        inner,
        &TERNARY,
        key(&TERNARY, "where", y.dtype),
        e,
        [py, pc, pa, pb],
        4,
        &mut [],
        1,
    )
}

/// Bytes of one partial state (`S` in reduce.cu) of a reduction.
fn state_size(op: ReduceOp, dt: DType) -> usize {
    match op {
        ReduceOp::Sum | ReduceOp::Prod => match dt {
            DType::F16 | DType::BF16 | DType::F32 => 4,
            _ => 8,
        },
        ReduceOp::Max | ReduceOp::Min => match dt {
            DType::F16 | DType::BF16 => 4,
            d => d.size(),
        },
        ReduceOp::ArgMax | ReduceOp::ArgMin => 16,
    }
}

fn reduce(inner: &Inner, rop: ReduceOp, axes: &[usize], x: &View, y: &View) -> Result<()> {
    let op = rop.name();
    let r = x.layout.rank();
    let is_arg = matches!(rop, ReduceOp::ArgMax | ReduceOp::ArgMin);
    let out_dt = if is_arg { DType::I64 } else { x.dtype };
    if y.dtype != out_dt {
        return Err(dtype_err(
            op,
            format!("output must be {out_dt}, got {}", y.dtype),
        ));
    }
    if y.layout.rank() != r || axes.iter().any(|&a| a >= r) {
        return Err(shape_err(
            op,
            format!("an output of rank {r} and axes below it"),
            format!("output {} and axes {axes:?}", y.layout.shape),
        ));
    }
    let (mut kd, mut kx, mut ky, mut rd, mut rx) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for d in 0..r {
        let (n, yn) = (x.layout.dims()[d], y.layout.dims()[d]);
        if axes.contains(&d) {
            if yn != 1 {
                return Err(shape_err(
                    op,
                    format!("size 1 in reduced dim {d}"),
                    format!("{}", y.layout.shape),
                ));
            }
            rd.push(n);
            rx.push(x.layout.strides[d]);
        } else {
            if yn != n {
                return Err(shape_err(
                    op,
                    format!("{} in kept dim {d}", n),
                    format!("{}", y.layout.shape),
                ));
            }
            kd.push(n);
            kx.push(x.layout.strides[d]);
            ky.push(y.layout.strides[d]);
        }
    }
    let (kd, [kx, ky]) = coalesce::<2>(&kd, [&kx, &ky]);
    let (rd, [rx]) = coalesce::<1>(&rd, [&rx]);
    if kd.len() > MAX_DIMS || rd.len() > MAX_DIMS {
        return Err(too_many_dims(op, x.dtype, kd.len().max(rd.len())));
    }
    let nout: usize = kd.iter().product();
    let nred: usize = rd.iter().product();
    let [py, px] = inner.resolve(op, [y, x])?;
    if nout == 0 {
        return Ok(());
    }
    if nred == 0 {
        return match rop {
            ReduceOp::Sum => fill_bits(inner, y, py, scalar_bits(Scalar::Int(0), y.dtype)),
            ReduceOp::Prod => fill_bits(inner, y, py, scalar_bits(Scalar::Int(1), y.dtype)),
            _ => Err(Error::Arg {
                op,
                msg: String::from("cannot reduce over an empty dimension"),
            }),
        };
    }
    // Threads per output: a warp or a block along a unit-stride reduced axis, else one thread
    // per output so neighbouring threads read neighbouring kept elements.
    let sm = inner.sm_count as usize;
    let inner_unit = rx.last() == Some(&1);
    let kept_unit = kx.last() == Some(&1);
    let group: usize = if nred <= 8 {
        1
    } else if inner_unit || !kept_unit {
        if nred >= 4096 && nout <= sm * 4 {
            256
        } else {
            32
        }
    } else {
        1
    };
    // Split long reductions over grid.y when there are too few outputs to fill the GPU.
    let target = sm * 2048;
    let have = nout * group;
    let mut splits = 1usize;
    if have < target {
        splits = (target.div_ceil(have))
            .min(nred.div_ceil(group * 32))
            .clamp(1, 1024);
    }
    let chunk = nred.div_ceil(splits);
    let splits = nred.div_ceil(chunk);
    let mut p = Red {
        nout: nout as u64,
        nred: nred as u64,
        chunk: chunk as u64,
        krank: kd.len() as i32,
        rrank: rd.len() as i32,
        group: group as i32,
        splits: splits as i32,
        ..Red::default()
    };
    for d in 0..kd.len() {
        p.kdims[d] = kd[d] as u64;
        p.kx[d] = kx[d] as i64;
        p.ky[d] = ky[d] as i64;
    }
    for d in 0..rd.len() {
        p.rdims[d] = rd[d] as u64;
        p.rx[d] = rx[d] as i64;
    }
    let part = if splits > 1 {
        Some(inner.alloc(nout * splits * state_size(rop, x.dtype))?)
    } else {
        None
    };
    let mut run = || -> Result<()> {
        let mut pp = match part {
            Some(b) => {
                let v = View {
                    buf: b,
                    layout: Layout::contiguous(lantern::Shape::new(&[1])),
                    dtype: DType::U8,
                };
                inner.resolve(op, [&v])?[0]
            }
            None => 0,
        };
        let f = inner.func(&REDUCE, key(&REDUCE, op, x.dtype))?;
        let (mut py, mut px) = (py, px);
        let gx = nout.div_ceil(256 / group);
        let gx = u32::try_from(gx).map_err(|_| too_many_dims(op, x.dtype, gx))?;
        let mut args = [
            &mut p as *mut Red as *mut c_void,
            &mut py as *mut u64 as *mut c_void,
            &mut px as *mut u64 as *mut c_void,
            &mut pp as *mut u64 as *mut c_void,
        ];
        inner.launch(f, (gx, splits as u32, 1), (256, 1, 1), &mut args)?;
        if splits > 1 {
            let k = KernelKey {
                suffix: "_fin",
                ..key(&REDUCE, op, x.dtype)
            };
            let f = inner.func(&REDUCE, k)?;
            let mut args = [
                &mut p as *mut Red as *mut c_void,
                &mut py as *mut u64 as *mut c_void,
                &mut pp as *mut u64 as *mut c_void,
            ];
            inner.launch(f, (inner.blocks(nout as u64), 1, 1), (256, 1, 1), &mut args)?;
        }
        Ok(())
    };
    let r = run();
    // Stream order: the partials are consumed before any later work can reuse the buffer.
    if let Some(b) = part {
        inner.free(b);
    }
    r
}

fn scan(inner: &Inner, sop: ScanOp, dim: usize, x: &View, y: &View) -> Result<()> {
    let op = match sop {
        ScanOp::CumSum => "cumsum",
        ScanOp::CumProd => "cumprod",
    };
    if x.dtype != y.dtype {
        return Err(dtype_err(
            op,
            format!("input is {}, output {}", x.dtype, y.dtype),
        ));
    }
    same_shape(op, y, x)?;
    let r = x.layout.rank();
    if r == 0 {
        return copy(inner, x, y);
    }
    if dim >= r {
        return Err(Error::Arg {
            op,
            msg: format!("dim {dim} out of range for rank {r}"),
        });
    }
    let (mut od, mut ox, mut oy) = (Vec::new(), Vec::new(), Vec::new());
    for d in (0..r).filter(|&d| d != dim) {
        od.push(x.layout.dims()[d]);
        ox.push(x.layout.strides[d]);
        oy.push(y.layout.strides[d]);
    }
    let (od, [ox, oy]) = coalesce::<2>(&od, [&ox, &oy]);
    if od.len() > MAX_DIMS {
        return Err(too_many_dims(op, x.dtype, od.len()));
    }
    let n = x.layout.dims()[dim];
    let rows: usize = od.iter().product();
    let [py, px] = inner.resolve(op, [y, x])?;
    if n == 0 || rows == 0 {
        return Ok(());
    }
    let mut p = Scan {
        rows: rows as u64,
        n: n as u64,
        orank: od.len() as i32,
        mode: (n > 64) as i32,
        sx: x.layout.strides[dim] as i64,
        sy: y.layout.strides[dim] as i64,
        ..Scan::default()
    };
    for d in 0..od.len() {
        p.odims[d] = od[d] as u64;
        p.ox[d] = ox[d] as i64;
        p.oy[d] = oy[d] as i64;
    }
    let f = inner.func(&REDUCE, key(&REDUCE, op, x.dtype))?;
    let blocks = if p.mode == 0 {
        inner.blocks(rows as u64)
    } else {
        (rows.div_ceil(8) as u64).clamp(1, inner.sm_count as u64 * 16) as u32
    };
    let (mut py, mut px) = (py, px);
    let mut args = [
        &mut p as *mut Scan as *mut c_void,
        &mut py as *mut u64 as *mut c_void,
        &mut px as *mut u64 as *mut c_void,
    ];
    inner.launch(f, (blocks, 1, 1), (256, 1, 1), &mut args)
}

#[derive(Copy, Clone, PartialEq)]
enum IndexKind {
    Gather,
    Select,
    ScatterAdd,
}

fn index(inner: &Inner, kind: IndexKind, dim: usize, x: &View, idx: &View, y: &View) -> Result<()> {
    let op = match kind {
        IndexKind::Gather => "gather",
        IndexKind::Select => "index_select",
        IndexKind::ScatterAdd => "scatter_add",
    };
    if idx.dtype != DType::I64 {
        return Err(dtype_err(
            op,
            format!("index must be int64, got {}", idx.dtype),
        ));
    }
    if x.dtype != y.dtype {
        return Err(dtype_err(
            op,
            format!("values are {}, output {}", x.dtype, y.dtype),
        ));
    }
    let r = y.layout.rank();
    if x.layout.rank() != r || dim >= r.max(1) {
        return Err(shape_err(
            op,
            format!("operands of rank {r} and dim below it"),
            format!("{} and dim {dim}", x.layout.shape),
        ));
    }
    if r > MAX_DIMS {
        return Err(too_many_dims(op, x.dtype, r));
    }
    let (xd, yd, id) = (x.layout.dims(), y.layout.dims(), idx.layout.dims());
    let bad = |what: &str| {
        shape_err(
            op,
            String::from(what),
            format!(
                "x {}, index {}, out {}",
                x.layout.shape, idx.layout.shape, y.layout.shape
            ),
        )
    };
    let mut p = Idx {
        dim: dim as i32,
        ..Idx::default()
    };
    // (iterated view, indexed view): gather/index_select iterate y and index x; scatter_add
    // iterates the index (and src) and indexes y.
    let (it, tv) = match kind {
        IndexKind::Gather => {
            if idx.layout.rank() != r || id != yd || (0..r).any(|d| d != dim && yd[d] > xd[d]) {
                return Err(bad("an index shaped like the output, within x outside dim"));
            }
            (y, x)
        }
        IndexKind::Select => {
            if idx.layout.rank() > 1
                || (0..r).any(|d| {
                    if d == dim {
                        yd[d] != idx.layout.numel()
                    } else {
                        yd[d] != xd[d]
                    }
                })
            {
                return Err(bad(
                    "a 1-D index and an output of x's shape with the index's length at dim",
                ));
            }
            p.istride = idx.layout.strides.first().copied().unwrap_or(0) as i64;
            (y, x)
        }
        IndexKind::ScatterAdd => {
            if idx.layout.rank() != r
                || (0..r).any(|d| id[d] > xd[d] || (d != dim && id[d] > yd[d]))
            {
                return Err(bad(
                    "an index within src, and within the output outside dim",
                ));
            }
            (idx, y)
        }
    };
    let [py, px, pi] = inner.resolve(op, [y, x, idx])?;
    p.numel = it.layout.numel() as u64;
    if p.numel == 0 {
        return Ok(());
    }
    p.rank = r as i32;
    p.size = tv.layout.dims()[dim] as i64;
    p.tdim = tv.layout.strides[dim] as i64;
    // The iterated tensor's strides: y for gather/index_select, src (x) for scatter_add.
    let a = if kind == IndexKind::ScatterAdd {
        &x.layout.strides
    } else {
        &y.layout.strides
    };
    for d in 0..r {
        p.dims[d] = it.layout.dims()[d] as u64;
        p.a[d] = a[d] as i64;
        p.t[d] = tv.layout.strides[d] as i64;
        p.ix[d] = if kind == IndexKind::Select {
            0
        } else {
            idx.layout.strides[d] as i64
        };
    }
    let f = inner.func(&INDEX, key(&INDEX, op, x.dtype))?;
    let (mut py, mut px, mut pi, mut err) = (py, px, pi, inner.err_flag);
    let mut args = [
        &mut p as *mut Idx as *mut c_void,
        &mut py as *mut u64 as *mut c_void,
        &mut px as *mut u64 as *mut c_void,
        &mut pi as *mut u64 as *mut c_void,
        &mut err as *mut u64 as *mut c_void,
    ];
    inner.launch(f, (inner.blocks(p.numel), 1, 1), (256, 1, 1), &mut args)
}

fn random(inner: &Inner, dist: Distribution, seed: u64, offset: u64, y: &View) -> Result<()> {
    if !y.layout.is_contiguous() {
        return Err(Error::Driver(String::from(
            "random: the output must be contiguous",
        )));
    }
    let [py] = inner.resolve("random", [y])?;
    let n = y.layout.numel();
    if n == 0 {
        return Ok(());
    }
    let (name, a, b) = match dist {
        Distribution::Uniform { low, high } => ("uniform", low, high),
        Distribution::Normal { mean, std } => ("normal", mean, std),
        Distribution::Bernoulli { p } => ("bernoulli", p, 0.0),
    };
    let mut p = Rnd {
        n: n as u64,
        seed,
        offset,
        a,
        b,
    };
    let f = inner.func(&RANDOM, key(&RANDOM, name, y.dtype))?;
    let mut py = py;
    let mut args = [
        &mut p as *mut Rnd as *mut c_void,
        &mut py as *mut u64 as *mut c_void,
    ];
    inner.launch(f, (inner.blocks(n as u64), 1, 1), (256, 1, 1), &mut args)
}

/// `struct Rows` in `fused.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct Rows {
    rows: u64,
    cols: u64,
}

/// Floating dtypes the fused kernels are built for.
const FUSED_DTYPES: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];

/// One kernel for softmax, log-softmax and layer norm over the last axis of a contiguous
/// tensor, and for the optimizer updates; `None` (core's composed default) for every other
/// fused op, dtype or layout.
pub(crate) fn fused(
    inner: &Inner,
    op: &FusedOp,
    ins: &[View],
    outs: &[View],
) -> Option<Result<()>> {
    if matches!(op, FusedOp::AdamStep(_) | FusedOp::SgdStep(_)) {
        return optim_step(inner, op, ins, outs);
    }
    if let Some(v) = lantern::ops::layer_norm_views(op, ins, outs, &FUSED_DTYPES) {
        return Some(layer_norm(inner, &v));
    }
    let (name, x, y) = lantern::ops::softmax_rows(op, ins, outs, &FUSED_DTYPES)?;
    Some((|| {
        let cols = *x.layout.dims().last().unwrap_or(&1);
        let rows = x.layout.numel() / cols.max(1);
        let [mut py, mut px] = inner.resolve(name, [y, x])?;
        if rows == 0 || cols == 0 {
            return Ok(());
        }
        let mut p = Rows {
            rows: rows as u64,
            cols: cols as u64,
        };
        let f = inner.func(&FUSED, key(&FUSED, name, x.dtype))?;
        let grid = rows.min(65_535) as u32;
        let mut args = [
            &mut p as *mut Rows as *mut c_void,
            &mut py as *mut u64 as *mut c_void,
            &mut px as *mut u64 as *mut c_void,
        ];
        inner.launch(f, (grid, 1, 1), (256, 1, 1), &mut args)
    })())
}

/// `struct LayerNorm` in `fused.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct LayerNormParams {
    rows: u64,
    cols: u64,
    eps: f64,
}

/// One layer norm kernel (a block per row, as softmax), on views that passed
/// `lantern::ops::layer_norm_views`: mean and rstd are in the kernel's compute type (f32 for
/// f16/bf16), which is `lantern::ops::layer_norm_stats_dtype`.
fn layer_norm(inner: &Inner, v: &lantern::ops::LayerNormViews) -> Result<()> {
    let name = "layer_norm";
    let [mut py, mut pm, mut pr, mut px] = inner.resolve(name, [v.y, v.mean, v.rstd, v.x])?;
    // A null weight or bias pointer: the kernel skips that step.
    let opt =
        |o: Option<&View>| -> Result<u64> { o.map_or(Ok(0), |o| Ok(inner.resolve(name, [o])?[0])) };
    let (mut pw, mut pb) = (opt(v.weight)?, opt(v.bias)?);
    let mut p = LayerNormParams {
        rows: v.rows as u64,
        cols: v.cols as u64,
        eps: v.eps,
    };
    let f = inner.func(&FUSED, key(&FUSED, name, v.x.dtype))?;
    let grid = v.rows.min(65_535) as u32;
    let mut args = [
        &mut p as *mut LayerNormParams as *mut c_void,
        &mut py as *mut u64 as *mut c_void,
        &mut pm as *mut u64 as *mut c_void,
        &mut pr as *mut u64 as *mut c_void,
        &mut px as *mut u64 as *mut c_void,
        &mut pw as *mut u64 as *mut c_void,
        &mut pb as *mut u64 as *mut c_void,
    ];
    inner.launch(f, (grid, 1, 1), (256, 1, 1), &mut args)
}

/// `struct Adam` in `fused.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct AdamParams {
    n: u64,
    decay_mul: f64,
    l2: f64,
    one_minus_b1: f64,
    b2: f64,
    one_minus_b2: f64,
    bias2_sqrt: f64,
    eps: f64,
    neg_step_size: f64,
}

/// `struct Sgd` in `fused.cu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct SgdParams {
    n: u64,
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: i32,
}

/// One optimizer update in one kernel, on views that pass `lantern::ops::optim_step_views`
/// (else `None`: the composed update).
fn optim_step(inner: &Inner, op: &FusedOp, ins: &[View], outs: &[View]) -> Option<Result<()>> {
    let (name, g, outs) = lantern::ops::optim_step_views(op, ins, outs, &FUSED_DTYPES)?;
    let n = g.layout.numel();
    let adam = outs.len() == 3;
    Some((|| {
        // Device pointers of param, grad, and the state buffers (v unused by SGD).
        let [mut pp, mut pg] = inner.resolve(name, [&outs[0], g])?;
        let mut pm = inner.resolve(name, [&outs[1]])?[0];
        let mut pv = if adam {
            inner.resolve(name, [&outs[2]])?[0]
        } else {
            0
        };
        if n == 0 {
            return Ok(());
        }
        let f = inner.func(&FUSED, key(&FUSED, name, g.dtype))?;
        let grid = (inner.blocks(n as u64), 1, 1);
        let mut adam_q: AdamParams;
        let mut sgd_q: SgdParams;
        let q: *mut c_void = match op {
            FusedOp::AdamStep(a) => {
                adam_q = AdamParams {
                    n: n as u64,
                    decay_mul: a.decay_mul,
                    l2: a.l2,
                    one_minus_b1: a.one_minus_beta1,
                    b2: a.beta2,
                    one_minus_b2: a.one_minus_beta2,
                    bias2_sqrt: a.bias2_sqrt,
                    eps: a.eps,
                    neg_step_size: a.neg_step_size,
                };
                &mut adam_q as *mut AdamParams as *mut c_void
            }
            FusedOp::SgdStep(o) => {
                sgd_q = SgdParams {
                    n: n as u64,
                    lr: o.lr,
                    momentum: o.momentum,
                    dampening: o.dampening,
                    weight_decay: o.weight_decay,
                    nesterov: o.nesterov as i32,
                };
                &mut sgd_q as *mut SgdParams as *mut c_void
            }
            _ => return Ok(()),
        };
        // (params, param, grad, state...): the SGD kernel declares one state pointer and
        // cuLaunchKernel reads only the parameters a kernel declares.
        let mut args = [
            q,
            &mut pp as *mut u64 as *mut c_void,
            &mut pg as *mut u64 as *mut c_void,
            &mut pm as *mut u64 as *mut c_void,
            &mut pv as *mut u64 as *mut c_void,
        ];
        inner.launch(f, grid, (256, 1, 1), &mut args)
    })())
}

/// Every kernel the driver may launch, as `(group, name)`: the NVRTC check compares it with
/// the entry points each source defines.
pub(crate) fn kernel_names() -> Vec<(&'static str, String)> {
    use crate::compile::dtype_suffix as sfx;
    let mut v = Vec::new();
    for dt in DType::ALL {
        let s = sfx(dt);
        for u in UnaryOp::ALL.into_iter().filter(|&u| unary_supported(u, dt)) {
            v.push((UNARY.name, format!("{}_{s}", u.name())));
        }
        for b in BinaryOp::ALL
            .into_iter()
            .filter(|&b| binary_supported(b, dt))
        {
            v.push((BINARY.name, format!("{}_{s}", b.name())));
        }
        v.push((TERNARY.name, format!("where_{s}")));
        for k in ["copy", "fill", "iota"] {
            v.push((LAYOUT.name, format!("{k}_{s}")));
        }
        for d in DType::ALL.into_iter().filter(|&d| d != dt) {
            v.push((LAYOUT.name, format!("cast_{s}_{}", sfx(d))));
        }
        for r in ReduceOp::ALL {
            v.push((REDUCE.name, format!("{}_{s}", r.name())));
            v.push((REDUCE.name, format!("{}_{s}_fin", r.name())));
        }
        for k in ["cumsum", "cumprod"] {
            v.push((REDUCE.name, format!("{k}_{s}")));
        }
        for k in ["gather", "index_select", "scatter_add"] {
            v.push((INDEX.name, format!("{k}_{s}")));
        }
        v.push((lantern_kernels::cuda::MATMUL.name, format!("matmul_{s}")));
        for k in ["uniform", "normal", "bernoulli"] {
            v.push((RANDOM.name, format!("{k}_{s}")));
        }
        if FUSED_DTYPES.contains(&dt) {
            for k in [
                "softmax",
                "log_softmax",
                "layer_norm",
                "adam_step",
                "sgd_step",
            ] {
                v.push((FUSED.name, format!("{k}_{s}")));
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_bits_follow_the_cpu_conversions() {
        assert_eq!(
            scalar_bits(Scalar::Float(1.5), DType::F32),
            1.5f32.to_bits() as u64
        );
        assert_eq!(scalar_bits(Scalar::Float(-1.0), DType::U8), 0); // saturates
        assert_eq!(
            scalar_bits(Scalar::Float(3e9), DType::I32),
            i32::MAX as u32 as u64
        );
        assert_eq!(scalar_bits(Scalar::Int(-1), DType::I32), 0xffff_ffff);
        assert_eq!(scalar_bits(Scalar::Int(300), DType::U8), 44); // wraps
        assert_eq!(
            scalar_bits(Scalar::Bool(true), DType::F16),
            f16::ONE.to_bits() as u64
        );
        assert_eq!(scalar_bits(Scalar::Float(f64::NAN), DType::Bool), 1);
    }

    #[test]
    fn support_tables_mirror_the_cpu_driver() {
        assert!(unary_supported(UnaryOp::Exp, DType::BF16));
        assert!(!unary_supported(UnaryOp::Exp, DType::I32));
        assert!(unary_supported(UnaryOp::LogicalNot, DType::Bool));
        assert!(!binary_supported(BinaryOp::BitAnd, DType::F32));
        assert!(binary_supported(BinaryOp::BitAnd, DType::I64));
        assert!(!binary_supported(BinaryOp::Sub, DType::Bool));
    }
}
