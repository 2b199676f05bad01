//! `lantern-wgpu`: Lantern's WebGPU driver. One codebase runs natively on Vulkan, Metal and
//! DX12 (and on the CPU through Mesa's lavapipe in CI) and in browsers through WebGPU.
//!
//! The driver implements [`lantern::Driver`]: the closed primitive-op table on strided views,
//! with WGSL kernels from [`lantern_kernels::wgsl`] (one module per op group and dtype
//! signature, entry points `{op}_{dtype}`). Broadcast inputs are zero strides, never copies;
//! dispatches queue in one command encoder and are submitted together at the next read,
//! write, `synchronize` or when the batch's parameter buffer fills up.
//!
//! Fused ops with a kernel here (one dispatch each): softmax and log-softmax, Adam and SGD
//! steps (f32), conv2d with its input and weight gradients (implicit GEMM, no column
//! matrix) and max pooling with its gradient (float dtypes); core composes the others.
//!
//! Dtypes: f32, f16 and bf16 (computed in f32, no `shader-f16` needed), i32, i8, u8, bool
//! (one byte, as at every host interface), and int64 stored as 8 bytes but computed in 32
//! bits: a value that does not fit sets the device error flag, reported as
//! [`lantern::Error::Deferred`] by the next read. f64 is [`lantern::Error::Unsupported`].
//!
//! ```no_run
//! use lantern::{DType, Tensor};
//! let gpu = lantern_wgpu::device(&lantern_wgpu::Options::default()).unwrap();
//! let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &gpu);
//! let b = Tensor::ones([2, 2], DType::F32, &gpu);
//! assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![3.0, 3.0, 7.0, 7.0]);
//! ```
#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod exec;
mod read;

use lantern::driver::{BufId, DeviceId, Driver, MemoryStats, ReadFuture, View};
use lantern::mem::Pool;
use lantern::ops::{FusedOp, PrimOp};
#[cfg(not(target_arch = "wasm32"))]
use lantern::Device;
use lantern::{Error, Result};
use lantern_kernels::wgsl::Spec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub use wgpu;

/// Words of the per-batch parameter buffer (256 KiB): a batch holds a thousand dispatches
/// (256-byte parameter blocks) before it is submitted.
const BATCH_WORDS: usize = 64 * 1024;

/// How to pick the adapter.
#[derive(Clone, Debug)]
pub struct Options {
    /// Backends to consider (natively Vulkan, Metal, DX12; in a browser WebGPU).
    pub backends: wgpu::Backends,
    /// Prefer a discrete or an integrated GPU.
    pub power: wgpu::PowerPreference,
    /// Take the first adapter whose name contains this (case-insensitive), e.g. `"llvmpipe"`.
    pub adapter_name: Option<String>,
    /// Ask for a fallback (software) adapter.
    pub force_fallback: bool,
    /// Read an input that shares a buffer with the output (in-place ops) from a copy made
    /// just before the dispatch. WebGPU forbids a buffer bound writable in one binding and
    /// bound again in another of the same dispatch, so this is on in the browser; native
    /// Vulkan, Metal and DX12 allow it and save the copy.
    pub snapshot_aliased_inputs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backends: wgpu::Backends::all(),
            power: wgpu::PowerPreference::HighPerformance,
            adapter_name: None,
            force_fallback: false,
            snapshot_aliased_inputs: cfg!(target_arch = "wasm32"),
        }
    }
}

/// Distinct ordinals for every driver made in this process, so two drivers never compare
/// equal as devices (core would otherwise mix their buffers).
static ORDINAL: AtomicU32 = AtomicU32::new(0);

/// A live buffer: the wgpu buffer and its pool size class.
struct Buf {
    buffer: wgpu::Buffer,
    class: usize,
}

