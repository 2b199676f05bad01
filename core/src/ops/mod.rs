//! The op tables drivers implement: primitives and fused ops.

pub mod fused;
pub mod prim;

pub use fused::{optim_step_views, softmax_rows, AdamStep, Conv2dGeom, FusedOp, SgdStep};
pub use prim::{Axes, BinaryOp, Distribution, PrimOp, ReduceOp, ScanOp, UnaryOp};
