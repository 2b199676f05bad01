//! Readback. `read` queues the copy (a strided view is first packed by a copy kernel into
//! a dense temporary) and the device error flag into page-locked staging memory, records an
//! event and returns a future that completes when the event has fired. The future owns
//! everything it needs, so it may be awaited later, from any executor.

use crate::device::{driver_err, Event, Inner, Pinned};
use cudarc::driver::result as cu;
use cudarc::driver::sys;
use lantern::{Error, Layout, Result, View};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Reads larger than this skip staging: the copy goes straight into the result (blocking).
pub(crate) const STAGING_MAX: usize = 64 << 20;

pub(crate) struct Readback {
    inner: Arc<Inner>,
    /// Present while a staged copy is in flight.
    staged: Option<(Pinned, Event)>,
    bytes: usize,
    /// A result already known (empty views, large blocking reads).
    done: Option<Result<Vec<u8>>>,
}

pub(crate) fn start(inner: &Arc<Inner>, src: &View) -> Result<Readback> {
    inner.bind()?;
    let es = src.dtype.size();
    let n = src.layout.numel();
    let bytes = n
        .checked_mul(es)
        .ok_or_else(|| Error::Driver(String::from("read: size overflow")))?;
    let ready = |r: Result<Vec<u8>>| Readback {
        inner: inner.clone(),
        staged: None,
        bytes,
        done: Some(r),
    };
    if n == 0 {
        let [_] = inner.resolve("read", [src])?;
        return Ok(ready(Ok(Vec::new())));
    }
    // A dense source: the view itself, or a packed temporary.
    let (addr, tmp) = if src.layout.is_contiguous() {
        let [a] = inner.resolve("read", [src])?;
        (a, None)
    } else {
        let buf = inner.alloc(bytes)?;
        let dst = View {
            buf,
            layout: Layout::contiguous(src.layout.shape.clone()),
            dtype: src.dtype,
        };
        let r = crate::ops::exec(
            inner,
            &lantern::ops::PrimOp::Copy,
            core::slice::from_ref(src),
            core::slice::from_ref(&dst),
        )
        .and_then(|_| inner.resolve("read", [&dst]));
        match r {
            Ok([a]) => (a, Some(buf)),
            Err(e) => {
                inner.free(buf);
                return Err(e);
            }
        }
    };
    let out = if bytes > STAGING_MAX {
        Some(read_large(inner, addr, bytes))
    } else {
        None
    };
    let staged = match out {
        Some(_) => None,
        None => Some(stage(inner, addr, bytes)),
    };
    // The temporary returns to the pool now: later work that reuses it is queued after
    // the copy out of it.
    if let Some(b) = tmp {
        inner.free(b);
    }
    match (out, staged) {
        (Some(r), _) => Ok(ready(r)),
        (None, Some(Ok(s))) => Ok(Readback {
            inner: inner.clone(),
            staged: Some(s),
            bytes,
            done: None,
        }),
        (None, Some(Err(e))) => Err(e),
        (None, None) => Err(Error::Driver(String::from("internal: read without a path"))),
    }
}

/// Queues data + error flag into staging memory and records an event after them.
fn stage(inner: &Inner, addr: u64, bytes: usize) -> Result<(Pinned, Event)> {
    let flag_at = bytes.next_multiple_of(8);
    let pinned = inner.take_pinned(flag_at + 8)?;
    let ev = match inner.take_event() {
        Ok(e) => e,
        Err(e) => {
            inner.put_pinned(pinned);
            return Err(e);
        }
    };
    // SAFETY: the staging buffer holds flag_at + 8 bytes and stays untouched until the
    // event fires; the source range was checked by `resolve`.
    let r = unsafe {
        let data = std::slice::from_raw_parts_mut(pinned.ptr, bytes);
        let flag = std::slice::from_raw_parts_mut(pinned.ptr.add(flag_at), 4);
        cu::memcpy_dtoh_async(data, addr, inner.stream)
            .and_then(|_| cu::memcpy_dtoh_async(flag, inner.err_flag, inner.stream))
            .and_then(|_| cu::event::record(ev.0, inner.stream))
    };
    match r {
        Ok(()) => Ok((pinned, ev)),
        Err(e) => {
            // Nothing may still write into it: wait before reuse.
            // SAFETY: the stream belongs to this driver.
            let _ = unsafe { cu::stream::synchronize(inner.stream) };
            inner.put_pinned(pinned);
            inner.put_event(ev);
            Err(driver_err("queuing a readback", e))
        }
    }
}

