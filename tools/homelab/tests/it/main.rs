//! Integration tests: one binary, one module per concern.

mod check;
mod generate;
mod invalid;
mod roundtrip;
mod support;
