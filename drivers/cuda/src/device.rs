//! The CUDA driver: one context (the device's primary one) and one stream per device,
//! buffers from a stream-ordered caching pool, kernels from NVRTC cached per (group, dtype),
//! deferred device errors through a flag word that kernels set.

use crate::blas::Blas;
use crate::compile::{self, Target};
use cudarc::driver::result as cu;
use cudarc::driver::sys;
use lantern::mem::Pool;
use lantern::ops::{FusedOp, PrimOp};
use lantern::{BufId, DType, DeviceId, Driver, Error, MemoryStats, Result, View};
use lantern_kernels::cuda::Group;
use std::collections::HashMap;
use std::ffi::{c_void, CString};
use std::sync::{Arc, Mutex, MutexGuard};

/// A device allocation.
pub(crate) struct Block {
    pub ptr: sys::CUdeviceptr,
    pub bytes: usize,
}

pub(crate) struct State {
    pub pool: Pool<Block>,
    /// Live buffers by `BufId`: (block, size class).
    pub slab: Vec<Option<(Block, usize)>>,
    pub free_ids: Vec<u32>,
}

/// A kernel handle. CUfunction is a raw pointer; the driver API is thread-safe.
#[derive(Copy, Clone)]
pub(crate) struct Func(pub sys::CUfunction);
// SAFETY: CUDA function handles may be used from any thread of the process.
unsafe impl Send for Func {}
// SAFETY: as above.
unsafe impl Sync for Func {}

struct Module(sys::CUmodule);
// SAFETY: CUDA module handles may be used from any thread of the process.
unsafe impl Send for Module {}

/// Which kernel: `{op}_{dtype}[_{dtype2}]{suffix}` in `group`, compiled with LT_ONLY = `dt`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct KernelKey {
    pub group: &'static str,
    pub op: &'static str,
    pub dt: DType,
    pub dt2: Option<DType>,
    pub suffix: &'static str,
}

