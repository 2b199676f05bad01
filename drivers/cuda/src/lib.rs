//! Lantern's CUDA driver.
//!
//! [`cuda`]`(ordinal)` opens a GPU as a [`lantern::Device`]. The CUDA libraries are loaded
//! at run time (cudarc's dynamic loading), so this crate builds and its tests run on
//! machines without CUDA; there, `cuda(0)` returns an error saying what is missing.
//!
//! - **Kernels** are CUDA C in `kernels/cuda/<group>.cu` (crate `lantern-kernels`), named
//!   `{op}_{dtype}`, compiled with NVRTC on first use for the device's architecture, one
//!   (group, dtype) at a time, and cached for the life of the driver. Every primitive runs
//!   on f32, f64, f16, bf16, i32, i64, u8, i8 and bool where the CPU driver defines it.
//! - **Matmul** goes through cuBLAS strided-batched GEMM (transposes are layouts, TF32 off);
//!   what cuBLAS cannot express runs a fallback kernel.
//! - **Memory** comes from a stream-ordered caching pool ([`lantern::mem::Pool`] over
//!   `cuMemAllocAsync`), with the same statistics and limit as every driver.
//! - **Stream order**: every op is queued on one stream and returns; only reads and
//!   `synchronize` wait. Device faults are deferred: index kernels clamp and integer
//!   division by zero writes 0, setting a flag that the next read or synchronize reports
//!   as `Error::Deferred`.
//!
//! ```no_run
//! use lantern::{DType, Tensor};
//! let gpu = lantern_cuda::cuda(0)?;
//! let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &gpu);
//! let b = Tensor::ones([2, 2], DType::F32, &gpu);
//! assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![3.0, 3.0, 7.0, 7.0]);
//! # Ok::<(), lantern::Error>(())
//! ```
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod blas;
pub mod compile;
mod device;
mod ops;
mod params;
mod read;

pub use device::CudaDriver;

use lantern::{Device, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static DEVICES: OnceLock<Mutex<HashMap<usize, Arc<CudaDriver>>>> = OnceLock::new();

/// Opens CUDA device `ordinal` (`cuda:0`, ...). The same driver is returned for the same
/// ordinal for the life of the process.
///
/// Fails with `Error::Device` when there is no NVIDIA driver, no such GPU, or no NVRTC
/// library (`libnvrtc.so.12`/`.13` must be on the library path).
pub fn cuda(ordinal: usize) -> Result<Device> {
    let map = DEVICES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(d) = map.get(&ordinal) {
        return Ok(Device::new(d.clone()));
    }
    let inner = device::Inner::new(ordinal)?;
    let d = Arc::new(CudaDriver {
        inner: Arc::new(inner),
    });
    map.insert(ordinal, d.clone());
    Ok(Device::new(d))
}

/// Every kernel the driver may launch, as `(group, name)` (for the NVRTC check in CI).
#[doc(hidden)]
pub fn kernel_names() -> Vec<(&'static str, String)> {
    ops::kernel_names()
}

/// The CUDA driver behind a device opened by [`cuda`], for device queries.
pub fn driver(ordinal: usize) -> Option<Arc<CudaDriver>> {
    let map = DEVICES.get()?.lock().unwrap_or_else(|p| p.into_inner());
    map.get(&ordinal).cloned()
}
