//! Integration tests of the fake API server over real HTTP, and with the
//! real kubectl.

mod conformance;
mod controller;
mod crd;
mod crud;
mod deletion;
mod dry_run;
mod faults;
mod generation;
mod kubectl;
mod robustness;
mod selectors;
mod ssa;
mod support;
mod watch;
