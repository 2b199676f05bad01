//! `Tensor`: a cheap handle to strided storage on a device (DESIGN.md, "Tensor").

mod creation;
mod display;
mod index;
mod nn;
mod ops;
mod random;
mod reduce;
mod view;

pub use display::Notation;
pub use nn::Conv2dOpts;
pub use random::manual_seed;
pub use reduce::NormOrd;

use crate::autograd::{GradCell, GradOp, Hook, Node};
use crate::driver::{BufId, Device, View};
use crate::dtype::{DType, Element};
use crate::error::{dtype_err, Error, Result};
use crate::layout::{Layout, Shape};
use crate::ops::PrimOp;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A driver buffer plus the device that owns it; freed back to the pool on drop.
pub struct Storage {
    buf: BufId,
    bytes: usize,
    device: Device,
    version: AtomicUsize,
}

impl Storage {
    /// The buffer's size in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Bumped by every in-place write; autograd compares it to detect modified saved tensors.
    pub fn version(&self) -> usize {
        self.version.load(Ordering::Relaxed)
    }

    pub(crate) fn bump_version(&self) {
        self.version.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.device.driver().free(self.buf)
    }
}

struct Inner {
    storage: Arc<Storage>,
    layout: Layout,
    dtype: DType,
    /// Set on leaves by `requires_grad_`, and on every recorded op's output.
    requires_grad: AtomicBool,
    /// The node that computed this tensor (None for leaves and untracked results).
    grad_fn: Option<Arc<Node>>,
    /// `.grad()` of a leaf, and hooks.
    cell: spin::Mutex<GradCell>,
}

/// An n-dimensional array on a device, with PyTorch's names and semantics.
///
/// Cloning is cheap (a reference count); views share storage with their base. Every op has
/// a `try_` form returning [`Result`] and a short form that panics with the same message.
#[derive(Clone)]
pub struct Tensor(Arc<Inner>);

impl Tensor {
    /// A tensor of uninitialised contents (used by ops that overwrite every element).
    pub(crate) fn empty(shape: Shape, dtype: DType, device: &Device) -> Result<Tensor> {
        let n = shape.try_numel("empty")?;
        let bytes = n.checked_mul(dtype.size()).ok_or_else(|| {
            crate::error::arg_err(
                "empty",
                alloc::format!("shape {shape} of {dtype} is too large"),
            )
        })?;
        let buf = device.driver().alloc(bytes)?;
        Ok(Tensor::from_parts(
            Arc::new(Storage {
                buf,
                bytes,
                device: device.clone(),
                version: AtomicUsize::new(0),
            }),
            Layout::contiguous(shape),
            dtype,
        ))
    }

    pub(crate) fn from_parts(storage: Arc<Storage>, layout: Layout, dtype: DType) -> Tensor {
        Tensor(Arc::new(Inner {
            storage,
            layout,
            dtype,
            requires_grad: AtomicBool::new(false),
            grad_fn: None,
            cell: spin::Mutex::new(GradCell::default()),
        }))
    }

    /// A view with another layout on the same storage, recorded as `op` for autograd.
    pub(crate) fn with_layout_op(&self, layout: Layout, op: impl FnOnce() -> GradOp) -> Tensor {
        let v = self.raw_view(layout);
        if crate::autograd::needs_grad(&[self]) {
            crate::autograd::record(v, op(), &[self], |_| smallvec::SmallVec::new())
        } else {
            v
        }
    }