#[derive(Default)]
struct Kernels {
    modules: HashMap<(&'static str, DType), Module>,
    funcs: HashMap<KernelKey, Func>,
}

/// Host memory the device copies into, page-locked so copies run asynchronously.
pub(crate) struct Pinned {
    pub ptr: *mut u8,
    pub cap: usize,
}
// SAFETY: page-locked host memory owned by the driver; used by one readback at a time.
unsafe impl Send for Pinned {}

pub(crate) struct Event(pub sys::CUevent);
// SAFETY: CUDA event handles may be used from any thread of the process.
unsafe impl Send for Event {}

pub(crate) struct Inner {
    pub ordinal: u32,
    pub ctx: sys::CUcontext,
    dev: sys::CUdevice,
    pub stream: sys::CUstream,
    pub sm_count: u32,
    pub arch: u32,
    pub name: String,
    async_alloc: bool,
    target: Target,
    pub state: Mutex<State>,
    kernels: Mutex<Kernels>,
    pub blas: Option<Mutex<Blas>>,
    /// The device error flag (one u32; bits in common.cuh).
    pub err_flag: sys::CUdeviceptr,
    pub pinned: Mutex<Vec<Pinned>>,
    pub events: Mutex<Vec<Event>>,
}

// SAFETY: the raw context, stream and pointers are CUDA handles, usable from any thread;
// mutable state sits behind mutexes.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

/// The CUDA driver. Make one with [`crate::cuda`].
pub struct CudaDriver {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn driver_err(what: &str, e: cudarc::driver::DriverError) -> Error {
    Error::Driver(format!("cuda: {what}: {e}"))
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn device_err(msg: String) -> Error {
    Error::Device { op: "cuda", msg }
}

impl Inner {
    pub(crate) fn new(ordinal: usize) -> Result<Inner> {
        // SAFETY: only tries to open the library by its usual names.
        if !unsafe { sys::is_culib_present() } {
            return Err(device_err(String::from(
                "no CUDA driver found (libcuda.so could not be opened): this machine has no NVIDIA GPU or driver",
            )));
        }
        cu::init()
            .map_err(|e| device_err(format!("cuInit failed: {e} (no usable NVIDIA GPU?)")))?;
        let count = cu::device::get_count()
            .map_err(|e| device_err(format!("counting devices failed: {e}")))?;
        if ordinal >= count.max(0) as usize {
            return Err(device_err(format!(
                "cuda:{ordinal} does not exist: {count} CUDA device(s) found"
            )));
        }
        if !compile::nvrtc_available() {
            return Err(device_err(String::from(
                "NVRTC (libnvrtc.so) was not found: Lantern compiles its CUDA kernels at run time; \
                 put the folder holding libnvrtc.so.12 or .13 on LD_LIBRARY_PATH",
            )));
        }
        let dev = cu::device::get(ordinal as i32).map_err(|e| driver_err("cuDeviceGet", e))?;
        // SAFETY: `dev` is a valid device; the primary context is released in Drop.
        let ctx = unsafe { cu::primary_ctx::retain(dev) }
            .map_err(|e| driver_err("retaining the context", e))?;
        // SAFETY: `ctx` was just retained.
        unsafe { cu::ctx::set_current(ctx) }.map_err(|e| driver_err("cuCtxSetCurrent", e))?;
        let attr = |a: sys::CUdevice_attribute| {
            // SAFETY: valid device and attribute.
            unsafe { cu::device::get_attribute(dev, a) }.unwrap_or(0)
        };
        let major = attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        let minor = attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        let sm_count =
            attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT).max(1) as u32;
        let async_alloc =
            attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED) != 0;
        let arch = (major * 10 + minor) as u32;
        let name = cu::device::get_name(dev).unwrap_or_else(|_| String::from("CUDA device"));
        let stream = cu::stream::create(cu::stream::StreamKind::NonBlocking)
            .map_err(|e| driver_err("creating a stream", e))?;
        // SAFETY: a plain 4-byte allocation, zeroed before any kernel can read it.
        let err_flag = unsafe {
            let p = cu::malloc_sync(4).map_err(|e| driver_err("allocating the error flag", e))?;
            cu::memset_d8_sync(p, 0, 4).map_err(|e| driver_err("clearing the error flag", e))?;
            p
        };
        let blas = Blas::new(stream).map(Mutex::new);
        Ok(Inner {
            ordinal: ordinal as u32,
            ctx,
            dev,
            stream,
            sm_count,
            arch,
            name,
            async_alloc,
            target: compile::target_for(arch),
            state: Mutex::new(State {
                pool: Pool::new(format!("cuda:{ordinal}")),
                slab: Vec::new(),
                free_ids: Vec::new(),
            }),
            kernels: Mutex::new(Kernels::default()),
            blas,
            err_flag,
            pinned: Mutex::new(Vec::new()),
            events: Mutex::new(Vec::new()),
        })
    }

    /// Makes this device's context current on the calling thread (a no-op when it is).
    pub(crate) fn bind(&self) -> Result<()> {
        match cu::ctx::get_current() {
            Ok(Some(c)) if c == self.ctx => Ok(()),
            // SAFETY: the context is retained for the driver's lifetime.
            _ => unsafe { cu::ctx::set_current(self.ctx) }
                .map_err(|e| driver_err("cuCtxSetCurrent", e)),
        }
    }

    fn raw_alloc(&self, bytes: usize) -> Option<Block> {
        // SAFETY: allocations are used only on this driver's stream (stream-ordered) or after
        // it is synchronized.
        let p = unsafe {
            if self.async_alloc {
                cu::malloc_async(self.stream, bytes)
            } else {
                cu::malloc_sync(bytes)
            }
        };
        p.ok().map(|ptr| Block { ptr, bytes })
    }

    fn raw_free(&self, b: Block) {
        // SAFETY: the block came from raw_alloc; a stream-ordered free runs after the work
        // queued before it, so pending kernels may still use the memory.
        unsafe {
            let _ = if self.async_alloc {
                cu::free_async(b.ptr, self.stream)
            } else {
                cu::free_sync(b.ptr)
            };
        }
    }

