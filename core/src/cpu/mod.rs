//! The CPU driver: portable kernels under no_std; rayon threads and the `gemm` crate with `std`.

#[cfg(feature = "compact")]
mod compact;
mod conv;
mod elem;
mod elementwise;
mod index;
mod matmul;
mod norm;
mod optim;
mod reduce;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod sgemm_avx2;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;
mod softmax;
pub(crate) mod walk;

use crate::driver::{BufId, DeviceId, Driver, MemoryStats, ReadFuture, View};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::mem::Pool;
use crate::ops::{FusedOp, PrimOp};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ptr::NonNull;
use smallvec::SmallVec;
use walk::Ptr;

const ALIGN: usize = 64;

/// A host block: 64-byte aligned for SIMD loads.
struct Block {
    ptr: NonNull<u8>,
    bytes: usize,
}
// SAFETY: a Block is plain memory owned by the driver; access is synchronised by the
// driver's lock (bookkeeping) and by stream order (contents).
unsafe impl Send for Block {}

fn raw_alloc(bytes: usize) -> Option<Block> {
    let layout = core::alloc::Layout::from_size_align(bytes.max(1), ALIGN).ok()?;
    // SAFETY: the layout has non-zero size.
    let p = unsafe { alloc::alloc::alloc(layout) };
    NonNull::new(p).map(|ptr| Block { ptr, bytes })
}

fn raw_free(b: Block) {
    // SAFETY: the block came from `raw_alloc` with this size and alignment.
    unsafe {
        alloc::alloc::dealloc(
            b.ptr.as_ptr(),
            core::alloc::Layout::from_size_align_unchecked(b.bytes.max(1), ALIGN),
        )
    }
}

struct State {
    pool: Pool<Block>,
    /// Live buffers by `BufId`: (block, size class).
    slab: Vec<Option<(Block, usize)>>,
    free_ids: Vec<u32>,
}

/// The CPU driver. Use [`crate::Device::cpu`] for the shared instance.
pub struct CpuDriver {
    state: spin::Mutex<State>,
    /// 0 for the shared `Device::cpu()`, unique for every other instance: `BufId`s are
    /// per instance, so two instances must not compare equal as devices.
    ordinal: u32,
}

/// The next ordinal for `CpuDriver::new` (0 is the shared device's).
static NEXT_ORDINAL: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);

/// A view resolved to a host pointer, as the kernels take it.
pub(crate) struct Arg<'a> {
    pub ptr: Ptr<u8>,
    pub layout: &'a Layout,
    pub dtype: DType,
}

impl Default for CpuDriver {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuDriver {
    /// A new CPU driver with its own pool and its own [`DeviceId`] ordinal.
    pub fn new() -> CpuDriver {
        let ordinal = NEXT_ORDINAL.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        CpuDriver::with_ordinal(ordinal)
    }

    fn with_ordinal(ordinal: u32) -> CpuDriver {
        CpuDriver {
            ordinal,
            state: spin::Mutex::new(State {
                pool: Pool::new("cpu"),
                slab: Vec::new(),
                free_ids: Vec::new(),
            }),
        }
    }

    /// Resolves views to pointers under one lock, checking each lies inside its buffer.
    fn resolve<'a>(
        &self,
        op: &'static str,
        views: &'a [View],
        out: &mut [Option<Arg<'a>>],
    ) -> Result<()> {
        let st = self.state.lock();
        for (v, slot) in views.iter().zip(out.iter_mut()) {
            let (block, _) = st
                .slab
                .get(v.buf.0 as usize)
                .and_then(|e| e.as_ref())
                .ok_or_else(|| {
                    Error::Driver(alloc::format!("{op}: unknown cpu buffer {}", v.buf.0))
                })?;
            // An empty view touches nothing, wherever its offset points (narrowing at the
            // end of several dims moves it past the buffer).
            let end = if v.layout.numel() == 0 {
                Some(0)
            } else {
                v.layout.span_end().checked_mul(v.dtype.size())
            };
            if end.is_none_or(|e| e > block.bytes) {
                return Err(Error::Driver(alloc::format!(
                    "{op}: view {:?} of {} exceeds its buffer of {} bytes",
                    v.layout,
                    v.dtype,
                    block.bytes
                )));
            }
            *slot = Some(Arg {
                ptr: Ptr(block.ptr.as_ptr()),
                layout: &v.layout,
                dtype: v.dtype,
            });
        }
        Ok(())
    }

