//! Indexing ops: gather, index_select, scatter_add, one_hot.

use super::{sugar, Tensor};
use crate::autograd::{record, GradOp, Saved};
use crate::dtype::DType;
use crate::error::{arg_err, dtype_err, shape_err, Result};
use crate::layout::wrap_dim;
use crate::ops::PrimOp;
use smallvec::smallvec;

fn need_i64(op: &'static str, index: &Tensor) -> Result<()> {
    if index.dtype() != DType::I64 {
        return Err(dtype_err(
            op,
            alloc::format!("index must be int64, got {}", index.dtype()),
        ));
    }
    Ok(())
}

impl Tensor {
    /// `out[i][j] = self[index[i][j]][j]` for `dim = 0` (PyTorch's `gather`); out is shaped like index.
    pub fn try_gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        need_i64("gather", index)?;
        self.same_device("gather", &[index])?;
        let d = wrap_dim(dim, self.rank(), "gather")?;
        if index.rank() != self.rank().max(1) && !(self.rank() == 0 && index.rank() <= 1) {
            return Err(shape_err(
                "gather",
                alloc::format!("an index of rank {}", self.rank()),
                index.shape(),
            ));
        }
        if self.rank() == 0 {
            return self
                .try_reshape(&[-1])?
                .try_gather(0, &index.try_reshape(&[-1])?)?
                .try_reshape_to(index.dims());
        }
        for i in 0..self.rank() {
            if i != d && index.dims()[i] > self.dims()[i] {
                return Err(shape_err(
                    "gather",
                    alloc::format!("index size <= input size {} in dim {i}", self.dims()[i]),
                    index.shape(),
                ));
            }
        }
        let out = Tensor::empty(index.shape().clone(), self.dtype(), self.device())?;
        if out.numel() > 0 {
            Tensor::exec(&PrimOp::Gather { dim: d }, &[self, index], &out)?;
        }
        Ok(record(
            out,
            GradOp::Gather {
                dim: d,
                in_shape: self.shape().clone(),
            },
            &[self, index],
            |_| smallvec![Saved::input(index)],
        ))
    }

    /// Slices of `self` along `dim` picked by a 1-D int64 index.
    pub fn try_index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        need_i64("index_select", index)?;
        self.same_device("index_select", &[index])?;
        if index.rank() > 1 {
            return Err(shape_err("index_select", "a 1-D index", index.shape()));
        }
        let d = wrap_dim(dim, self.rank(), "index_select")?;
        if self.rank() == 0 {
            return self
                .try_reshape(&[1])?
                .try_index_select(0, index)?
                .try_reshape_to(&[]);
        }
        let mut shape = self.shape().clone();
        shape.0[d] = index.numel();
        let out = Tensor::empty(shape, self.dtype(), self.device())?;
        if out.numel() > 0 || index.numel() > 0 {
            let idx = index.try_reshape(&[-1])?;
            Tensor::exec(&PrimOp::IndexSelect { dim: d }, &[self, &idx], &out)?;
            return Ok(record(
                out,
                GradOp::IndexSelect {
                    dim: d,
                    in_shape: self.shape().clone(),
                },
                &[self, &idx],
                |_| smallvec![Saved::input(&idx)],
            ));
        }
        Ok(out)
    }

    /// `out = self.clone(); out[index[i][j]][j] += src[i][j]` for `dim = 0` (PyTorch's `scatter_add`).
    pub fn try_scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        need_i64("scatter_add", index)?;
        self.same_device("scatter_add", &[index, src])?;
        let d = wrap_dim(dim, self.rank(), "scatter_add")?;
        if self.rank() == 0 && index.rank() == 0 && src.rank() == 0 {
            // As in gather: a 0-dim tensor scatters like a 1-element one.
            return self
                .try_reshape(&[1])?
                .try_scatter_add(0, &index.try_reshape(&[1])?, &src.try_reshape(&[1])?)?
                .try_reshape_to(&[]);
        }
        if index.rank() != self.rank() || src.rank() != self.rank() {
            return Err(shape_err(
                "scatter_add",
                alloc::format!("index and src of rank {}", self.rank()),
                alloc::format!("index {}, src {}", index.shape(), src.shape()),
            ));
        }
        for i in 0..self.rank() {
            if index.dims()[i] > src.dims()[i] || (i != d && index.dims()[i] > self.dims()[i]) {
                return Err(shape_err(
                    "scatter_add",
                    alloc::format!(
                        "index no larger than src {} (and than self {} outside dim {d})",
                        src.shape(),
                        self.shape()
                    ),
                    index.shape(),
                ));
            }
        }
        if src.dtype() != self.dtype() {
            return Err(dtype_err(
                "scatter_add",
                alloc::format!("self is {} but src is {}", self.dtype(), src.dtype()),
            ));
        }
        let out = Tensor::empty(self.shape().clone(), self.dtype(), self.device())?;
        Tensor::exec(&PrimOp::Copy, &[self], &out)?;
        if index.numel() > 0 {
            Tensor::exec(&PrimOp::ScatterAdd { dim: d }, &[src, index], &out)?;
        }
        Ok(record(
            out,
            GradOp::ScatterAdd { dim: d },
            &[self, index, src],
            |_| smallvec![Saved::input(index)],
        ))
    }

    /// One-hot encoding of int64 class indices into int64 (`num_classes = None` uses max + 1).
    pub fn try_one_hot(&self, num_classes: Option<usize>) -> Result<Tensor> {
        need_i64("one_hot", self)?;
        let (lo, hi) = if self.numel() > 0 {
            (
                self.try_amin(None, false)?.try_item::<i64>()?,
                self.try_amax(None, false)?.try_item::<i64>()?,
            )
        } else {
            (0, -1)
        };
        if lo < 0 {
            return Err(arg_err("one_hot", "class values must be non-negative"));
        }
        let c = match num_classes {
            Some(c) => {
                if hi >= c as i64 {
                    return Err(arg_err(
                        "one_hot",
                        alloc::format!(
                            "class values must be smaller than num_classes ({c}), found {hi}"
                        ),
                    ));
                }
                c
            }
            None if self.numel() == 0 => {
                return Err(arg_err(
                    "one_hot",
                    "cannot infer num_classes from an empty tensor",
                ))
            }
            None => (hi + 1) as usize,
        };
        let classes = Tensor::try_arange(0.0, c as f64, 1.0, DType::I64, self.device())?;
        self.try_unsqueeze(-1)?
            .try_eq(&classes)?
            .try_to_dtype(DType::I64)
    }

    sugar! {
        /// Panicking form of [`Tensor::try_gather`].
        fn gather(&self, dim: isize, index: &Tensor) -> Tensor = try_gather;
        /// Panicking form of [`Tensor::try_index_select`].
        fn index_select(&self, dim: isize, index: &Tensor) -> Tensor = try_index_select;
        /// Panicking form of [`Tensor::try_scatter_add`].
        fn scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Tensor = try_scatter_add;
        /// Panicking form of [`Tensor::try_one_hot`].
        fn one_hot(&self, num_classes: Option<usize>) -> Tensor = try_one_hot;
    }
}
