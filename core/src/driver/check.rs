//! The operand contract of every `PrimOp`, checked: `Driver::exec` is safe and public, so
//! a driver verifies the shapes and dtypes each op states instead of trusting them (kernels
//! index memory by them). Shared by every driver so they reject the same malformed calls
//! with the same errors. O(rank) per operand; the errors name the op.

use crate::driver::View;
use crate::dtype::DType;
use crate::error::{dtype_err, shape_err, Result};
use crate::ops::PrimOp;

fn shape_is(op: &'static str, v: &View, want: &[usize], what: &str) -> Result<()> {
    if v.layout.dims() == want {
        Ok(())
    } else {
        Err(shape_err(
            op,
            alloc::format!("{what} of shape {want:?}"),
            alloc::format!("{:?}", v.layout.dims()),
        ))
    }
}

fn dtype_is(op: &'static str, v: &View, want: DType, what: &str) -> Result<()> {
    if v.dtype == want {
        Ok(())
    } else {
        Err(dtype_err(
            op,
            alloc::format!("{what} must be {want}, got {}", v.dtype),
        ))
    }
}

fn dim_in(op: &'static str, dim: usize, v: &View) -> Result<()> {
    if dim < v.layout.rank() {
        Ok(())
    } else {
        Err(shape_err(
            op,
            alloc::format!("a view with a dim {dim}"),
            alloc::format!("{:?}", v.layout.dims()),
        ))
    }
}