    fn read_now(&self, src: &View) -> Result<Vec<u8>> {
        let mut slot = [None];
        self.resolve("read", core::slice::from_ref(src), &mut slot)?;
        let x = slot[0].take().expect("internal: resolved");
        let n = src.layout.numel();
        let es = src.dtype.size();
        let bytes = n
            .checked_mul(es)
            .ok_or_else(|| Error::Driver(alloc::string::String::from("read: size overflow")))?;
        let mut out: Vec<u8> = Vec::new();
        out.try_reserve_exact(bytes)
            .map_err(|_| Error::OutOfMemory {
                device: alloc::string::String::from("cpu (host readback)"),
                requested: bytes,
                in_use: self.memory().in_use,
                limit: None,
            })?;
        out.resize(bytes, 0);
        let dst_layout = Layout::contiguous(src.layout.shape.clone());
        let y = Arg {
            ptr: Ptr(out.as_mut_ptr()),
            layout: &dst_layout,
            dtype: src.dtype,
        };
        elementwise::copy(&x, &y);
        Ok(out)
    }
}

impl Driver for CpuDriver {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn id(&self) -> DeviceId {
        DeviceId {
            kind: "cpu",
            ordinal: self.ordinal,
        }
    }

    fn alloc(&self, bytes: usize) -> Result<BufId> {
        let mut st = self.state.lock();
        let (block, class) = st.pool.acquire(bytes, raw_alloc, raw_free)?;
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

    fn free(&self, buf: BufId) {
        let mut st = self.state.lock();
        if let Some((block, class)) = st.slab.get_mut(buf.0 as usize).and_then(|e| e.take()) {
            st.pool.release(block, class);
            st.free_ids.push(buf.0 as u32);
        }
    }

    fn write(&self, dst: BufId, offset: usize, src: &[u8]) -> Result<()> {
        let st = self.state.lock();
        let (block, _) = st
            .slab
            .get(dst.0 as usize)
            .and_then(|e| e.as_ref())
            .ok_or_else(|| Error::Driver(alloc::format!("write: unknown cpu buffer {}", dst.0)))?;
        if offset
            .checked_add(src.len())
            .is_none_or(|e| e > block.bytes)
        {
            return Err(Error::Driver(alloc::format!(
                "write: {} bytes at {offset} exceed a buffer of {} bytes",
                src.len(),
                block.bytes
            )));
        }
        // SAFETY: the range was checked to lie inside the block; src is a separate host slice.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), block.ptr.as_ptr().add(offset), src.len())
        };
        Ok(())
    }

    fn read(&self, src: &View) -> ReadFuture {
        let r = self.read_now(src);
        Box::pin(core::future::ready(r))
    }

    fn read_blocking(&self, src: &View) -> Result<Vec<u8>> {
        self.read_now(src)
    }

