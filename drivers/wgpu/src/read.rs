//! Readback (`map_async` behind a `'static` future), the device error flag, and unaligned
//! writes.

use crate::exec::Arg;
use crate::{driver_err, lock, WgpuDriver};
use lantern::driver::View;
use lantern::{Error, Layout, Result, Shape};
use lantern_kernels::wgsl::{err, Elem};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct MapState {
    done: Option<std::result::Result<(), wgpu::BufferAsyncError>>,
    waker: Option<Waker>,
}

/// A readback in flight: the staging buffer holds the view's bytes (padded to a word) and
/// then the device error flag.
pub(crate) struct Pending {
    ready: Option<Result<Vec<u8>>>,
    inflight: Option<Inflight>,
}

struct Inflight {
    staging: wgpu::Buffer,
    nbytes: usize,
    padded: usize,
    shared: Arc<Mutex<MapState>>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    err_buf: wgpu::Buffer,
    uncaptured: Arc<Mutex<Vec<String>>>,
}

/// The deferred error for bits of the device error flag.
pub(crate) fn flag_error(flag: u32) -> Error {
    let (op, message) = if flag & err::INDEX != 0 {
        let op = if flag & err::GATHER != 0 {
            "gather"
        } else if flag & err::INDEX_SELECT != 0 {
            "index_select"
        } else if flag & err::SCATTER_ADD != 0 {
            "scatter_add"
        } else {
            "index"
        };
        (op, "an index is out of bounds for its dimension")
    } else if flag & err::DIV_ZERO != 0 {
        ("div", "integer division by zero")
    } else if flag & err::NEG_POW != 0 {
        ("pow", "integers to negative integer powers are not allowed")
    } else {
        (
            "int64",
            "an int64 value does not fit in 32 bits (the wgpu driver computes int64 in 32 bits)",
        )
    };
    Error::Deferred {
        op,
        message: message.to_string(),
    }
}

impl Inflight {
    fn finish(self, done: std::result::Result<(), wgpu::BufferAsyncError>) -> Result<Vec<u8>> {
        done.map_err(|e| driver_err("map_async", e))?;
        let (bytes, flag) = {
            let view = self
                .staging
                .get_mapped_range(..)
                .map_err(|e| driver_err("get_mapped_range", e))?;
            let mut out = Vec::new();
            out.try_reserve_exact(self.nbytes)
                .map_err(|_| Error::OutOfMemory {
                    device: "host (readback)".to_string(),
                    requested: self.nbytes,
                    in_use: 0,
                    limit: None,
                })?;
            out.extend_from_slice(&view[..self.nbytes]);
            let f = &view[self.padded..self.padded + 4];
            (out, u32::from_le_bytes([f[0], f[1], f[2], f[3]]))
        };
        self.staging.unmap();
        {
            let mut u = lock(&self.uncaptured);
            if !u.is_empty() {
                let message = u.join("; ");
                u.clear();
                return Err(Error::Deferred {
                    op: "wgpu",
                    message,
                });
            }
        }
        if flag != 0 {
            // Cleared before any work queued after this read (write_buffer lands first).
            self.queue.write_buffer(&self.err_buf, 0, &[0u8; 4]);
            return Err(flag_error(flag));
        }
        Ok(bytes)
    }
}

impl Future for Pending {
    type Output = Result<Vec<u8>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(r) = self.ready.take() {
            return Poll::Ready(r);
        }
        let Some(inf) = self.inflight.as_ref() else {
            return Poll::Ready(Err(Error::Driver(
                "read: future polled after completion".to_string(),
            )));
        };
        let done = {
            let mut s = lock(&inf.shared);
            if s.done.is_none() {
                s.waker = Some(cx.waker().clone());
            }
            s.done.take()
        };
        let done = match done {
            Some(d) => Some(d),
            None => {
                // Natively nothing else drives the device: poll it here. In a browser the
                // event loop runs the map callback, which wakes this task.
                #[cfg(not(target_arch = "wasm32"))]
                {
                    let _ = inf.device.poll(wgpu::PollType::Poll);
                    let d = lock(&inf.shared).done.take();
                    if d.is_none() {
                        cx.waker().wake_by_ref();
                    }
                    d
                }
                #[cfg(target_arch = "wasm32")]
                {
                    let _ = &inf.device;
                    None
                }
            }
        };
        match done {
            Some(d) => {
                let inf = self.inflight.take().expect("internal: checked above");
                Poll::Ready(inf.finish(d))
            }
            None => Poll::Pending,
        }
    }
}

fn round4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

