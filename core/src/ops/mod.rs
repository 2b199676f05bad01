//! The op tables drivers implement: primitives and fused ops.

pub mod fused;
pub mod prim;

pub use fused::{
    layer_norm_grad_views, layer_norm_stats_dtype, layer_norm_views, max_pool2d_dims,
    optim_step_views, softmax_rows, AdamStep, Conv2dGeom, FusedOp, LayerNormGradViews,
    LayerNormViews, SgdStep,
};
pub use prim::{Axes, BinaryOp, Distribution, PrimOp, ReduceOp, ScanOp, UnaryOp};
