//! Gather, index_select and scatter_add on the CPU. Indices are checked: an out-of-range
//! index is an error, never an out-of-bounds access.

use super::elem::Num;
use super::elementwise::{with_bits, with_type};
use super::walk::{offset_of, par_range, Ptr};
use super::Arg;
use crate::dtype::DType;
use crate::error::{Error, Result};

fn bad_index(op: &'static str, idx: i64, size: usize) -> Error {
    Error::Arg {
        op,
        msg: alloc::format!("index {idx} is out of bounds for a dimension of size {size}"),
    }
}

/// The size of `dim` of `l`; an error (not a panic) when the view has no such dim.
fn dim_size(op: &'static str, l: &crate::layout::Layout, dim: usize) -> Result<usize> {
    l.shape.0.get(dim).copied().ok_or_else(|| Error::Arg {
        op,
        msg: alloc::format!("dim {dim} out of range for a view of rank {}", l.rank()),
    })
}

/// Reads index `i` (linear over `idx`'s shape), wrapping negatives; `None` if out of range.
#[inline]
fn read_index(idx: &Arg, i: usize, size: usize) -> core::result::Result<usize, i64> {
    let off = idx.layout.offset + offset_of(i, idx.layout.dims(), &idx.layout.strides);
    // SAFETY: `off` lies inside the index view; dtype is i64 (checked by core).
    let v = unsafe { *(idx.ptr.0 as *const i64).add(off) };
    let w = if v < 0 { v + size as i64 } else { v };
    if w < 0 || w as usize >= size {
        Err(v)
    } else {
        Ok(w as usize)
    }
}

/// `y[p] = x[p with dim := index[p]]`, y shaped like index.
pub fn gather(dim: usize, x: &Arg, idx: &Arg, y: &Arg) -> Result<()> {
    let size = dim_size("gather", x.layout, dim)?;
    let bad: spin::Mutex<Option<i64>> = spin::Mutex::new(None);
    let n = y.layout.numel();
    with_bits!(x.dtype, T => {
        let (xp, yp) = (Ptr(x.ptr.0 as *mut T), Ptr(y.ptr.0 as *mut T));
        let dims = y.layout.dims();
        par_range(n, n, |i| {
            let j = match read_index(idx, i, size) {
                Ok(j) => j,
                Err(v) => { *bad.lock() = Some(v); return; }
            };
            let mut xo = x.layout.offset;
            let mut rem = i;
            for d in (0..dims.len()).rev() {
                let c = rem % dims[d];
                rem /= dims[d];
                xo += if d == dim { j } else { c } * x.layout.strides[d];
            }
            let yo = y.layout.offset + offset_of(i, dims, &y.layout.strides);
            // SAFETY: offsets lie inside the views (index checked above).
            unsafe { *yp.at(yo) = *xp.at(xo) }
        });
    });
    match bad.into_inner() {
        None => Ok(()),
        Some(v) => Err(bad_index("gather", v, size)),
    }
}

/// Picks slices of `x` along `dim` by a 1-D index.
pub fn index_select(dim: usize, x: &Arg, idx: &Arg, y: &Arg) -> Result<()> {
    let size = dim_size("index_select", x.layout, dim)?;
    let nidx = idx.layout.numel();
    let mut map = alloc::vec::Vec::new();
    map.try_reserve(nidx).map_err(|_| {
        Error::Driver(alloc::string::String::from(
            "index_select: host allocation failed",
        ))
    })?;
    for i in 0..nidx {
        map.push(read_index(idx, i, size).map_err(|v| bad_index("index_select", v, size))?);
    }
    let n = y.layout.numel();
    with_bits!(x.dtype, T => {
        let (xp, yp) = (Ptr(x.ptr.0 as *mut T), Ptr(y.ptr.0 as *mut T));
        let dims = y.layout.dims();
        par_range(n, n, |i| {
            let mut xo = x.layout.offset;
            let mut rem = i;
            for d in (0..dims.len()).rev() {
                let c = rem % dims[d];
                rem /= dims[d];
                xo += if d == dim { map[c] } else { c } * x.layout.strides[d];
            }
            let yo = y.layout.offset + offset_of(i, dims, &y.layout.strides);
            // SAFETY: offsets lie inside the views.
            unsafe { *yp.at(yo) = *xp.at(xo) }
        });
    });
    Ok(())
}

/// `y[p with dim := index[p]] += src[p]`, sequential so repeated indices accumulate exactly.
pub fn scatter_add(dim: usize, src: &Arg, idx: &Arg, y: &Arg) -> Result<()> {
    let size = dim_size("scatter_add", y.layout, dim)?;
    let dims = idx.layout.dims();
    let n = idx.layout.numel();
    for i in 0..n {
        read_index(idx, i, size).map_err(|v| bad_index("scatter_add", v, size))?;
    }
    let at = |i: usize, j: usize| {
        let mut yo = y.layout.offset;
        let mut rem = i;
        for d in (0..dims.len()).rev() {
            let c = rem % dims[d];
            rem /= dims[d];
            yo += if d == dim { j } else { c } * y.layout.strides[d];
        }
        (
            yo,
            src.layout.offset + offset_of(i, dims, &src.layout.strides),
        )
    };
    macro_rules! go {
        ($T:ty) => {{
            let (sp, yp) = (Ptr(src.ptr.0 as *mut $T), Ptr(y.ptr.0 as *mut $T));
            for i in 0..n {
                let (yo, so) = at(i, read_index(idx, i, size).unwrap_or(0));
                // SAFETY: offsets lie inside the views (indices checked above).
                unsafe { *yp.at(yo) = (*yp.at(yo)).add(*sp.at(so)) }
            }
        }};
    }
    match src.dtype {
        DType::F32 => go!(f32),
        #[cfg(not(feature = "compact"))]
        _ => with_type!(src.dtype, T => go!(T)),
        // One loop for the other dtypes, adding through a dtype switch per element.
        #[cfg(feature = "compact")]
        _ => {
            for i in 0..n {
                let (yo, so) = at(i, read_index(idx, i, size).unwrap_or(0));
                with_type!(src.dtype, T => {
                    let (sp, yp) = (src.ptr.0 as *const T, y.ptr.0 as *mut T);
                    // SAFETY: as above.
                    unsafe { *yp.add(yo) = (*yp.add(yo)).add(*sp.add(so)) }
                })
            }
        }
    }
    Ok(())
}