impl WgpuDriver {
    /// Enqueues the copy of a view (made dense first if it is strided or unaligned) and the
    /// error flag into a mappable buffer, submits, and starts the map.
    pub(crate) fn start_read(&self, src: &View) -> Result<Pending> {
        let mut st = lock(&self.state);
        let (buffer, size) = self.buffer(&st, "read", src.buf)?;
        let es = src.dtype.size();
        let nbytes = src
            .layout
            .numel()
            .checked_mul(es)
            .ok_or_else(|| Error::Driver("read: size overflow".to_string()))?;
        if nbytes == 0 {
            // Nothing to read: an empty view's offset may lie past its buffer's end.
            return Ok(Pending {
                ready: Some(Ok(Vec::new())),
                inflight: None,
            });
        }
        let span = src.layout.span_end().checked_mul(es);
        if span.is_none_or(|e| e as u64 > size) {
            return Err(Error::Driver(format!(
                "read: view {:?} of {} exceeds its buffer of {size} bytes",
                src.layout, src.dtype
            )));
        }
        let byte_off = src.layout.offset * es;
        let mut tmp = None;
        let (from, off) = if src.layout.is_contiguous() && byte_off.is_multiple_of(4) {
            (buffer, byte_off as u64)
        } else {
            let elem = crate::exec::elem("read", src.dtype, &self.label)?;
            let (t, class) = st.pool.acquire(nbytes, |c| self.raw_alloc(c), drop)?;
            let x = Arg {
                buffer,
                layout: src.layout.clone(),
                elem,
            };
            let y = Arg {
                buffer: t.clone(),
                layout: Layout::contiguous(src.layout.shape.clone()),
                elem,
            };
            let r = self.copy(&mut st, &x, &y);
            tmp = Some((t.clone(), class));
            if let Err(e) = r {
                st.pool.release(t, class);
                return Err(e);
            }
            (t, 0)
        };
        let padded = round4(nbytes);
        let p = self.finish_read(&mut st, Some((&from, off)), nbytes, padded);
        if let Some((t, class)) = tmp {
            // Work already encoded on it runs before anything that reuses it.
            st.pool.release(t, class);
        }
        Ok(p)
    }

    /// Starts a readback of the error flag alone (`synchronize`).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn start_read_flag(&self) -> Result<Pending> {
        let mut st = lock(&self.state);
        Ok(self.finish_read(&mut st, None, 0, 0))
    }

    fn finish_read(
        &self,
        st: &mut crate::State,
        data: Option<(&wgpu::Buffer, u64)>,
        nbytes: usize,
        padded: usize,
    ) -> Pending {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("lantern readback"),
            size: (padded + 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let enc = self.encoder(st);
        if let Some((from, off)) = data {
            enc.copy_buffer_to_buffer(from, off, &staging, 0, padded as u64);
        }
        enc.copy_buffer_to_buffer(&self.err_buf, 0, &staging, padded as u64, 4);
        self.flush(st);
        let shared: Arc<Mutex<MapState>> = Arc::default();
        let cb = shared.clone();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let mut s = lock(&cb);
            s.done = Some(r);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        });
        Pending {
            ready: None,
            inflight: Some(Inflight {
                staging,
                nbytes,
                padded,
                shared,
                device: self.device.clone(),
                queue: self.queue.clone(),
                err_buf: self.err_buf.clone(),
                uncaptured: self.uncaptured.clone(),
            }),
        }
    }

    /// A write whose offset or length is not a multiple of 4 (wgpu copies whole words):
    /// stage the bytes in a scratch buffer and let the byte copy kernel place them.
    pub(crate) fn write_unaligned(
        &self,
        st: &mut crate::State,
        buffer: wgpu::Buffer,
        offset: usize,
        src: &[u8],
    ) -> Result<()> {
        let (scratch, class) = st.pool.acquire(src.len(), |c| self.raw_alloc(c), drop)?;
        let mut padded = src.to_vec();
        padded.resize(round4(src.len()), 0);
        // The encoder is empty (write flushed it under this lock), so this lands before the
        // copy below and after all work queued on the recycled scratch buffer.
        self.queue.write_buffer(&scratch, 0, &padded);
        let x = Arg {
            buffer: scratch.clone(),
            layout: Layout::contiguous(Shape::new(&[src.len()])),
            elem: Elem::U8,
        };
        let mut layout = Layout::contiguous(Shape::new(&[src.len()]));
        layout.offset = offset;
        let y = Arg {
            buffer,
            layout,
            elem: Elem::U8,
        };
        let r = self.copy(st, &x, &y);
        st.pool.release(scratch, class);
        r
    }
}
