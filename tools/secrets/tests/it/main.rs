//! Integration tests of homelab-secrets: interop with the real `sops` and
//! `age` binaries, bad input, and properties.

mod api;
mod bad_input;
mod interop;
mod props;
mod support;
