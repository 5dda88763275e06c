//! See [model].
pub mod model;
