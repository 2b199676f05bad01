//! Shared test support for Lantern: fixture loading and the driver conformance suite that
//! every driver crate runs against the CPU driver.
pub mod conformance;
pub mod fixtures;
pub mod fused;
pub mod gradcheck;
pub mod train;
