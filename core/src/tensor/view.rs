//! View ops: edit the layout and share storage. Never reach drivers (DESIGN.md).

use super::{sugar, Tensor};
use crate::autograd::{record, GradOp};
use crate::driver::Device;
use crate::dtype::DType;
use crate::error::{arg_err, shape_err, Result};
use crate::layout::{wrap_dim, Dims, Layout, Shape};
use crate::ops::PrimOp;
use alloc::vec::Vec;
use smallvec::SmallVec;

/// Resolves a shape with at most one `-1` against `numel`.
fn infer_shape(op: &'static str, shape: &[isize], numel: usize, from: &Shape) -> Result<Shape> {
    let mut out: Dims = SmallVec::with_capacity(shape.len());
    let mut infer = None;
    let mut known = 1usize;
    for (i, &d) in shape.iter().enumerate() {
        if d == -1 {
            if infer.replace(i).is_some() {
                return Err(arg_err(op, "only one dimension can be inferred (-1)"));
            }
            out.push(1);
        } else if d < 0 {
            return Err(arg_err(
                op,
                alloc::format!("invalid size {d} in shape {shape:?}"),
            ));
        } else {
            known = known
                .checked_mul(d as usize)
                .ok_or_else(|| arg_err(op, "shape too large"))?;
            out.push(d as usize);
        }
    }
    if let Some(i) = infer {
        if known == 0 || numel % known != 0 {
            return Err(shape_err(
                op,
                alloc::format!("a shape compatible with {numel} elements of input {from}"),
                alloc::format!("{shape:?}"),
            ));
        }
        out[i] = numel / known;
    } else if known != numel {
        return Err(shape_err(
            op,
            alloc::format!("a shape with {numel} elements (input {from})"),
            alloc::format!("{shape:?}"),
        ));
    }
    Ok(Shape(out))
}

/// `wrap_dim` for ops that index into a dim, which a 0-dim tensor does not have (PyTorch:
/// "narrow() cannot be applied to a 0-dim tensor").
fn dim_of(t: &Tensor, dim: isize, op: &'static str) -> Result<usize> {
    if t.rank() == 0 {
        return Err(arg_err(
            op,
            alloc::format!("{op}() cannot be applied to a 0-dim tensor"),
        ));
    }
    wrap_dim(dim, t.rank(), op)
}

/// Strides viewing `l`'s elements with shape `new`, if possible. `Layout::reshape_strides`
/// misses one case: a 0-dim source (any one-element tensor views as any one-element shape).
fn view_strides(l: &Layout, new: &Shape) -> Option<Dims> {
    l.reshape_strides(new)
        .or_else(|| (l.rank() == 0).then(|| new.contiguous_strides()))
}

impl Tensor {
    /// A view with a new shape (one dim may be -1); fails if the strides do not allow it.
    pub fn try_view(&self, shape: &[isize]) -> Result<Tensor> {
        let new = infer_shape("view", shape, self.numel(), self.shape())?;
        match view_strides(self.layout(), &new) {
            Some(strides) => Ok(self.with_layout_op(
                Layout {
                    shape: new,
                    strides,
                    offset: self.layout().offset,
                },
                || GradOp::Reshape {
                    in_shape: self.shape().clone(),
                },
            )),
            None => Err(shape_err(
                "view",
                "a layout compatible with the new shape (use reshape to copy)",
                alloc::format!("{} with strides {:?}", self.shape(), self.strides()),
            )),
        }
    }

    /// A view with a new shape when possible, else a contiguous copy (PyTorch's `reshape`).
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Tensor> {
        let new = infer_shape("reshape", shape, self.numel(), self.shape())?;
        match view_strides(self.layout(), &new) {
            Some(strides) => Ok(self.with_layout_op(
                Layout {
                    shape: new,
                    strides,
                    offset: self.layout().offset,
                },
                || GradOp::Reshape {
                    in_shape: self.shape().clone(),
                },
            )),
            None => {
                let c = self.try_contiguous()?;
                Ok(
                    c.with_layout_op(Layout::contiguous(new), || GradOp::Reshape {
                        in_shape: c.shape().clone(),
                    }),
                )
            }
        }
    }

    /// Reshape to a shape of `usize` dims.
    pub fn try_reshape_to(&self, shape: &[usize]) -> Result<Tensor> {
        let s: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
        self.try_reshape(&s)
    }

