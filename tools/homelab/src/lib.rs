//! Reads, validates, renders and applies a home lab declared in one repository.
//!
//! The library is pure where it can be: loading and validation are functions of files;
//! processes (Nix, Helm), the network and the cluster sit behind small interfaces. Only
//! [`cli`] knows about clap and the terminal; everything else prints nothing and reports
//! through events, results and diagnostics. The layers and why there is one crate:
//! docs/architecture.md.
#![forbid(unsafe_code)]
// Items only the crate uses are `pub(crate)`, so the compiler reports dead code; the
// public API is what tests, fuzz targets and main.rs reach (docs/architecture.md).
#![warn(unreachable_pub)]

pub mod apply;
pub mod charts;
pub mod cli;
pub(crate) mod deploy;
pub mod diagnostic;
pub mod environment;
pub(crate) mod export;
pub mod generate;
pub(crate) mod hosts_admin;
pub mod import;
pub mod inventory;
pub mod lab;
pub(crate) mod names;
pub(crate) mod paths;
pub mod release;
pub mod render;
pub(crate) mod status;
pub mod toml_file;

#[cfg(test)]
mod layers;

pub use lab::{Lab, LoadOptions};