    /// A view with another layout on the same storage, not recorded (internal use).
    pub(crate) fn raw_view(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout, self.0.dtype)
    }

    /// `x[start : start + len*step : step]` along `dim`, not recorded (internal use).
    pub(crate) fn raw_slice(&self, dim: usize, start: usize, len: usize, step: usize) -> Tensor {
        let mut l = self.layout().clone();
        l.offset += start * l.strides[dim];
        l.shape.0[dim] = len;
        l.strides[dim] *= step;
        self.raw_view(l)
    }

    // ------------------------------------------------------------------ autograd

    /// True if gradients flow to (leaf) or through (non-leaf) this tensor.
    pub fn requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// True for tensors not computed by a recorded op.
    pub fn is_leaf(&self) -> bool {
        self.0.grad_fn.is_none()
    }

    /// The node that computed this tensor, if recorded.
    pub fn grad_fn(&self) -> Option<&Arc<Node>> {
        self.0.grad_fn.as_ref()
    }

    /// Marks a leaf as requiring grad (PyTorch's `requires_grad_`); returns it for chaining.
    pub fn try_requires_grad_(&self, on: bool) -> Result<Tensor> {
        if !self.is_leaf() {
            return Err(Error::Autograd(alloc::string::String::from(
                "you can only change requires_grad flags of leaf tensors",
            )));
        }
        if on && !self.dtype().is_float() {
            return Err(dtype_err(
                "requires_grad_",
                alloc::format!(
                    "only floating point tensors can require gradients, got {}",
                    self.dtype()
                ),
            ));
        }
        self.0.requires_grad.store(on, Ordering::Relaxed);
        Ok(self.clone())
    }

    /// A tensor sharing storage, cut from the graph.
    pub fn detach(&self) -> Tensor {
        self.raw_view(self.layout().clone())
    }

    /// The accumulated gradient of a leaf.
    pub fn grad(&self) -> Option<Tensor> {
        self.0.cell.lock().grad.clone()
    }

    /// Replaces the accumulated gradient (`None` clears it, like `zero_grad(set_to_none=True)`).
    pub fn set_grad(&self, g: Option<Tensor>) {
        self.0.cell.lock().grad = g;
    }

    /// Registers a hook called with this tensor's gradient during backward; it may return a
    /// replacement gradient.
    pub fn register_hook(
        &self,
        hook: impl Fn(&Tensor) -> Option<Tensor>
            + crate::driver::MaybeSend
            + crate::driver::MaybeSync
            + 'static,
    ) -> Result<()> {
        let h: Hook = alloc::boxed::Box::new(hook);
        match &self.0.grad_fn {
            Some(n) => crate::autograd::add_node_hook(n, h),
            None if self.requires_grad() => self.0.cell.lock().hooks.push(h),
            None => {
                return Err(Error::Autograd(alloc::string::String::from(
                    "cannot register a hook on a tensor that doesn't require gradient",
                )))
            }
        }
        Ok(())
    }

    /// Backpropagates from a scalar (PyTorch's `loss.backward()`).
    pub fn try_backward(&self) -> Result<()> {
        crate::autograd::backward(core::slice::from_ref(self), None, false, false)
    }

    /// Backpropagates with an explicit output gradient and graph options.
    pub fn try_backward_with(
        &self,
        grad: Option<&Tensor>,
        retain_graph: bool,
        create_graph: bool,
    ) -> Result<()> {
        let g = grad.map(core::slice::from_ref);
        crate::autograd::backward(core::slice::from_ref(self), g, retain_graph, create_graph)
    }

    pub(crate) fn with_grad_fn(self, node: Arc<Node>) -> Tensor {
        let inner = match Arc::try_unwrap(self.0) {
            Ok(i) => i,
            Err(shared) => Inner {
                storage: shared.storage.clone(),
                layout: shared.layout.clone(),
                dtype: shared.dtype,
                requires_grad: AtomicBool::new(false),
                grad_fn: None,
                cell: spin::Mutex::new(GradCell::default()),
            },
        };
        Tensor(Arc::new(Inner {
            requires_grad: AtomicBool::new(true),
            grad_fn: Some(node),
            ..inner
        }))
    }

    /// The identity of a leaf for gradient bookkeeping.
    pub(crate) fn leaf_key(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Takes this handle's node when it is the last handle (for iterative graph drops).
    pub(crate) fn take_grad_fn_if_unique(self) -> Option<Arc<Node>> {
        Arc::try_unwrap(self.0)
            .ok()
            .and_then(|mut i| i.grad_fn.take())
    }

    /// Adds a backward result into a leaf's `.grad()`, running its hooks first.
    pub(crate) fn accumulate_grad(&self, g: Tensor, create_graph: bool) -> Result<()> {
        let mut cell = self.0.cell.lock();
        let mut g = g;
        for h in cell.hooks.iter() {
            if let Some(r) = h(&g) {
                g = r;
            }
        }
        let g = if create_graph { g } else { g.detach() };
        // PyTorch's gradient layout contract: a contiguous parameter gets a contiguous
        // gradient (a transposed matmul result would otherwise send every optimizer step
        // through strided loops, and past the drivers' fused updates).
        let g = if self.is_contiguous() && !g.is_contiguous() {
            let _ng = (!create_graph).then(crate::autograd::no_grad);
            g.try_contiguous()?
        } else {
            g
        };
        cell.grad = Some(match cell.grad.take() {
            None => g,
            Some(prev) => {
                let _ng = (!create_graph).then(crate::autograd::no_grad);
                prev.try_add(&g)?
            }
        });
        Ok(())
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.0.layout.shape
    }

    /// The sizes of the dims (PyTorch's `size()`).
    pub fn dims(&self) -> &[usize] {
        self.0.layout.shape.dims()
    }

    /// The size of one dim (negative dims count from the end).
    pub fn try_size(&self, dim: isize) -> Result<usize> {
        if self.rank() == 0 {
            return Err(crate::error::arg_err(
                "size",
                alloc::format!("dimension specified as {dim} but tensor has no dimensions"),
            ));
        }
        let d = crate::layout::wrap_dim(dim, self.rank(), "size")?;
        Ok(self.dims()[d])
    }

    /// Number of dims (PyTorch's `dim()`).
    pub fn rank(&self) -> usize {
        self.0.layout.rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.0.layout.numel()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The device holding the storage.
    pub fn device(&self) -> &Device {
        &self.0.storage.device
    }

    /// Shape, strides and offset in the storage.
    pub fn layout(&self) -> &Layout {
        &self.0.layout
    }

    /// Strides in elements (PyTorch's `stride()`).
    pub fn strides(&self) -> &[usize] {
        &self.0.layout.strides
    }

    /// The shared storage.
    pub fn storage(&self) -> &Arc<Storage> {
        &self.0.storage
    }

    /// True when both tensors view the same storage.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// True when the elements are dense and row-major.
    pub fn is_contiguous(&self) -> bool {
        self.0.layout.is_contiguous()
    }

    /// The driver-facing view of this tensor.
    pub fn as_view(&self) -> View {
        View {
            buf: self.0.storage.buf,
            layout: self.0.layout.clone(),
            dtype: self.0.dtype,
        }
    }

    /// Runs a primitive on the device of `out` (all operands were checked to share it).
    pub(crate) fn exec(op: &PrimOp, ins: &[&Tensor], out: &Tensor) -> Result<()> {
        let mut views: smallvec::SmallVec<[View; 4]> = smallvec::SmallVec::new();
        for t in ins {
            views.push(t.as_view());
        }
        out.device()
            .driver()
            .exec(op, &views, core::slice::from_ref(&out.as_view()))
    }

    /// Fails with `Error::Device` unless every tensor is on `self`'s device.
    pub(crate) fn same_device(&self, op: &'static str, others: &[&Tensor]) -> Result<()> {
        for o in others {
            if !Arc::ptr_eq(&self.device().0, &o.device().0) && self.device() != o.device() {
                return Err(Error::Device {
                    op,
                    msg: alloc::format!(
                        "expected all tensors on the same device, found {} and {}",
                        self.device(),
                        o.device()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Reads the elements back to the host, row-major, blocking until queued work is done.
    pub fn try_to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if T::DTYPE != self.dtype() {
            return Err(dtype_err(
                "to_vec",
                alloc::format!("tensor is {}, asked for {}", self.dtype(), T::DTYPE),
            ));
        }
        let bytes = self.device().driver().read_blocking(&self.as_view())?;
        Ok(bytes_to_vec(&bytes))
    }

    /// Reads the elements back without blocking: the future resolves once the device is done.
    pub fn to_vec_async<T: Element>(
        &self,
    ) -> impl core::future::Future<Output = Result<Vec<T>>> + 'static {
        let ok = T::DTYPE == self.dtype();
        let dt = self.dtype();
        let fut = if ok {
            Some(self.device().driver().read(&self.as_view()))
        } else {
            None
        };
        async move {
            match fut {
                Some(f) => Ok(bytes_to_vec(&f.await?)),
                None => Err(dtype_err(
                    "to_vec_async",
                    alloc::format!("tensor is {dt}, asked for {}", T::DTYPE),
                )),
            }
        }
    }

    /// Reads the elements as f64 whatever the dtype (for printing and tests).
    pub fn try_to_f64_vec(&self) -> Result<Vec<f64>> {
        let bytes = self.device().driver().read_blocking(&self.as_view())?;
        Ok(bytes_to_f64(&bytes, self.dtype()))
    }

    /// The single element of a one-element tensor, as `T`.
    pub fn try_item<T: Element>(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(crate::error::shape_err(
                "item",
                "a tensor with one element",
                self.shape(),
            ));
        }
        Ok(self.try_to_vec::<T>()?[0])
    }
}

/// Decodes little-endian bytes into host elements.
pub(crate) fn bytes_to_vec<T: Element>(bytes: &[u8]) -> Vec<T> {
    bytes
        .chunks_exact(T::DTYPE.size())
        .map(T::from_le_bytes)
        .collect()
}

/// Decodes little-endian bytes of any dtype into f64.
pub(crate) fn bytes_to_f64(bytes: &[u8], dt: DType) -> Vec<f64> {
    use half::{bf16, f16};
    fn conv<T: Element>(b: &[u8]) -> Vec<f64> {
        b.chunks_exact(T::DTYPE.size())
            .map(|c| T::from_le_bytes(c).to_f64())
            .collect()
    }
    match dt {
        DType::Bool => conv::<bool>(bytes),
        DType::U8 => conv::<u8>(bytes),
        DType::I8 => conv::<i8>(bytes),
        DType::I32 => conv::<i32>(bytes),
        DType::I64 => conv::<i64>(bytes),
        DType::F16 => conv::<f16>(bytes),
        DType::BF16 => conv::<bf16>(bytes),
        DType::F32 => conv::<f32>(bytes),
        DType::F64 => conv::<f64>(bytes),
    }
}

/// Generates panicking short forms of `try_` methods: `fn exp(&self) -> Tensor`.
macro_rules! sugar {
    ($( $(#[$m:meta])* fn $name:ident $(<$($g:ident : $b:path),*>)? (&self $(, $arg:ident : $ty:ty)*) -> $ret:ty = $try:ident; )*) => {$(
        $(#[$m])*
        #[track_caller]
        pub fn $name $(<$($g: $b),*>)? (&self $(, $arg: $ty)*) -> $ret {
            match self.$try($($arg),*) {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            }
        }
    )*};
}
pub(crate) use sugar;

impl Tensor {
    sugar! {
        /// Panicking form of [`Tensor::try_to_vec`].
        fn to_vec<T: Element>(&self) -> Vec<T> = try_to_vec;
        /// Panicking form of [`Tensor::try_to_f64_vec`].
        fn to_f64_vec(&self) -> Vec<f64> = try_to_f64_vec;
        /// Panicking form of [`Tensor::try_item`].
        fn item<T: Element>(&self) -> T = try_item;
        /// Panicking form of [`Tensor::try_size`].
        fn size(&self, dim: isize) -> usize = try_size;
        /// Panicking form of [`Tensor::try_requires_grad_`].
        fn requires_grad_(&self, on: bool) -> Tensor = try_requires_grad_;
        /// Panicking form of [`Tensor::try_backward`].
        fn backward(&self) -> () = try_backward;
    }
}

impl core::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}