    /// A contiguous tensor with the same values: `self` when already contiguous, else a copy.
    pub fn try_contiguous(&self) -> Result<Tensor> {
        // An empty tensor is contiguous whatever its strides (PyTorch's compute_contiguous).
        if self.is_contiguous() || self.numel() == 0 {
            return Ok(self.clone());
        }
        let out = Tensor::empty(self.shape().clone(), self.dtype(), self.device())?;
        Tensor::exec(&PrimOp::Copy, &[self], &out)?;
        Ok(record(out, GradOp::Copy, &[self], |_| SmallVec::new()))
    }

    /// Permutes the dims (`out.size(i) == self.size(dims[i])`).
    pub fn try_permute(&self, dims: &[isize]) -> Result<Tensor> {
        let r = self.rank();
        if dims.len() != r {
            return Err(shape_err(
                "permute",
                alloc::format!("{r} dims for input {}", self.shape()),
                alloc::format!("{dims:?}"),
            ));
        }
        let mut perm: Dims = SmallVec::with_capacity(r);
        let mut seen: Dims = SmallVec::from_elem(0, r);
        for &d in dims {
            let w = wrap_dim(d, r, "permute")?;
            if seen[w] == 1 {
                return Err(arg_err(
                    "permute",
                    alloc::format!("repeated dim in {dims:?}"),
                ));
            }
            seen[w] = 1;
            perm.push(w);
        }
        Ok(
            self.with_layout_op(self.layout().permute(&perm), || GradOp::Permute {
                perm: perm.clone(),
            }),
        )
    }

    /// Swaps two dims.
    pub fn try_transpose(&self, dim0: isize, dim1: isize) -> Result<Tensor> {
        let r = self.rank();
        let (a, b) = (
            wrap_dim(dim0, r, "transpose")?,
            wrap_dim(dim1, r, "transpose")?,
        );
        if r == 0 {
            return Ok(self.clone());
        }
        let mut perm: Dims = (0..r).collect();
        perm.swap(a, b);
        Ok(
            self.with_layout_op(self.layout().permute(&perm), || GradOp::Permute {
                perm: perm.clone(),
            }),
        )
    }

    /// Transpose of a matrix; 0-D and 1-D tensors are returned as they are.
    pub fn try_t(&self) -> Result<Tensor> {
        match self.rank() {
            0 | 1 => Ok(self.clone()),
            2 => self.try_transpose(0, 1),
            r => Err(shape_err(
                "t",
                "a tensor with at most 2 dims",
                alloc::format!("{r} dims"),
            )),
        }
    }

    /// `length` elements of `dim` starting at `start` (shares storage).
    pub fn try_narrow(&self, dim: isize, start: usize, length: usize) -> Result<Tensor> {
        let d = dim_of(self, dim, "narrow")?;
        let size = self.dims()[d];
        if start.checked_add(length).is_none_or(|e| e > size) {
            return Err(arg_err(
                "narrow",
                alloc::format!(
                    "start {start} + length {length} exceeds size {size} of dim {d} (shape {})",
                    self.shape()
                ),
            ));
        }
        let mut l = self.layout().clone();
        l.offset += start * l.strides[d];
        l.shape.0[d] = length;
        Ok(self.with_layout_op(l, || GradOp::Slice {
            dim: d,
            start,
            step: 1,
            in_shape: self.shape().clone(),
        }))
    }

    /// Python slicing `x[start:end:step]` along `dim`: negative and out-of-range bounds are
    /// clamped like Python's; `end = None` means the end.
    pub fn try_slice(
        &self,
        dim: isize,
        start: isize,
        end: Option<isize>,
        step: usize,
    ) -> Result<Tensor> {
        if step == 0 {
            return Err(arg_err("slice", "step must be positive"));
        }
        let d = dim_of(self, dim, "slice")?;
        let size = self.dims()[d] as isize;
        let clamp = |v: isize| {
            let v = if v < 0 { v + size } else { v };
            v.clamp(0, size)
        };
        let s = clamp(start);
        let e = clamp(end.unwrap_or(size)).max(s);
        let len = ((e - s) as usize).div_ceil(step);
        let mut l = self.layout().clone();
        l.offset += s as usize * l.strides[d];
        l.shape.0[d] = len;
        l.strides[d] *= step;
        Ok(self.with_layout_op(l, || GradOp::Slice {
            dim: d,
            start: s as usize,
            step,
            in_shape: self.shape().clone(),
        }))
    }

