//! The `compact` build's kernels (the npm package): fewer instances of the generic loops.
//! f32 keeps its own loops; f64 and i64 call each op through a function pointer; f16/bf16
//! compute in f32 and the other integers and bool in i64, through temporaries (conversions
//! that are exact, so results match the direct kernels bit for bit); casts go through a
//! buffer of f64 or i64, one loop per dtype rather than per pair.

use super::elem::Num;
use super::elementwise::{cast_one, with_type};
use super::walk::{for_each_run, Ptr};
use super::Arg;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{Dims, Layout, Shape};
use alloc::vec::Vec;
use smallvec::SmallVec;

/// The dtype `dt` computes in: f32 for f16/bf16, i64 for the integers and bool.
fn wide(dt: DType) -> DType {
    match dt {
        DType::F16 | DType::BF16 | DType::F32 => DType::F32,
        DType::F64 => DType::F64,
        _ => DType::I64,
    }
}

/// A host temporary holding one view.
struct Temp {
    _buf: Vec<u64>,
    ptr: Ptr<u8>,
    layout: Layout,
    dtype: DType,
}

impl Temp {
    /// A zeroed temporary over `dims`, dense except where `bcast` has a stride of 0: those dims
    /// keep stride 0 (one copy of broadcast data).
    fn new(dims: &[usize], bcast: Option<&[usize]>, dtype: DType) -> Result<Temp> {
        let mut strides: Dims = smallvec::smallvec![0; dims.len()];
        let mut n = 1usize;
        for d in (0..dims.len()).rev() {
            if bcast.is_none_or(|s| s[d] != 0) {
                strides[d] = n;
                n *= dims[d];
            }
        }
        let bytes = n * dtype.size();
        let mut buf: Vec<u64> = Vec::new();
        buf.try_reserve_exact(bytes.div_ceil(8))
            .map_err(|_| Error::OutOfMemory {
                device: alloc::string::String::from("cpu (host temporary)"),
                requested: bytes,
                in_use: 0,
                limit: None,
            })?;
        buf.resize(bytes.div_ceil(8), 0);
        Ok(Temp {
            ptr: Ptr(buf.as_mut_ptr() as *mut u8),
            _buf: buf,
            layout: Layout {
                shape: Shape::new(dims),
                strides,
                offset: 0,
            },
            dtype,
        })
    }

    fn arg(&self) -> Arg<'_> {
        Arg {
            ptr: self.ptr,
            layout: &self.layout,
            dtype: self.dtype,
        }
    }
}

/// `x` converted to `dt`, broadcast dims not materialised.
fn widen(x: &Arg, dt: DType) -> Result<Temp> {
    let t = Temp::new(x.layout.dims(), Some(&x.layout.strides), dt)?;
    // Broadcast dims visited once: size 1 in both layouts.
    let dims: Dims = (x.layout.dims().iter().zip(&x.layout.strides))
        .map(|(&d, &s)| if s == 0 { 1 } else { d })
        .collect();
    let src = Layout {
        shape: Shape(dims.clone()),
        strides: x.layout.strides.clone(),
        offset: x.layout.offset,
    };
    let dst = Layout {
        shape: Shape(dims),
        strides: t.layout.strides.clone(),
        offset: 0,
    };
    let (s, d) = (
        Arg {
            ptr: x.ptr,
            layout: &src,
            dtype: x.dtype,
        },
        Arg {
            ptr: t.ptr,
            layout: &dst,
            dtype: dt,
        },
    );
    cast(&s, &d);
    Ok(t)
}

/// Runs `f` on the inputs converted to the dtype `dt` computes in, and on an output of that
/// dtype when `y` has dtype `dt` (else on `y` itself: comparisons, argmax), then converts the
/// output back. Errors name `dt`, not the dtype computed in.
pub(super) fn widened(
    dt: DType,
    ins: &[&Arg],
    y: &Arg,
    f: &dyn Fn(&[&Arg], &Arg) -> Result<()>,
) -> Result<()> {
    let w = wide(dt);
    let temps = ins
        .iter()
        .map(|x| widen(x, w))
        .collect::<Result<SmallVec<[Temp; 3]>>>()?;
    let args: SmallVec<[Arg; 3]> = temps.iter().map(Temp::arg).collect();
    let refs: SmallVec<[&Arg; 3]> = args.iter().collect();
    let r = if y.dtype == dt {
        Temp::new(y.layout.dims(), None, w).and_then(|t| {
            f(&refs, &t.arg())?;
            cast(&t.arg(), y);
            Ok(())
        })
    } else {
        f(&refs, y)
    };
    r.map_err(|e| match e {
        Error::Unsupported { op, device, .. } => Error::Unsupported {
            op,
            dtype: alloc::string::String::from(dt.name()),
            device,
        },
        e => e,
    })
}

/// Elements converted per step of a cast.
const CHUNK: usize = 256;

/// A cast between any two dtypes, through a chunk of f64 (float sources) or i64 (integer and
/// bool sources): `cast_one` through that type gives the direct conversion's result.
pub(super) fn cast(x: &Arg, y: &Arg) {
    let (xs, ys) = (x.dtype.size(), y.dtype.size());
    let float = x.dtype.is_float();
    for_each_run(
        y.layout.dims(),
        [&y.layout.strides, &x.layout.strides],
        [y.layout.offset, x.layout.offset],
        |o, n, s| {
            let mut f = [0f64; CHUNK];
            let mut i = [0i64; CHUNK];
            let mut done = 0;
            while done < n {
                let m = CHUNK.min(n - done);
                let src = x.ptr.at((o[1] + done * s[1]) * xs) as *const u8;
                let dst = y.ptr.at((o[0] + done * s[0]) * ys);
                with_type!(x.dtype, S => {
                    let p = src as *const S;
                    if float {
                        for (k, v) in f[..m].iter_mut().enumerate() {
                            // SAFETY: element done + k of the run, inside the view.
                            *v = unsafe { *p.add(k * s[1]) }.to_f64();
                        }
                    } else {
                        for (k, v) in i[..m].iter_mut().enumerate() {
                            // SAFETY: as above.
                            *v = unsafe { *p.add(k * s[1]) }.to_i64();
                        }
                    }
                });
                with_type!(y.dtype, D => {
                    let q = dst as *mut D;
                    if float {
                        for (k, &v) in f[..m].iter().enumerate() {
                            // SAFETY: as above; the source chunk was read before.
                            unsafe { *q.add(k * s[0]) = cast_one::<f64, D>(v) }
                        }
                    } else {
                        for (k, &v) in i[..m].iter().enumerate() {
                            // SAFETY: as above.
                            unsafe { *q.add(k * s[0]) = cast_one::<i64, D>(v) }
                        }
                    }
                });
                done += m;
            }
        },
    );
}