    pub(crate) fn alloc(&self, bytes: usize) -> Result<BufId> {
        self.bind()?;
        let mut st = lock(&self.state);
        let st = &mut *st;
        let (block, class) = st
            .pool
            .acquire(bytes, |n| self.raw_alloc(n), |b| self.raw_free(b))?;
        let id = match st.free_ids.pop() {
            Some(i) => {
                st.slab[i as usize] = Some((block, class));
                i
            }
            None => {
                st.slab.push(Some((block, class)));
                (st.slab.len() - 1) as u32
            }
        };
        Ok(BufId(id as u64))
    }

    pub(crate) fn free(&self, buf: BufId) {
        let mut st = lock(&self.state);
        if let Some((block, class)) = st.slab.get_mut(buf.0 as usize).and_then(|e| e.take()) {
            // Stream order makes reuse safe: later work that gets this block is queued after
            // the work that used it.
            st.pool.release(block, class);
            st.free_ids.push(buf.0 as u32);
        }
    }

    /// Device addresses of the views' first elements, checking each view lies in its buffer.
    pub(crate) fn resolve<const N: usize>(
        &self,
        op: &'static str,
        views: [&View; N],
    ) -> Result<[u64; N]> {
        let st = lock(&self.state);
        let mut out = [0u64; N];
        for (v, slot) in views.iter().zip(out.iter_mut()) {
            let (block, _) = st
                .slab
                .get(v.buf.0 as usize)
                .and_then(|e| e.as_ref())
                .ok_or_else(|| Error::Driver(format!("{op}: unknown cuda buffer {}", v.buf.0)))?;
            // An empty view touches nothing, wherever its offset points (as the CPU driver).
            let end = if v.layout.numel() == 0 {
                Some(0)
            } else {
                v.layout.span_end().checked_mul(v.dtype.size())
            };
            if end.is_none_or(|e| e > block.bytes) {
                return Err(Error::Driver(format!(
                    "{op}: view {:?} of {} exceeds its buffer of {} bytes",
                    v.layout, v.dtype, block.bytes
                )));
            }
            *slot = if v.layout.numel() == 0 {
                block.ptr
            } else {
                block.ptr + (v.layout.offset * v.dtype.size()) as u64
            };
        }
        Ok(out)
    }

    /// The kernel for `key`, compiling its group for this device on first use.
    pub(crate) fn func(&self, group: &Group, key: KernelKey) -> Result<Func> {
        let mut k = lock(&self.kernels);
        if let Some(f) = k.funcs.get(&key) {
            return Ok(*f);
        }
        let module = match k.modules.get(&(group.name, key.dt)) {
            Some(m) => m.0,
            None => {
                let image =
                    compile::compile(group, Some(key.dt), self.target).map_err(Error::Driver)?;
                // SAFETY: `image` is NUL-terminated PTX or a cubin made by NVRTC above.
                let m = unsafe { cu::module::load_data(image.as_ptr() as *const c_void) }
                    .map_err(|e| driver_err(&format!("loading the {} kernels", group.name), e))?;
                k.modules.insert((group.name, key.dt), Module(m));
                m
            }
        };
        let name = match key.dt2 {
            Some(d2) => format!(
                "{}_{}_{}{}",
                key.op,
                compile::dtype_suffix(key.dt),
                compile::dtype_suffix(d2),
                key.suffix
            ),
            None => format!("{}_{}{}", key.op, compile::dtype_suffix(key.dt), key.suffix),
        };
        let cname = CString::new(name.clone()).expect("internal: no NUL in a kernel name");
        // SAFETY: `module` is loaded and stays loaded for the driver's lifetime.
        let f = unsafe { cu::module::get_function(module, cname) }.map_err(|e| {
            Error::Driver(format!(
                "cuda: kernel {name} not found in {}.cu: {e}",
                group.name
            ))
        })?;
        let f = Func(f);
        k.funcs.insert(key, f);
        Ok(f)
    }