    /// Removes `dim` by taking index `index` (negative counts from the end).
    pub fn try_select(&self, dim: isize, index: isize) -> Result<Tensor> {
        let d = dim_of(self, dim, "select")?;
        let size = self.dims()[d] as isize;
        let i = if index < 0 { index + size } else { index };
        if i < 0 || i >= size {
            return Err(arg_err(
                "select",
                alloc::format!("index {index} is out of range for dim {d} of size {size}"),
            ));
        }
        let mut l = self.layout().clone();
        l.offset += i as usize * l.strides[d];
        l.shape.0.remove(d);
        l.strides.remove(d);
        Ok(self.with_layout_op(l, || GradOp::Select {
            dim: d,
            index: i as usize,
            in_shape: self.shape().clone(),
        }))
    }

    /// Broadcasts to `shape` without copying; `-1` keeps a dim.
    pub fn try_expand(&self, shape: &[isize]) -> Result<Tensor> {
        let r = shape.len();
        if r < self.rank() {
            return Err(shape_err(
                "expand",
                alloc::format!("at least {} dims", self.rank()),
                alloc::format!("{shape:?}"),
            ));
        }
        let lead = r - self.rank();
        let mut target: Dims = SmallVec::with_capacity(r);
        for (i, &s) in shape.iter().enumerate() {
            if s == -1 {
                if i < lead {
                    return Err(arg_err("expand", "-1 is not allowed for a new leading dim"));
                }
                target.push(self.dims()[i - lead]);
            } else if s < 0 {
                return Err(arg_err("expand", alloc::format!("invalid size {s}")));
            } else {
                target.push(s as usize);
            }
        }
        self.try_broadcast_to(&target)
    }

