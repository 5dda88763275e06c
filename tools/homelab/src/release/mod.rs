//! Releases: what is deployed into the cluster, from `releases/<name>/release.toml`.

mod graph;
mod load;
pub mod model;
mod validate;

pub use graph::dependency_order;
pub use load::{load_all, LoadedRelease, RELEASES_DIR};
pub use model::*;
pub use validate::{validate, NODE_PORT_RANGE};