    fn exec(&self, op: &PrimOp, ins: &[View], outs: &[View]) -> Result<()> {
        let name = op.name();
        let mut a: [Option<Arg>; 4] = [None, None, None, None];
        let mut o: [Option<Arg>; 1] = [None];
        if ins.len() > 4 || outs.len() != 1 {
            return Err(Error::Driver(alloc::format!(
                "{name}: the cpu driver takes at most 4 inputs and 1 output, got {} and {}",
                ins.len(),
                outs.len()
            )));
        }
        crate::driver::check_views(op, ins, &outs[0])?;
        self.resolve(name, ins, &mut a)?;
        self.resolve(name, outs, &mut o)?;
        let arity = |n: usize| {
            if ins.len() == n {
                Ok(())
            } else {
                Err(Error::Driver(alloc::format!(
                    "{name}: expected {n} inputs, got {}",
                    ins.len()
                )))
            }
        };
        let y = o[0].as_ref().expect("internal: resolved");
        let x = |i: usize| a[i].as_ref().expect("internal: resolved");
        match op {
            PrimOp::Copy => {
                arity(1)?;
                elementwise::copy(x(0), y);
            }
            PrimOp::Cast => {
                arity(1)?;
                elementwise::cast(x(0), y);
            }
            PrimOp::Fill(v) => {
                arity(0)?;
                elementwise::fill(y, *v);
            }
            PrimOp::Iota { start, step } => {
                arity(0)?;
                elementwise::iota(y, *start, *step);
            }
            PrimOp::Unary(u) => {
                arity(1)?;
                elementwise::unary(*u, x(0), y)?;
            }
            PrimOp::Binary(b) => {
                arity(2)?;
                elementwise::binary(*b, x(0), x(1), y)?;
            }
            PrimOp::Where => {
                arity(3)?;
                elementwise::where_(x(0), x(1), x(2), y);
            }
            PrimOp::Reduce { op, axes } => {
                arity(1)?;
                reduce::reduce(*op, axes, x(0), y)?;
            }
            PrimOp::Matmul { alpha, beta } => {
                arity(2)?;
                matmul::matmul(x(0), x(1), y, *alpha, *beta)?;
            }
            PrimOp::Gather { dim } => {
                arity(2)?;
                index::gather(*dim, x(0), x(1), y)?;
            }
            PrimOp::IndexSelect { dim } => {
                arity(2)?;
                index::index_select(*dim, x(0), x(1), y)?;
            }
            PrimOp::ScatterAdd { dim } => {
                arity(2)?;
                index::scatter_add(*dim, x(0), x(1), y)?;
            }
            PrimOp::Scan { op, dim } => {
                arity(1)?;
                reduce::scan(*op, *dim, x(0), y)?;
            }
            PrimOp::Random { dist, seed, offset } => {
                arity(0)?;
                elementwise::random(y, *dist, *seed, *offset)?;
            }
        }
        Ok(())
    }