    /// Compiles and loads every group's kernels for `dtypes` now, on all cores, instead of
    /// one (group, dtype) at a time on first use.
    pub(crate) fn precompile(&self, dtypes: &[DType]) -> Result<()> {
        self.bind()?;
        let todo: Vec<(Group, DType)> = {
            let k = lock(&self.kernels);
            lantern_kernels::cuda::GROUPS
                .iter()
                .flat_map(|g| dtypes.iter().map(move |&d| (*g, d)))
                .filter(|(g, d)| !k.modules.contains_key(&(g.name, *d)))
                .collect()
        };
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(1);
        let mut images: Vec<(Group, DType, std::result::Result<Vec<u8>, String>)> = Vec::new();
        for chunk in todo.chunks(threads) {
            let r: Vec<_> = std::thread::scope(|s| {
                let hs: Vec<_> = chunk
                    .iter()
                    .map(|&(g, d)| {
                        s.spawn(move || (g, d, compile::compile(&g, Some(d), self.target)))
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            (
                                Group {
                                    name: "?",
                                    source: "",
                                    options: &[],
                                },
                                DType::F32,
                                Err(String::from("compile thread panicked")),
                            )
                        })
                    })
                    .collect()
            });
            images.extend(r);
        }
        let mut k = lock(&self.kernels);
        for (g, d, img) in images {
            let img = img.map_err(Error::Driver)?;
            if k.modules.contains_key(&(g.name, d)) {
                continue;
            }
            // SAFETY: `img` is NUL-terminated PTX or a cubin made by NVRTC.
            let m = unsafe { cu::module::load_data(img.as_ptr() as *const c_void) }
                .map_err(|e| driver_err(&format!("loading the {} kernels", g.name), e))?;
            k.modules.insert((g.name, d), Module(m));
        }
        Ok(())
    }

    /// Launches a kernel on the driver's stream. `args` point at each parameter's value.
    pub(crate) fn launch(
        &self,
        f: Func,
        grid: (u32, u32, u32),
        block: (u32, u32, u32),
        args: &mut [*mut c_void],
    ) -> Result<()> {
        // SAFETY: `f` comes from a loaded module; `args` match the kernel's parameter list
        // (each call site passes the struct and pointers its kernel declares) and are read
        // by cuLaunchKernel before it returns.
        unsafe { cu::launch_kernel(f.0, grid, block, 0, self.stream, args) }
            .map_err(|e| driver_err("launching a kernel", e))
    }

    /// Blocks of 256 threads for `work` items, capped so a grid-stride loop covers the rest.
    pub(crate) fn blocks(&self, work: u64) -> u32 {
        work.div_ceil(256).clamp(1, self.sm_count as u64 * 16) as u32
    }

    pub(crate) fn take_event(&self) -> Result<Event> {
        if let Some(e) = lock(&self.events).pop() {
            return Ok(e);
        }
        cu::event::create(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING)
            .map(Event)
            .map_err(|e| driver_err("creating an event", e))
    }

    pub(crate) fn put_event(&self, e: Event) {
        lock(&self.events).push(e);
    }

    /// A page-locked host buffer of at least `bytes`.
    pub(crate) fn take_pinned(&self, bytes: usize) -> Result<Pinned> {
        {
            let mut p = lock(&self.pinned);
            if let Some(i) = p.iter().position(|b| b.cap >= bytes) {
                return Ok(p.swap_remove(i));
            }
        }
        let cap = bytes.next_power_of_two().max(64 * 1024);
        // SAFETY: plain page-locked allocation, freed by free_host.
        let ptr = unsafe { cu::malloc_host(cap, 0) }.map_err(|e| Error::OutOfMemory {
            device: format!("cuda:{} (page-locked host staging: {e})", self.ordinal),
            requested: cap,
            in_use: 0,
            limit: None,
        })?;
        Ok(Pinned {
            ptr: ptr as *mut u8,
            cap,
        })
    }

    pub(crate) fn put_pinned(&self, b: Pinned) {
        let mut p = lock(&self.pinned);
        p.push(b);
        // Keep a few staging buffers, the largest last to go.
        while p.len() > 4 || p.iter().map(|b| b.cap).sum::<usize>() > crate::read::STAGING_MAX * 2 {
            let i = (0..p.len())
                .min_by_key(|&i| p[i].cap)
                .expect("internal: non-empty");
            let b = p.swap_remove(i);
            // SAFETY: allocated by malloc_host, no copy in flight (returned after completion).
            unsafe {
                let _ = cu::free_host(b.ptr as *mut c_void);
            }
        }
    }

    /// Reads and clears the device error flag (the stream must be synchronized, or `word`
    /// read back through it), returning the deferred error it encodes.
    pub(crate) fn deferred(&self, word: u32) -> Result<()> {
        if word == 0 {
            return Ok(());
        }
        // SAFETY: the flag is a live 4-byte allocation; stream-ordered after the work that set it.
        unsafe {
            let _ = cu::memset_d8_async(self.err_flag, 0, 4, self.stream);
        }
        Err(deferred_error(word))
    }

    pub(crate) fn synchronize(&self) -> Result<()> {
        self.bind()?;
        // SAFETY: the stream belongs to this driver.
        unsafe { cu::stream::synchronize(self.stream) }.map_err(|e| Error::Deferred {
            op: "synchronize",
            message: format!("a queued CUDA operation failed: {e}"),
        })?;
        let mut word = [0u32];
        // SAFETY: 4 bytes from the live flag allocation into a local.
        unsafe { cu::memcpy_dtoh_sync(&mut word, self.err_flag) }
            .map_err(|e| driver_err("reading the error flag", e))?;
        self.deferred(word[0])
    }
}

