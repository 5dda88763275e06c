//! Pinned upstream charts: `releases.lock`, repository indexes and OCI registries, a
//! content-addressed cache, and fetching. Rendering reads only the cache ([`cache::ChartCache::archive`]);
//! only `homelab charts lock|pull|update` touch the network.

pub mod archive;
pub mod atomic;
pub mod cache;
pub mod digest;
pub mod fetch;
pub mod index;
pub mod lock;
pub mod oci;
pub mod ops;

pub use cache::ChartCache;
pub use lock::{LockFile, LockedChart, LOCK_PATH};
