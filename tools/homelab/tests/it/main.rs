//! Integration tests: one binary, one module per concern.

mod apply;
mod charts;
mod check;
mod deploy_hosts;
mod generate;
mod invalid;
mod roundtrip;
mod render;
mod secrets;
mod support;