/// A large read: straight into the result, then the flag; blocks until done.
fn read_large(inner: &Inner, addr: u64, bytes: usize) -> Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(bytes)
        .map_err(|_| Error::OutOfMemory {
            device: String::from("host (cuda readback)"),
            requested: bytes,
            in_use: 0,
            limit: None,
        })?;
    out.resize(bytes, 0);
    let mut word = [0u32];
    // SAFETY: `out` has `bytes` bytes; the synchronous copies complete before returning.
    unsafe {
        cu::memcpy_dtoh_async(&mut out[..], addr, inner.stream)
            .and_then(|_| cu::memcpy_dtoh_async(&mut word, inner.err_flag, inner.stream))
            .and_then(|_| cu::stream::synchronize(inner.stream))
    }
    .map_err(|e| deferred("read", e))?;
    inner.deferred(word[0])?;
    Ok(out)
}

fn deferred(op: &'static str, e: cudarc::driver::DriverError) -> Error {
    Error::Deferred {
        op,
        message: format!("a queued CUDA operation failed: {e}"),
    }
}

impl Readback {
    /// Copies the staged bytes out once the event has fired and checks the flag.
    fn finish(&mut self) -> Result<Vec<u8>> {
        let (pinned, ev) = self.staged.take().expect("internal: finish once");
        let flag_at = self.bytes.next_multiple_of(8);
        let mut out: Vec<u8> = Vec::new();
        let r = out.try_reserve_exact(self.bytes);
        // SAFETY: the event fired, so the staged copies are complete.
        let word = unsafe {
            if r.is_ok() {
                out.extend_from_slice(std::slice::from_raw_parts(pinned.ptr, self.bytes));
            }
            std::ptr::read_unaligned(pinned.ptr.add(flag_at) as *const u32)
        };
        self.inner.put_pinned(pinned);
        self.inner.put_event(ev);
        r.map_err(|_| Error::OutOfMemory {
            device: String::from("host (cuda readback)"),
            requested: self.bytes,
            in_use: 0,
            limit: None,
        })?;
        self.inner.deferred(word)?;
        Ok(out)
    }

    /// Blocks until the copy is done (read_blocking).
    pub(crate) fn wait(mut self) -> Result<Vec<u8>> {
        if let Some(r) = self.done.take() {
            return r;
        }
        let ev = self.staged.as_ref().expect("internal: staged").1 .0;
        // SAFETY: the event was recorded on this driver's stream.
        if let Err(e) = unsafe { cu::event::synchronize(ev) } {
            return Err(self.fail(e));
        }
        self.finish()
    }

    fn fail(&mut self, e: cudarc::driver::DriverError) -> Error {
        // After a failed wait the staged memory may never be written again, but keep it
        // out of reuse: drop the handles instead of returning them.
        self.staged = None;
        deferred("read", e)
    }
}

impl Future for Readback {
    type Output = Result<Vec<u8>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(r) = this.done.take() {
            return Poll::Ready(r);
        }
        let Some((_, ev)) = this.staged.as_ref() else {
            return Poll::Ready(Err(Error::Driver(String::from(
                "read polled after completion",
            ))));
        };
        // SAFETY: the event was recorded on this driver's stream.
        match unsafe { sys::cuEventQuery(ev.0) } {
            sys::CUresult::CUDA_SUCCESS => Poll::Ready(this.finish()),
            sys::CUresult::CUDA_ERROR_NOT_READY => {
                // No completion callback to wake us: ask to be polled again.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            e => Poll::Ready(Err(this.fail(cudarc::driver::DriverError(e)))),
        }
    }
}

impl Drop for Readback {
    fn drop(&mut self) {
        // Dropped before completion: the copy may still be writing into the staging
        // buffer, so wait for it before the buffer goes back for reuse.
        if let Some((pinned, ev)) = self.staged.take() {
            // SAFETY: the event was recorded on this driver's stream.
            if unsafe { cu::event::synchronize(ev.0) }.is_ok() {
                self.inner.put_pinned(pinned);
                self.inner.put_event(ev);
            }
        }
    }
}
