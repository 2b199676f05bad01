//! Lantern's kernel sources as data. Kernel names are `{op}_{dtype}` in every language,
//! and file stems match the op groups of `lantern::ops::prim` (STYLE.md §4).
#![no_std]

pub mod cuda;
pub mod wgsl;