/// The error for a set of flag bits (LT_ERR_* in common.cuh).
pub(crate) fn deferred_error(word: u32) -> Error {
    const BITS: [(u32, &str, &str); 5] = [
        (1, "gather", "an index was out of range (it was clamped)"),
        (
            2,
            "index_select",
            "an index was out of range (it was clamped)",
        ),
        (
            4,
            "scatter_add",
            "an index was out of range (its element was skipped)",
        ),
        (
            8,
            "div",
            "integer division by zero (the result was set to 0)",
        ),
        (
            16,
            "pow",
            "integers to negative integer powers are not allowed (the result was set to 0)",
        ),
    ];
    let mut op = "cuda";
    let mut msgs = Vec::new();
    for (bit, name, msg) in BITS {
        if word & bit != 0 {
            if msgs.is_empty() {
                op = name;
            }
            msgs.push(format!("{name}: {msg}"));
        }
    }
    Error::Deferred {
        op,
        message: format!(
            "{} (reported at the next synchronize or read)",
            msgs.join("; ")
        ),
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.bind().is_err() {
            return;
        }
        // SAFETY: teardown of handles this driver created; the stream is drained first so
        // nothing still uses them.
        unsafe {
            let _ = cu::stream::synchronize(self.stream);
            let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
            let mut blocks = Vec::new();
            st.pool.flush(|b| blocks.push(b));
            for (b, _) in st.slab.drain(..).flatten() {
                blocks.push(b);
            }
            for b in blocks {
                let _ = cu::free_sync(b.ptr);
            }
            let _ = cu::free_sync(self.err_flag);
            for b in self
                .pinned
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
            {
                let _ = cu::free_host(b.ptr as *mut c_void);
            }
            for e in self
                .events
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .drain(..)
            {
                let _ = cu::event::destroy(e.0);
            }
            if let Some(b) = self.blas.take() {
                drop(b.into_inner().unwrap_or_else(|p| p.into_inner()));
            }
            let k = self.kernels.get_mut().unwrap_or_else(|p| p.into_inner());
            for (_, m) in k.modules.drain() {
                let _ = cu::module::unload(m.0);
            }
            let _ = cu::stream::destroy(self.stream);
            let _ = cu::primary_ctx::release(self.dev);
        }
    }
}

