//! Releases: what is deployed into the cluster, from `releases/<name>/release.toml`.

mod graph;
mod load;
pub(crate) mod model;
mod validate;

pub(crate) use graph::dependency_order;
pub(crate) use load::{load_all, LoadedRelease, RELEASES_DIR};
pub use model::*;
pub use validate::validate;
