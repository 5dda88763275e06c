//! Integration tests: one binary, one module per concern.

mod apply;
mod charts;
mod charts_oci;
mod check;
mod deploy;
mod deploy_hosts;
mod deploy_rollback;
mod generate;
mod generate_untrusted;
mod host_inputs;
mod hosts;
mod identifiers;
mod import;
mod invalid;
mod render;
mod roundtrip;
mod secrets;
mod spawn;
mod support;
mod template_values;
mod untrusted;
