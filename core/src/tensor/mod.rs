//! `Tensor`: a cheap handle to strided storage on a device (DESIGN.md, "Tensor").

mod creation;
mod display;
mod index;
mod nn;
mod ops;
mod random;
mod reduce;
mod view;

pub use nn::Conv2dOpts;
pub use random::manual_seed;
pub use reduce::NormOrd;

use crate::driver::{BufId, Device, View};
use crate::dtype::{DType, Element};
use crate::error::{dtype_err, Error, Result};
use crate::layout::{Layout, Shape};
use crate::ops::PrimOp;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

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
        }))
    }

    /// A new handle on the same storage with another layout (a view).
    pub(crate) fn with_layout(&self, layout: Layout) -> Tensor {
        Tensor::from_parts(self.0.storage.clone(), layout, self.0.dtype)
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
    }
}

impl core::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}