/// Everything behind the driver's lock: buffers, the open encoder and the pipeline caches.
struct State {
    pool: Pool<wgpu::Buffer>,
    slab: Vec<Option<Buf>>,
    free_ids: Vec<u32>,
    encoder: Option<wgpu::CommandEncoder>,
    pass: Option<wgpu::ComputePass<'static>>,
    /// This batch's parameter blocks, written to `params_buf` just before the submit.
    params: Vec<u32>,
    params_buf: wgpu::Buffer,
    modules: HashMap<Spec, wgpu::ShaderModule>,
    pipelines: HashMap<(Spec, &'static str), wgpu::ComputePipeline>,
    layouts: HashMap<(usize, usize, bool), (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    /// Dispatches submitted since the driver started (for tests and benchmarks).
    dispatches: u64,
    submits: u64,
}

/// The WebGPU driver. Make one with [`WgpuDriver::new`] (native) or
/// [`WgpuDriver::new_async`] (browser), or a [`Device`] directly with [`device`].
pub struct WgpuDriver {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    ordinal: u32,
    label: String,
    /// [`Options::snapshot_aliased_inputs`].
    snapshot_aliased: bool,
    /// The device error flag (one word, bits of `lantern_kernels::wgsl::err`).
    err_buf: wgpu::Buffer,
    /// wgpu errors that no error scope caught (validation, device loss), reported deferred.
    uncaptured: Arc<Mutex<Vec<String>>>,
    state: Mutex<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Names of the adapters wgpu finds for these backends (native only), with their backend
/// and device type.
#[cfg(not(target_arch = "wasm32"))]
pub fn adapters(backends: wgpu::Backends) -> Vec<wgpu::AdapterInfo> {
    let instance = instance(backends);
    lantern::block_on(instance.enumerate_adapters(backends))
        .iter()
        .map(|a| a.get_info())
        .collect()
}

fn instance(backends: wgpu::Backends) -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    wgpu::Instance::new(desc)
}

/// A [`Device`] on a new wgpu driver (native; blocks while the adapter opens).
#[cfg(not(target_arch = "wasm32"))]
pub fn device(opts: &Options) -> Result<Device> {
    Ok(Device::new(Arc::new(WgpuDriver::new(opts)?)))
}

fn driver_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Driver(format!("wgpu: {what}: {e}"))
}

impl WgpuDriver {
    /// Opens an adapter and device (native; blocks).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(opts: &Options) -> Result<WgpuDriver> {
        lantern::block_on(Self::new_async(opts))
    }