impl CudaDriver {
    /// The device's name, e.g. "NVIDIA H100 80GB HBM3".
    pub fn device_name(&self) -> &str {
        &self.inner.name
    }

    /// The compute capability as `major * 10 + minor` (90 for Hopper).
    pub fn compute_capability(&self) -> u32 {
        self.inner.arch
    }

    /// Compiles every kernel for these dtypes now, in parallel (otherwise each op group is
    /// compiled for a dtype the first time it is used there, about a second each).
    pub fn precompile(&self, dtypes: &[DType]) -> Result<()> {
        self.inner.precompile(dtypes)
    }

    /// True when matmul goes through cuBLAS (libcublas was found).
    pub fn has_cublas(&self) -> bool {
        self.inner.blas.is_some()
    }
}

impl Driver for CudaDriver {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn id(&self) -> DeviceId {
        DeviceId {
            kind: "cuda",
            ordinal: self.inner.ordinal,
        }
    }

    fn alloc(&self, bytes: usize) -> Result<BufId> {
        self.inner.alloc(bytes)
    }

    fn free(&self, buf: BufId) {
        self.inner.free(buf)
    }

    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> Result<()> {
        let inner = &*self.inner;
        inner.bind()?;
        let ptr = {
            let st = lock(&inner.state);
            let (block, _) = st
                .slab
                .get(dst.0 as usize)
                .and_then(|e| e.as_ref())
                .ok_or_else(|| Error::Driver(format!("write: unknown cuda buffer {}", dst.0)))?;
            if offset
                .checked_add(src.len())
                .is_none_or(|e| e > block.bytes)
            {
                return Err(Error::Driver(format!(
                    "write: {} bytes at {offset} exceed a buffer of {} bytes",
                    src.len(),
                    block.bytes
                )));
            }
            block.ptr + offset as u64
        };
        if src.is_empty() {
            return Ok(());
        }
        // SAFETY: the destination range was checked; from pageable memory the call returns
        // once `src` has been staged, so the slice may be dropped afterwards.
        unsafe { cu::memcpy_htod_async(ptr, src, inner.stream) }
            .map_err(|e| driver_err("copying to the device", e))
    }

    fn read(&self, src: &View) -> lantern::driver::ReadFuture {
        match crate::read::start(&self.inner, src) {
            Ok(r) => Box::pin(r),
            Err(e) => Box::pin(core::future::ready(Err(e))),
        }
    }

    fn read_blocking(&self, src: &View) -> Result<Vec<u8>> {
        crate::read::start(&self.inner, src)?.wait()
    }

    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()> {
        self.inner.bind()?;
        crate::ops::exec(&self.inner, op, ins, outs)
    }

    fn fused(&self, op: &FusedOp, ins: &[View], outs: &[View]) -> Option<Result<()>> {
        if let Err(e) = self.inner.bind() {
            return Some(Err(e));
        }
        crate::ops::fused(&self.inner, op, ins, outs)
    }

    fn memory(&self) -> MemoryStats {
        lock(&self.inner.state).pool.stats()
    }

    fn set_memory_limit(&self, bytes: Option<usize>) {
        if self.inner.bind().is_err() {
            return;
        }
        let inner = &*self.inner;
        lock(&inner.state)
            .pool
            .set_limit(bytes, |b| inner.raw_free(b))
    }

    fn empty_cache(&self) {
        if self.inner.bind().is_err() {
            return;
        }
        let inner = &*self.inner;
        lock(&inner.state).pool.flush(|b| inner.raw_free(b))
    }

    fn reset_peak(&self) {
        lock(&self.inner.state).pool.reset_peak()
    }

    fn synchronize(&self) -> Result<()> {
        self.inner.synchronize()
    }
}
