//! Pinned upstream charts: `releases.lock`, repository indexes and OCI registries, a
//! content-addressed cache, and fetching. Rendering reads only the cache ([`cache::ChartCache::archive`]);
//! only `homelab charts lock|pull|update` touch the network.

pub(crate) mod archive;
pub(crate) mod atomic;
pub(crate) mod cache;
pub(crate) mod digest;
pub(crate) mod fetch;
pub mod index;
pub(crate) mod lock;
pub mod oci;
pub(crate) mod ops;

pub use cache::ChartCache;
pub(crate) use lock::{LockFile, LOCK_PATH};