    fn fused(&self, op: &FusedOp, ins: &[View], outs: &[View]) -> Option<Result<()>> {
        let optim = crate::ops::optim_step_views(op, ins, outs, &[DType::F32, DType::F64]);
        if let Some((name, g, outs)) = optim {
            let mut a: [Option<Arg>; 1] = [None];
            let mut o: [Option<Arg>; 3] = [None, None, None];
            if let Err(e) = self
                .resolve(name, core::slice::from_ref(g), &mut a)
                .and_then(|_| self.resolve(name, outs, &mut o))
            {
                return Some(Err(e));
            }
            let o: Vec<&Arg> = o.iter().flatten().collect();
            return optim::step(op, a[0].as_ref()?, &o);
        }
        if let Some(v) = crate::ops::layer_norm_views(op, ins, outs, &[DType::F32, DType::F64]) {
            let mut a: [Option<Arg>; 3] = [None, None, None];
            let mut o: [Option<Arg>; 3] = [None, None, None];
            if let Err(e) = self
                .resolve("layer_norm", ins, &mut a)
                .and_then(|_| self.resolve("layer_norm", outs, &mut o))
            {
                return Some(Err(e));
            }
            let args = norm::LayerNormArgs {
                x: a[0].as_ref()?,
                weight: a[1].as_ref(),
                bias: a[2].as_ref(),
                y: o[0].as_ref()?,
                mean: o[1].as_ref()?,
                rstd: o[2].as_ref()?,
                rows: v.rows,
                cols: v.cols,
                eps: v.eps,
            };
            return norm::layer_norm(&args).map(Ok);
        }
        if let Some(v) = crate::ops::layer_norm_grad_views(op, ins, outs, &[DType::F32, DType::F64])
        {
            let mut a: [Option<Arg>; 5] = [None, None, None, None, None];
            let mut o: [Option<Arg>; 3] = [None, None, None];
            if let Err(e) = self
                .resolve("layer_norm_backward", ins, &mut a)
                .and_then(|_| self.resolve("layer_norm_backward", outs, &mut o))
            {
                return Some(Err(e));
            }
            let args = norm::LayerNormGradArgs {
                gy: a[0].as_ref()?,
                x: a[1].as_ref()?,
                mean: a[2].as_ref()?,
                rstd: a[3].as_ref()?,
                weight: a[4].as_ref(),
                gx: o[0].as_ref()?,
                gw_gb: o[1].as_ref().zip(o[2].as_ref()),
                rows: v.rows,
                cols: v.cols,
            };
            return norm::layer_norm_grad(&args).map(Ok);
        }
        let name = match op {
            // One pass instead of a scalar fill and a broadcast maximum; f32 only (the dtype
            // models train in), others take the default.
            FusedOp::Relu => {
                let ([x], [y]) = (ins, outs) else {
                    return None;
                };
                if x.dtype != DType::F32
                    || y.dtype != DType::F32
                    || x.layout.shape != y.layout.shape
                {
                    return None;
                }
                let (mut a, mut o) = ([None], [None]);
                if let Err(e) = self
                    .resolve("relu", ins, &mut a)
                    .and_then(|_| self.resolve("relu", outs, &mut o))
                {
                    return Some(Err(e));
                }
                elementwise::relu_f32(a[0].as_ref()?, o[0].as_ref()?);
                return Some(Ok(()));
            }
            FusedOp::Softmax | FusedOp::LogSoftmax => {
                if ins.len() != 1 || outs.len() != 1 {
                    return None;
                }
                let (mut a, mut o) = ([None], [None]);
                if let Err(e) = self
                    .resolve("softmax", ins, &mut a)
                    .and_then(|_| self.resolve("softmax", outs, &mut o))
                {
                    return Some(Err(e));
                }
                let (x, y) = (a[0].as_ref()?, o[0].as_ref()?);
                return softmax::softmax(x, y, *op == FusedOp::LogSoftmax).map(Ok);
            }
            FusedOp::Conv2d { .. } => "conv2d",
            FusedOp::Conv2dInputGrad { .. } => "conv2d_input_grad",
            FusedOp::Conv2dWeightGrad { .. } => "conv2d_weight_grad",
            FusedOp::MaxPool2d { .. } => "max_pool2d",
            FusedOp::MaxPool2dGrad => "max_pool2d_backward",
            _ => return None,
        };
        if ins.is_empty() || ins.len() > 3 || outs.is_empty() || outs.len() > 2 {
            return None;
        }
        let mut a: [Option<Arg>; 3] = [None, None, None];
        let mut o: [Option<Arg>; 2] = [None, None];
        if let Err(e) = self
            .resolve(name, ins, &mut a)
            .and_then(|_| self.resolve(name, outs, &mut o))
        {
            return Some(Err(e));
        }
        let a: SmallVec<[&Arg; 3]> = a.iter().flatten().collect();
        let o: SmallVec<[&Arg; 2]> = o.iter().flatten().collect();
        // Scratch comes from the pool (no page faults of a fresh mmap per call) and returns
        // to it when the op is done.
        let mut taken: SmallVec<[BufId; 1]> = SmallVec::new();
        let r = conv::fused(op, &a, &o, &mut |bytes| {
            let id = self.alloc(bytes)?;
            taken.push(id);
            let st = self.state.lock();
            let (block, _) = st
                .slab
                .get(id.0 as usize)
                .and_then(|e| e.as_ref())
                .expect("internal: just allocated");
            Ok(Ptr(block.ptr.as_ptr()))
        });
        for id in taken {
            self.free(id);
        }
        r
    }

    fn memory(&self) -> MemoryStats {
        self.state.lock().pool.stats()
    }

    fn set_memory_limit(&self, bytes: Option<usize>) {
        self.state.lock().pool.set_limit(bytes, raw_free)
    }

    fn empty_cache(&self) {
        self.state.lock().pool.flush(raw_free)
    }

    fn reset_peak(&self) {
        self.state.lock().pool.reset_peak()
    }

    fn synchronize(&self) -> Result<()> {
        Ok(())
    }
}

// The driver, not the `Device`: a `Device` is not `Sync` on wasm32, the driver is.
static CPU: spin::Once<Arc<CpuDriver>> = spin::Once::new();

/// The shared CPU device.
pub(crate) fn cpu_device() -> crate::Device {
    crate::Device::new(
        CPU.call_once(|| Arc::new(CpuDriver::with_ordinal(0)))
            .clone(),
    )
}
