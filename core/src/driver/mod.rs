//! The driver interface: what an accelerator implements (DESIGN.md, "The driver trait").
//!
//! Core never names a driver. A driver owns its buffers (through [`crate::mem::Pool`]),
//! executes the closed [`PrimOp`] table on strided [`View`]s, may override [`FusedOp`]s,
//! and reports memory. Call order is stream order: `exec` may queue work and return;
//! `read`, `read_blocking` and `synchronize` wait for it.

mod check;
pub use check::check_views;

use crate::dtype::DType;
use crate::error::Result;
use crate::layout::Layout;
use crate::ops::{FusedOp, PrimOp};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

/// `Send` natively; nothing on wasm32, where browser drivers hold `!Send` JS handles.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` natively; nothing on wasm32, where browser drivers hold `!Send` JS handles.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// `Sync` natively; nothing on wasm32.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSync: Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Sync + ?Sized> MaybeSync for T {}
/// `Sync` natively; nothing on wasm32.
#[cfg(target_arch = "wasm32")]
pub trait MaybeSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSync for T {}

/// A driver's handle to one of its buffers. Meaningful only to the driver that made it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufId(pub u64);

/// Which device instance: `cuda:0` and `cuda:1` differ.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceId {
    /// The driver's name (`"cpu"`, `"wgpu"`, `"cuda"`).
    pub kind: &'static str,
    /// The ordinal within that driver.
    pub ordinal: u32,
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == "cpu" && self.ordinal == 0 {
            f.write_str("cpu")
        } else {
            write!(f, "{}:{}", self.kind, self.ordinal)
        }
    }
}

/// A strided view of a buffer: what ops read and write.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// The buffer.
    pub buf: BufId,
    /// Shape, strides and offset, in elements of `dtype`.
    pub layout: Layout,
    /// The element type.
    pub dtype: DType,
}

/// Memory counters every driver reports.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Bytes in live buffers (rounded up to the pool's size classes).
    pub in_use: usize,
    /// The largest `in_use` seen since the driver started (or `reset_peak`).
    pub peak: usize,
    /// Bytes held from the system: in use plus cached for reuse.
    pub reserved: usize,
    /// Allocations that went to the system (pool misses).
    pub allocations: usize,
    /// Allocation requests, hits and misses.
    pub requests: usize,
    /// The limit, if set.
    pub limit: Option<usize>,
}

/// A readback in flight: resolves to the view's elements, densely packed, little-endian.
pub type ReadFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>>> + 'static>>;

/// What an accelerator implements. Object-safe: a [`Device`] is an `Arc<dyn Driver>`.
///
/// Invariants for every method that takes views: `View::layout` lies within the buffer;
/// all views of one call have the dtypes the op states; an output may alias an input
/// only for elementwise ops with identical layouts (in-place updates). Drivers never
/// panic: everything checkable returns `Err`, device faults are deferred to the next
/// `read`/`synchronize`.
pub trait Driver: MaybeSend + MaybeSync + 'static {
    /// Required. The driver's name: `"cpu"`, `"wgpu"`, `"cuda"`.
    fn name(&self) -> &'static str;

    /// Required. Which device instance this is.
    fn id(&self) -> DeviceId;

    /// Required. A buffer of at least `bytes` bytes through the driver's pool; past the
    /// memory limit, `Error::OutOfMemory`. Contents are unspecified.
    fn alloc(&self, bytes: usize) -> Result<BufId>;

    /// Required. Returns a buffer to the pool. Work already queued on it still completes.
    fn free(&self, buf: BufId);

    /// Required. Copies host bytes into a buffer at a byte offset (stream-ordered).
    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> Result<()>;

    /// Required. Enqueues a readback of a view before returning; the future owns
    /// nothing borrowed, so it may be awaited later.
    fn read(&self, src: &View) -> ReadFuture;

    /// Required. A blocking readback; `Error::WouldBlock` where blocking is not allowed.
    fn read_blocking(&self, src: &View) -> Result<Vec<u8>>;

    /// Required. Executes one primitive on strided views. Must match the op table
    /// exhaustively (no wildcard arm), and return `Error::Unsupported` for dtypes it lacks.
    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()>;

    /// Optional. Runs a fused op in one kernel; `None` means "use core's composed default".
    fn fused(&self, _op: &FusedOp, _ins: &[View], _outs: &[View]) -> Option<Result<()>> {
        None
    }

    /// Required. Memory counters.
    fn memory(&self) -> MemoryStats;

    /// Required. Sets (or clears) the memory limit; cached buffers over it are released.
    fn set_memory_limit(&self, bytes: Option<usize>);

    /// Optional. Releases cached (unused) buffers back to the system.
    fn empty_cache(&self) {}

    /// Optional. Resets the peak counter to the current use.
    fn reset_peak(&self) {}

    /// Required. Waits for queued work; returns deferred device errors.
    fn synchronize(&self) -> Result<()>;
}

/// A device: a shared handle to a driver. Cheap to clone; compares by [`DeviceId`].
#[derive(Clone)]
pub struct Device(pub Arc<dyn Driver>);

impl Device {
    /// Wraps a driver.
    pub fn new(driver: Arc<dyn Driver>) -> Device {
        Device(driver)
    }

    /// The process-wide CPU device.
    pub fn cpu() -> Device {
        crate::cpu::cpu_device()
    }

    /// The driver behind this device.
    pub fn driver(&self) -> &dyn Driver {
        &*self.0
    }

    /// Which device this is.
    pub fn id(&self) -> DeviceId {
        self.0.id()
    }

    /// Memory counters of this device.
    pub fn memory(&self) -> MemoryStats {
        self.0.memory()
    }

    /// Sets the memory limit in bytes (`None` removes it).
    pub fn set_memory_limit(&self, bytes: Option<usize>) {
        self.0.set_memory_limit(bytes)
    }

    /// Waits for queued work and reports deferred errors.
    pub fn synchronize(&self) -> Result<()> {
        self.0.synchronize()
    }

    /// The device's name as printed (`cpu`, `cuda:0`).
    pub fn label(&self) -> String {
        alloc::format!("{}", self.id())
    }
}

impl PartialEq for Device {
    fn eq(&self, other: &Device) -> bool {
        self.id() == other.id()
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id())
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id())
    }
}

/// Drives a future to completion on the current thread (for drivers whose futures are
/// ready or complete by polling the device). Native code only; in a browser use `.await`.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
    fn noop_raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            noop_raw()
        }
        fn noop(_: *const ()) {}
        static VT: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(core::ptr::null(), &VT)
    }
    // SAFETY: the vtable's functions ignore the data pointer, so any pointer is valid.
    let waker = unsafe { Waker::from_raw(noop_raw()) };
    let mut cx = Context::from_waker(&waker);
    let mut fut = core::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        core::hint::spin_loop();
        #[cfg(feature = "std")]
        std::thread::yield_now();
    }
}
