//! A caching allocator keyed by size class (tinygrad's `LRUAllocator`, DESIGN.md "Memory").
//!
//! The pool never touches memory itself: a driver passes closures that allocate and free
//! its raw blocks, so the same bookkeeping serves host memory, wgpu buffers and CUDA memory.

use crate::driver::MemoryStats;
use crate::error::{Error, Result};
use alloc::string::String;
use alloc::vec::Vec;

/// Rounds a request up to its size class: 512 B minimum, then steps of a quarter of the
/// power of two below, so at most 25% is wasted and a training loop's shapes reuse blocks.
pub fn size_class(bytes: usize) -> usize {
    if bytes <= 512 {
        return 512;
    }
    let top = usize::BITS - 1 - bytes.leading_zeros();
    let step = 1usize << (top - 2);
    bytes.div_ceil(step).saturating_mul(step)
}

/// Per-driver pool of cached blocks of type `B` plus the memory counters.
pub struct Pool<B> {
    device: String,
    /// Free blocks by size class (exact classes: no ordered lookup needed).
    cache: hashbrown::HashMap<usize, Vec<B>>,
    cached_bytes: usize,
    stats: MemoryStats,
}

impl<B> Pool<B> {
    /// An empty pool for the named device (used in error messages).
    pub fn new(device: impl Into<String>) -> Pool<B> {
        Pool {
            device: device.into(),
            cache: hashbrown::HashMap::new(),
            cached_bytes: 0,
            stats: MemoryStats::default(),
        }
    }

    /// Takes a block of `size_class(bytes)` bytes: a cached one if any, else a new one from
    /// `raw` (which returns `None` when the system is out of memory). Returns the block and
    /// its class, which must be passed back to [`Pool::release`].
    pub fn acquire(
        &mut self,
        bytes: usize,
        mut raw: impl FnMut(usize) -> Option<B>,
        mut raw_free: impl FnMut(B),
    ) -> Result<(B, usize)> {
        let class = size_class(bytes);
        self.stats.requests += 1;
        if let Some(limit) = self.stats.limit {
            if self.stats.in_use.saturating_add(class) > limit {
                return Err(self.oom(bytes));
            }
        }
        if let Some(list) = self.cache.get_mut(&class) {
            if let Some(b) = list.pop() {
                self.cached_bytes -= class;
                self.take(class);
                return Ok((b, class));
            }
        }
        // Stay under the limit counting cached blocks too: release the cache first.
        if let Some(limit) = self.stats.limit {
            if self.stats.reserved.saturating_add(class) > limit {
                self.flush(&mut raw_free);
            }
        }
        let block = match raw(class) {
            Some(b) => b,
            None => {
                self.flush(&mut raw_free);
                raw(class).ok_or_else(|| self.oom(bytes))?
            }
        };
        self.stats.allocations += 1;
        self.stats.reserved += class;
        self.take(class);
        Ok((block, class))
    }

    fn take(&mut self, class: usize) {
        self.stats.in_use += class;
        self.stats.peak = self.stats.peak.max(self.stats.in_use);
    }

    /// Returns a block of the given class to the cache.
    pub fn release(&mut self, block: B, class: usize) {
        self.stats.in_use -= class;
        self.cached_bytes += class;
        self.cache.entry(class).or_default().push(block);
    }

    /// Frees every cached block through `raw_free`.
    pub fn flush(&mut self, mut raw_free: impl FnMut(B)) {
        for (class, list) in core::mem::take(&mut self.cache) {
            for b in list {
                self.stats.reserved -= class;
                raw_free(b);
            }
        }
        self.cached_bytes = 0;
    }

    /// Sets the limit; cached blocks are released when they would pass it.
    pub fn set_limit(&mut self, limit: Option<usize>, raw_free: impl FnMut(B)) {
        self.stats.limit = limit;
        if let Some(l) = limit {
            if self.stats.reserved > l {
                self.flush(raw_free);
            }
        }
    }

    /// Resets the peak to the current use.
    pub fn reset_peak(&mut self) {
        self.stats.peak = self.stats.in_use;
    }

    /// The counters.
    pub fn stats(&self) -> MemoryStats {
        self.stats
    }

    fn oom(&self, requested: usize) -> Error {
        Error::OutOfMemory {
            device: self.device.clone(),
            requested,
            in_use: self.stats.in_use,
            limit: self.stats.limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_by_at_most_a_quarter() {
        assert_eq!(size_class(1), 512);
        assert_eq!(size_class(513), 640);
        assert_eq!(size_class(1024), 1024);
        assert_eq!(size_class(1025), 1280);
        for b in [700usize, 5000, 1 << 20, (1 << 20) + 1, 123_456_789] {
            let c = size_class(b);
            assert!(c >= b && c <= b + b / 4 + 1, "{b} -> {c}");
        }
    }

    #[test]
    fn reuses_and_enforces_the_limit() {
        let mut p: Pool<usize> = Pool::new("test");
        let mut made = 0;
        let (b, c) = p
            .acquire(
                1000,
                |n| {
                    made += 1;
                    Some(n)
                },
                |_| {},
            )
            .unwrap();
        p.release(b, c);
        let (b2, c2) = p
            .acquire(
                900,
                |n| {
                    made += 1;
                    Some(n)
                },
                |_| {},
            )
            .unwrap();
        assert_eq!(made, 1, "a block of the same class is reused");
        assert_eq!(p.stats().in_use, c2);
        p.set_limit(Some(2048), |_| {});
        let e = p.acquire(4096, Some, |_| {}).unwrap_err();
        assert!(matches!(
            e,
            Error::OutOfMemory {
                requested: 4096,
                ..
            }
        ));
        p.release(b2, c2);
        assert_eq!(p.stats().in_use, 0);
        assert_eq!(p.stats().allocations, 1);
    }
}
