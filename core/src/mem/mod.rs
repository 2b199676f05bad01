//! Memory: the caching pool every driver plugs its raw allocator into.

mod pool;
pub use pool::{size_class, Pool};
