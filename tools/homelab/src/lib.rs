//! Reads, validates, renders and applies a home lab declared in one repository.
//!
//! The library is pure where it can be: loading and validation are functions of files;
//! processes (Nix, Helm), the network and the cluster sit behind small interfaces. The
//! binary in `main.rs` only turns command lines into calls of this library.
#![forbid(unsafe_code)]

pub mod apply;
pub mod charts;
pub mod cli;
pub mod deploy;
pub mod diagnostic;
pub mod environment;
pub mod generate;
pub mod import;
pub mod inventory;
pub mod lab;
pub mod names;
pub mod release;
pub mod render;
pub mod summary;
pub mod toml_file;

pub use lab::{Lab, LoadOptions};