/// Verifies `ins` and `y` against `op`'s contract; a wrong input count is left to the
/// caller's arity check.
/// Checks the inputs and the output view of one `exec` call against `op`'s contract
/// (arity, dtypes, shapes, axes); drivers call it before touching memory.
pub fn check_views(op: &PrimOp, ins: &[View], y: &View) -> Result<()> {
    let name = op.name();
    let arity = match op {
        PrimOp::Fill(_) | PrimOp::Iota { .. } | PrimOp::Random { .. } => 0,
        PrimOp::Copy | PrimOp::Cast | PrimOp::Unary(_) | PrimOp::Reduce { .. } => 1,
        PrimOp::Scan { .. } => 1,
        PrimOp::Where => 3,
        _ => 2,
    };
    if ins.len() != arity {
        return Ok(());
    }
    let yd = y.layout.dims();
    match op {
        PrimOp::Copy | PrimOp::Unary(_) => {
            shape_is(name, &ins[0], yd, "an input")?;
            dtype_is(name, &ins[0], y.dtype, "the input")?;
        }
        PrimOp::Cast => shape_is(name, &ins[0], yd, "an input")?,
        PrimOp::Fill(_) => {}
        PrimOp::Iota { .. } => {
            if y.layout.rank() != 1 {
                return Err(shape_err(name, "a 1-D output", alloc::format!("{yd:?}")));
            }
        }
        PrimOp::Binary(b) => {
            shape_is(name, &ins[0], yd, "inputs")?;
            shape_is(name, &ins[1], yd, "inputs")?;
            dtype_is(name, &ins[1], ins[0].dtype, "both inputs")?;
            let out = if b.is_cmp() || b.is_logical() {
                DType::Bool
            } else {
                ins[0].dtype
            };
            dtype_is(name, y, out, "the output")?;
        }
        PrimOp::Where => {
            for v in ins {
                shape_is(name, v, yd, "inputs")?;
            }
            dtype_is(name, &ins[0], DType::Bool, "the condition")?;
            dtype_is(name, &ins[1], y.dtype, "the values")?;
            dtype_is(name, &ins[2], y.dtype, "the values")?;
        }
        PrimOp::Reduce { op: r, axes } => {
            let x = &ins[0];
            let rank = x.layout.rank();
            let sorted = axes.windows(2).all(|w| w[0] < w[1]);
            if !sorted || axes.iter().any(|&a| a >= rank) {
                return Err(shape_err(
                    name,
                    alloc::format!("sorted unique axes below rank {rank}"),
                    alloc::format!("{:?}", axes.as_slice()),
                ));
            }
            let want: alloc::vec::Vec<usize> = (0..rank)
                .map(|d| {
                    if axes.contains(&d) {
                        1
                    } else {
                        x.layout.dims()[d]
                    }
                })
                .collect();
            shape_is(name, y, &want, "an output")?;
            let arg = matches!(
                r,
                crate::ops::ReduceOp::ArgMax | crate::ops::ReduceOp::ArgMin
            );
            dtype_is(
                name,
                y,
                if arg { DType::I64 } else { x.dtype },
                "the output",
            )?;
        }
        PrimOp::Matmul { .. } => {
            let (a, b) = (&ins[0], &ins[1]);
            let r = y.layout.rank();
            if r < 2 || a.layout.rank() != r || b.layout.rank() != r {
                return Err(shape_err(
                    name,
                    "operands and output of one rank, at least 2 (batch dims broadcast)",
                    alloc::format!("{:?} @ {:?} -> {yd:?}", a.layout.dims(), b.layout.dims()),
                ));
            }
            let (m, n) = (yd[r - 2], yd[r - 1]);
            let k = a.layout.dims()[r - 1];
            let mut wa = yd[..r - 2].to_vec();
            wa.extend([m, k]);
            let mut wb = yd[..r - 2].to_vec();
            wb.extend([k, n]);
            shape_is(name, a, &wa, "lhs")?;
            shape_is(name, b, &wb, "rhs")?;
            dtype_is(name, b, a.dtype, "both operands")?;
            dtype_is(name, y, a.dtype, "the output")?;
        }
        PrimOp::Gather { dim } => {
            let (x, idx) = (&ins[0], &ins[1]);
            dim_in(name, *dim, x)?;
            dtype_is(name, idx, DType::I64, "the index")?;
            dtype_is(name, y, x.dtype, "the output")?;
            shape_is(
                name,
                y,
                idx.layout.dims(),
                "an output shaped like the index,",
            )?;
            let fits = idx.layout.rank() == x.layout.rank()
                && (0..x.layout.rank())
                    .all(|d| d == *dim || idx.layout.dims()[d] <= x.layout.dims()[d]);
            if !fits {
                return Err(shape_err(
                    name,
                    alloc::format!(
                        "an index no larger than {:?} outside dim {dim}",
                        x.layout.dims()
                    ),
                    alloc::format!("{:?}", idx.layout.dims()),
                ));
            }
        }
        PrimOp::IndexSelect { dim } => {
            let (x, idx) = (&ins[0], &ins[1]);
            dim_in(name, *dim, x)?;
            dtype_is(name, idx, DType::I64, "the index")?;
            dtype_is(name, y, x.dtype, "the output")?;
            if idx.layout.rank() != 1 {
                return Err(shape_err(
                    name,
                    "a 1-D index",
                    alloc::format!("{:?}", idx.layout.dims()),
                ));
            }
            let mut want = x.layout.dims().to_vec();
            want[*dim] = idx.layout.numel();
            shape_is(name, y, &want, "an output")?;
        }
        PrimOp::ScatterAdd { dim } => {
            let (src, idx) = (&ins[0], &ins[1]);
            dim_in(name, *dim, y)?;
            dtype_is(name, idx, DType::I64, "the index")?;
            dtype_is(name, src, y.dtype, "src")?;
            let r = y.layout.rank();
            let fits = src.layout.rank() == r
                && idx.layout.rank() == r
                && (0..r).all(|d| {
                    idx.layout.dims()[d] <= src.layout.dims()[d]
                        && (d == *dim || idx.layout.dims()[d] <= yd[d])
                });
            if !fits {
                return Err(shape_err(
                    name,
                    alloc::format!(
                        "an index no larger than src {:?} (and than the output {yd:?} outside dim {dim})",
                        src.layout.dims()
                    ),
                    alloc::format!("{:?}", idx.layout.dims()),
                ));
            }
        }
        PrimOp::Scan { dim, .. } => {
            dim_in(name, *dim, y)?;
            shape_is(name, &ins[0], yd, "an input")?;
            dtype_is(name, &ins[0], y.dtype, "the input")?;
        }
        PrimOp::Random { .. } => {
            if !y.layout.is_contiguous() {
                return Err(shape_err(
                    name,
                    "a contiguous output",
                    alloc::format!("{yd:?} with strides {:?}", y.layout.strides.as_slice()),
                ));
            }
        }
    }
    Ok(())
}