    /// Opens an adapter and device; in a browser, await this.
    pub async fn new_async(opts: &Options) -> Result<WgpuDriver> {
        let instance = instance(opts.backends);
        let adapter = match &opts.adapter_name {
            #[cfg(not(target_arch = "wasm32"))]
            Some(name) => {
                let want = name.to_lowercase();
                instance
                    .enumerate_adapters(opts.backends)
                    .await
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&want))
                    .ok_or_else(|| Error::Device {
                        op: "wgpu",
                        msg: format!("no wgpu adapter named like {name:?}"),
                    })?
            }
            _ => instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: opts.power,
                    force_fallback_adapter: opts.force_fallback,
                    compatible_surface: None,
                    apply_limit_buckets: false,
                })
                .await
                .map_err(|e| Error::Device {
                    op: "wgpu",
                    msg: format!("no wgpu adapter: {e}"),
                })?,
        };
        let info = adapter.get_info();
        // Ask for everything the adapter offers: large buffers and bindings matter here.
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("lantern"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                memory_hints: wgpu::MemoryHints::Performance,
                ..Default::default()
            })
            .await
            .map_err(|e| driver_err("request_device", e))?;
        let uncaptured: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = uncaptured.clone();
        // The default handler panics; a driver never panics, so keep the message and report
        // it as a deferred error at the next read or synchronize.
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            lock(&sink).push(e.to_string());
        }));
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let err_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lantern error flag"),
            size: 256,
            usage: storage,
            mapped_at_creation: false,
        });
        let params_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lantern params"),
            size: (BATCH_WORDS * 4) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let ordinal = ORDINAL.fetch_add(1, Ordering::Relaxed);
        let label = format!("wgpu:{ordinal}");
        Ok(WgpuDriver {
            state: Mutex::new(State {
                pool: Pool::new(label.clone()),
                slab: Vec::new(),
                free_ids: Vec::new(),
                encoder: None,
                pass: None,
                params: Vec::new(),
                params_buf,
                modules: HashMap::new(),
                pipelines: HashMap::new(),
                layouts: HashMap::new(),
                dispatches: 0,
                submits: 0,
            }),
            device,
            queue,
            info,
            limits,
            ordinal,
            label,
            snapshot_aliased: opts.snapshot_aliased_inputs,
            err_buf,
            uncaptured,
        })
    }

    /// The adapter this driver runs on (name, backend, device type).
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// The device limits in force.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    /// The underlying wgpu device and queue (for interop).
    pub fn wgpu(&self) -> (&wgpu::Device, &wgpu::Queue) {
        (&self.device, &self.queue)
    }

    /// Dispatches and submits so far: `(dispatches, submits)`. Many dispatches share a submit.
    pub fn counters(&self) -> (u64, u64) {
        let st = lock(&self.state);
        (st.dispatches, st.submits)
    }

    /// The largest buffer this device can bind to a kernel, in bytes.
    pub fn max_buffer_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// Ends the open compute pass and submits the encoder with this batch's parameters.
    fn flush(&self, st: &mut State) {
        drop(st.pass.take());
        if let Some(enc) = st.encoder.take() {
            if !st.params.is_empty() {
                self.queue
                    .write_buffer(&st.params_buf, 0, words_as_bytes(&st.params));
                st.params.clear();
            }
            self.queue.submit([enc.finish()]);
            st.submits += 1;
        }
    }

    /// The open encoder (ending any compute pass, for copies).
    fn encoder<'s>(&self, st: &'s mut State) -> &'s mut wgpu::CommandEncoder {
        drop(st.pass.take());
        st.encoder.get_or_insert_with(|| {
            self.device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None })
        })
    }

    /// The wgpu buffer behind a `BufId`, and its size in bytes.
    fn buffer(&self, st: &State, op: &'static str, id: BufId) -> Result<(wgpu::Buffer, u64)> {
        let b = usize::try_from(id.0)
            .ok()
            .and_then(|i| st.slab.get(i))
            .and_then(|b| b.as_ref())
            .ok_or_else(|| {
                Error::Driver(format!("{op}: unknown {} buffer {}", self.label, id.0))
            })?;
        Ok((b.buffer.clone(), b.buffer.size()))
    }

    fn raw_alloc(&self, class: usize) -> Option<wgpu::Buffer> {
        let size = (class as u64).min(self.max_buffer_bytes()) / 4 * 4;
        #[cfg(not(target_arch = "wasm32"))]
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        // Natively the scope resolves at once: an allocation the device refuses becomes
        // `None`, so the pool flushes its cache and retries, then reports OutOfMemory.
        #[cfg(not(target_arch = "wasm32"))]
        if lantern::block_on(scope.pop()).is_some() {
            return None;
        }
        Some(buffer)
    }

    /// Takes the uncaptured wgpu errors as one deferred error.
    #[cfg(target_arch = "wasm32")]
    fn take_uncaptured(&self) -> Result<()> {
        let mut u = lock(&self.uncaptured);
        if u.is_empty() {
            return Ok(());
        }
        let message = u.join("; ");
        u.clear();
        Err(Error::Deferred {
            op: "wgpu",
            message,
        })
    }
}

/// Little-endian bytes of a word slice.
fn words_as_bytes(w: &[u32]) -> &[u8] {
    // SAFETY: u32 has no padding and any byte pattern is a valid u8; the length is exact
    // and the alignment of u8 is 1.
    unsafe { std::slice::from_raw_parts(w.as_ptr().cast::<u8>(), std::mem::size_of_val(w)) }
}

