//! Lantern: tensors, autograd and neural networks with PyTorch's names and semantics, on
//! pluggable drivers (CPU here; WebGPU and CUDA in their own crates), `no_std` + `alloc`
//! at the core.
//!
//! ```
//! use lantern::{Device, DType, Tensor};
//! let cpu = Device::cpu();
//! let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], [2, 2], &cpu);
//! let b = Tensor::ones([2, 2], DType::F32, &cpu);
//! let c = a.matmul(&b).relu();
//! assert_eq!(c.to_vec::<f32>(), vec![3.0, 3.0, 7.0, 7.0]);
//! let err = a.try_matmul(&Tensor::ones([3, 1], DType::F32, &cpu)).unwrap_err();
//! assert!(err.to_string().contains("matmul"));
//! ```
#![no_std]
#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod autograd;
pub mod cpu;
pub mod data;
pub mod driver;
pub mod dtype;
pub mod error;
pub mod fmt;
pub mod io;
pub mod layout;
pub mod math;
pub mod mem;
pub mod nn;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod tensor;

pub use autograd::{no_grad, NoGradGuard};
pub use driver::{block_on, BufId, Device, DeviceId, Driver, MemoryStats, View};
pub use dtype::{DType, Element, Scalar};
pub use error::{Error, Result};
pub use layout::{Layout, Shape};
pub use tensor::{manual_seed, Tensor};
pub use tensor::{Conv2dOpts, NormOrd};
