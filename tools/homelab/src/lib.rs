//! Reads, validates, renders and applies a home lab declared in one repository.
#![forbid(unsafe_code)]

pub mod environment;
pub mod inventory;
pub mod release;
