//! Integration tests: one binary, one module per concern.

mod apply;
mod charts;
mod charts_oci;
mod check;
mod deploy;
mod deploy_hosts;
mod generate;
mod import;
mod invalid;
mod render;
mod roundtrip;
mod secrets;
mod support;