    /// Broadcasts to `shape` without copying (size-1 dims get stride 0).
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        // The common case on the hot path (same-shape binary ops): nothing to build.
        if self.dims() == shape {
            return Ok(self.clone());
        }
        let l = self
            .layout()
            .broadcast_to(&Shape::new(shape), "broadcast_to")?;
        if l.shape == *self.shape() {
            return Ok(self.clone());
        }
        Ok(self.with_layout_op(l, || GradOp::Expand {
            in_shape: self.shape().clone(),
        }))
    }

    /// Removes size-1 dims: all of them, or only `dim` (a no-op if its size is not 1).
    pub fn try_squeeze(&self, dim: Option<isize>) -> Result<Tensor> {
        let mut l = self.layout().clone();
        match dim {
            Some(d) => {
                let d = wrap_dim(d, self.rank(), "squeeze")?;
                if self.rank() > 0 && l.shape.0[d] == 1 {
                    l.shape.0.remove(d);
                    l.strides.remove(d);
                }
            }
            None => {
                let keep: Vec<usize> = (0..self.rank()).filter(|&i| l.shape.0[i] != 1).collect();
                l.shape = Shape(keep.iter().map(|&i| self.dims()[i]).collect());
                l.strides = keep.iter().map(|&i| self.strides()[i]).collect();
            }
        }
        Ok(self.with_layout_op(l, || GradOp::Reshape {
            in_shape: self.shape().clone(),
        }))
    }

    /// Inserts a size-1 dim at `dim` (in `-rank-1 ..= rank`).
    pub fn try_unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = wrap_dim(dim, self.rank() + 1, "unsqueeze")?;
        let mut l = self.layout().clone();
        let st = if d < self.rank() {
            l.strides[d] * l.shape.0[d]
        } else {
            1
        };
        l.shape.0.insert(d, 1);
        l.strides.insert(d, st);
        Ok(self.with_layout_op(l, || GradOp::Reshape {
            in_shape: self.shape().clone(),
        }))
    }

    /// Merges dims `start_dim..=end_dim` into one.
    pub fn try_flatten(&self, start_dim: isize, end_dim: isize) -> Result<Tensor> {
        let s = wrap_dim(start_dim, self.rank(), "flatten")?;
        let e = wrap_dim(end_dim, self.rank(), "flatten")?;
        if self.rank() == 0 {
            return self.try_reshape(&[1]);
        }
        if s > e {
            return Err(arg_err("flatten", "start_dim must not come after end_dim"));
        }
        let mut shape: Vec<isize> = Vec::new();
        shape.extend(self.dims()[..s].iter().map(|&d| d as isize));
        shape.push(self.dims()[s..=e].iter().product::<usize>() as isize);
        shape.extend(self.dims()[e + 1..].iter().map(|&d| d as isize));
        self.try_reshape(&shape)
    }

    /// Splits `dim` into `sizes` (one may be -1).
    pub fn try_unflatten(&self, dim: isize, sizes: &[isize]) -> Result<Tensor> {
        let d = dim_of(self, dim, "unflatten")?;
        let inner = infer_shape("unflatten", sizes, self.dims()[d], self.shape())?;
        let mut shape: Vec<isize> = self.dims()[..d].iter().map(|&x| x as isize).collect();
        shape.extend(inner.dims().iter().map(|&x| x as isize));
        shape.extend(self.dims()[d + 1..].iter().map(|&x| x as isize));
        self.try_view(&shape).or_else(|_| self.try_reshape(&shape))
    }

    /// Concatenates along `dim`; each input is copied once into a view of the output.
    pub fn try_cat(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .iter()
            .find(|t| !(t.rank() == 1 && t.numel() == 0))
            .or(tensors.first())
            .ok_or_else(|| arg_err("cat", "expected a non-empty list of tensors"))?;
        let r = first.rank();
        let d = dim_of(first, dim, "cat")?;
        let mut dtype = first.dtype();
        let mut total = 0usize;
        for t in tensors {
            first.same_device("cat", &[t])?;
            // PyTorch skips legacy empty 1-D tensors in cat.
            if t.rank() == 1 && t.numel() == 0 && r != 1 {
                continue;
            }
            if t.rank() != r || (0..r).any(|i| i != d && t.dims()[i] != first.dims()[i]) {
                return Err(shape_err(
                    "cat",
                    alloc::format!("tensors matching {} except in dim {d}", first.shape()),
                    t.shape(),
                ));
            }
            dtype = crate::dtype::promote_types(dtype, t.dtype());
            total += t.dims()[d];
        }
        let mut shape = first.shape().clone();
        shape.0[d] = total;
        let out = Tensor::empty(shape, dtype, first.device())?;
        let mut at = 0usize;
        let mut used: Vec<Tensor> = Vec::with_capacity(tensors.len());
        for t in tensors {
            if t.rank() == 1 && t.numel() == 0 && r != 1 {
                continue;
            }
            let n = t.dims()[d];
            let dst = out.raw_slice(d, at, n, 1);
            let src = t.try_to_dtype(dtype)?;
            Tensor::exec(&PrimOp::Copy, &[&src], &dst)?;
            used.push(src);
            at += n;
        }
        let refs: Vec<&Tensor> = used.iter().collect();
        Ok(record(
            out,
            GradOp::Cat {
                dim: d,
                sizes: used.iter().map(|t| t.dims()[d]).collect(),
            },
            &refs,
            |_| SmallVec::new(),
        ))
    }

    /// Stacks along a new dim.
    pub fn try_stack(tensors: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| arg_err("stack", "expected a non-empty list of tensors"))?;
        let d = wrap_dim(dim, first.rank() + 1, "stack")?;
        let mut us = Vec::with_capacity(tensors.len());
        for t in tensors {
            if t.shape() != first.shape() {
                return Err(shape_err("stack", first.shape(), t.shape()));
            }
            us.push(t.try_unsqueeze(d as isize)?);
        }
        Tensor::try_cat(&us, d as isize)
    }

    /// Splits into pieces of `size` along `dim` (the last may be smaller); views.
    pub fn try_split(&self, size: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = dim_of(self, dim, "split")?;
        let n = self.dims()[d];
        if size == 0 {
            if n == 0 {
                return Ok(alloc::vec![self.clone()]);
            }
            return Err(arg_err(
                "split",
                "split_size must be positive for a non-empty dim",
            ));
        }
        let mut out = Vec::new();
        let mut at = 0;
        while at < n || (n == 0 && out.is_empty()) {
            let len = size.min(n - at);
            out.push(self.try_narrow(d as isize, at, len)?);
            at += len.max(1);
        }
        Ok(out)
    }

    /// Splits into pieces of the given sizes along `dim`; views.
    pub fn try_split_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Tensor>> {
        let d = dim_of(self, dim, "split")?;
        if sizes.iter().sum::<usize>() != self.dims()[d] {
            return Err(shape_err(
                "split",
                alloc::format!(
                    "sizes summing to {} (dim {d} of {})",
                    self.dims()[d],
                    self.shape()
                ),
                alloc::format!("{sizes:?}"),
            ));
        }
        let mut at = 0;
        sizes
            .iter()
            .map(|&s| {
                let t = self.try_narrow(d as isize, at, s);
                at += s;
                t
            })
            .collect()
    }

    /// Splits into `chunks` pieces of `ceil(n / chunks)` along `dim`; views.
    pub fn try_chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor>> {
        if chunks == 0 {
            return Err(arg_err("chunk", "chunks must be positive"));
        }
        let d = dim_of(self, dim, "chunk")?;
        let n = self.dims()[d];
        self.try_split(
            n.div_ceil(chunks).max(if n == 0 { 0 } else { 1 }),
            d as isize,
        )
    }

    /// Converts to another dtype (a copy unless the dtype already matches).
    pub fn try_to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        let out = Tensor::empty(self.shape().clone(), dtype, self.device())?;
        Tensor::exec(&PrimOp::Cast, &[self], &out)?;
        Ok(record(
            out,
            GradOp::Cast { from: self.dtype() },
            &[self],
            |_| SmallVec::new(),
        ))
    }

    /// Moves to another device (a copy through the host unless it is already there).
    pub fn try_to_device(&self, device: &Device) -> Result<Tensor> {
        if self.device() == device {
            return Ok(self.clone());
        }
        let bytes = self.device().driver().read_blocking(&self.as_view())?;
        let out = Tensor::empty(self.shape().clone(), self.dtype(), device)?;
        device.driver().write(out.storage().buf, 0, &bytes)?;
        Ok(record(
            out,
            GradOp::ToDevice {
                from: self.device().clone(),
            },
            &[self],
            |_| SmallVec::new(),
        ))
    }

    sugar! {
        /// Panicking form of [`Tensor::try_view`].
        fn view(&self, shape: &[isize]) -> Tensor = try_view;
        /// Panicking form of [`Tensor::try_reshape`].
        fn reshape(&self, shape: &[isize]) -> Tensor = try_reshape;
        /// Panicking form of [`Tensor::try_contiguous`].
        fn contiguous(&self) -> Tensor = try_contiguous;
        /// Panicking form of [`Tensor::try_permute`].
        fn permute(&self, dims: &[isize]) -> Tensor = try_permute;
        /// Panicking form of [`Tensor::try_transpose`].
        fn transpose(&self, dim0: isize, dim1: isize) -> Tensor = try_transpose;
        /// Panicking form of [`Tensor::try_t`].
        fn t(&self) -> Tensor = try_t;
        /// Panicking form of [`Tensor::try_narrow`].
        fn narrow(&self, dim: isize, start: usize, length: usize) -> Tensor = try_narrow;
        /// Panicking form of [`Tensor::try_slice`].
        fn slice(&self, dim: isize, start: isize, end: Option<isize>, step: usize) -> Tensor = try_slice;
        /// Panicking form of [`Tensor::try_select`].
        fn select(&self, dim: isize, index: isize) -> Tensor = try_select;
        /// Panicking form of [`Tensor::try_expand`].
        fn expand(&self, shape: &[isize]) -> Tensor = try_expand;
        /// Panicking form of [`Tensor::try_broadcast_to`].
        fn broadcast_to(&self, shape: &[usize]) -> Tensor = try_broadcast_to;
        /// Panicking form of [`Tensor::try_squeeze`].
        fn squeeze(&self, dim: Option<isize>) -> Tensor = try_squeeze;
        /// Panicking form of [`Tensor::try_unsqueeze`].
        fn unsqueeze(&self, dim: isize) -> Tensor = try_unsqueeze;
        /// Panicking form of [`Tensor::try_flatten`].
        fn flatten(&self, start_dim: isize, end_dim: isize) -> Tensor = try_flatten;
        /// Panicking form of [`Tensor::try_unflatten`].
        fn unflatten(&self, dim: isize, sizes: &[isize]) -> Tensor = try_unflatten;
        /// Panicking form of [`Tensor::try_split`].
        fn split(&self, size: usize, dim: isize) -> Vec<Tensor> = try_split;
        /// Panicking form of [`Tensor::try_chunk`].
        fn chunk(&self, chunks: usize, dim: isize) -> Vec<Tensor> = try_chunk;
        /// Panicking form of [`Tensor::try_to_dtype`].
        fn to_dtype(&self, dtype: DType) -> Tensor = try_to_dtype;
        /// Panicking form of [`Tensor::try_to_device`].
        fn to_device(&self, device: &Device) -> Tensor = try_to_device;
    }

    /// Panicking form of [`Tensor::try_cat`].
    #[track_caller]
    pub fn cat(tensors: &[Tensor], dim: isize) -> Tensor {
        Tensor::try_cat(tensors, dim).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Panicking form of [`Tensor::try_stack`].
    #[track_caller]
    pub fn stack(tensors: &[Tensor], dim: isize) -> Tensor {
        Tensor::try_stack(tensors, dim).unwrap_or_else(|e| panic!("{e}"))
    }
}