impl Driver for WgpuDriver {
    fn name(&self) -> &'static str {
        "wgpu"
    }

    fn id(&self) -> DeviceId {
        DeviceId {
            kind: "wgpu",
            ordinal: self.ordinal,
        }
    }

    fn alloc(&self, bytes: usize) -> Result<BufId> {
        let max = self.max_buffer_bytes();
        if bytes as u64 > max {
            let st = lock(&self.state);
            return Err(Error::OutOfMemory {
                device: format!(
                    "{} (the largest buffer a kernel can bind here is {max} bytes)",
                    self.label
                ),
                requested: bytes,
                in_use: st.pool.stats().in_use,
                limit: st.pool.stats().limit,
            });
        }
        let mut st = lock(&self.state);
        let (buffer, class) = st.pool.acquire(bytes, |c| self.raw_alloc(c), drop)?;
        let b = Buf { buffer, class };
        let id = match st.free_ids.pop() {
            Some(i) => {
                st.slab[i as usize] = Some(b);
                i
            }
            None => {
                st.slab.push(Some(b));
                (st.slab.len() - 1) as u32
            }
        };
        Ok(BufId(id as u64))
    }

    fn free(&self, buf: BufId) {
        // Safe to reuse at once: later work on a reused buffer is encoded after the work
        // already queued on it, and `write` flushes queued work before it writes.
        let mut st = lock(&self.state);
        let taken = usize::try_from(buf.0)
            .ok()
            .and_then(|i| st.slab.get_mut(i))
            .and_then(|b| b.take());
        if let Some(b) = taken {
            st.pool.release(b.buffer, b.class);
            st.free_ids.push(buf.0 as u32);
        }
    }

    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> Result<()> {
        let mut st = lock(&self.state);
        let (buffer, size) = self.buffer(&st, "write", dst)?;
        let end = offset.checked_add(src.len());
        if end.is_none_or(|e| e as u64 > size) {
            return Err(Error::Driver(format!(
                "write: {} bytes at {offset} exceed a buffer of {size} bytes",
                src.len()
            )));
        }
        if src.is_empty() {
            return Ok(());
        }
        // `queue.write_buffer` lands before everything encoded but not yet submitted, so
        // queued work that reads this buffer must be submitted first.
        self.flush(&mut st);
        if offset.is_multiple_of(4) && src.len().is_multiple_of(4) {
            self.queue.write_buffer(&buffer, offset as u64, src);
            return Ok(());
        }
        // Unaligned: stage the bytes, then a byte-granular copy kernel puts them in place
        // (under the same lock: no other thread may queue work between flush and write).
        self.write_unaligned(&mut st, buffer, offset, src)
    }

    fn read(&self, src: &View) -> ReadFuture {
        match self.start_read(src) {
            Ok(p) => Box::pin(p),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }

    fn read_blocking(&self, src: &View) -> Result<Vec<u8>> {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = src;
            Err(Error::WouldBlock { op: "read" })
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let p = self.start_read(src)?;
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| driver_err("poll", e))?;
            lantern::block_on(p)
        }
    }

    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()> {
        let mut st = lock(&self.state);
        self.exec_locked(&mut st, op, ins, outs)
    }

    fn fused(&self, op: &FusedOp, ins: &[View], outs: &[View]) -> Option<Result<()>> {
        let mut st = lock(&self.state);
        self.fused_locked(&mut st, op, ins, outs)
    }

    fn memory(&self) -> MemoryStats {
        lock(&self.state).pool.stats()
    }

    fn set_memory_limit(&self, bytes: Option<usize>) {
        lock(&self.state).pool.set_limit(bytes, drop)
    }

    fn empty_cache(&self) {
        lock(&self.state).pool.flush(drop)
    }

    fn reset_peak(&self) {
        lock(&self.state).pool.reset_peak()
    }

    fn synchronize(&self) -> Result<()> {
        #[cfg(target_arch = "wasm32")]
        {
            // The browser cannot block: submit, and report what is already known.
            let mut st = lock(&self.state);
            self.flush(&mut st);
            drop(st);
            self.take_uncaptured()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let p = self.start_read_flag()?;
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| driver_err("poll", e))?;
            lantern::block_on(p).map(|_| ())
        }
    }
}
