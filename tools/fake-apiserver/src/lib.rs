//! A test-only, in-memory Kubernetes API server, faithful enough that
//! `kubectl` (1.32) and kube-rs work against it: discovery (legacy and
//! aggregated), CRUD on the common built-in kinds and on any Established
//! CRD, label/field selectors, server-side apply with `managedFields` and
//! conflicts, `dryRun=All`, simulated readiness controllers, and fault
//! injection with request counters.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use fake_apiserver::{Config, FakeApiServer};
//! let server = FakeApiServer::start(Config::default()).await?;
//! let dir = tempfile::tempdir()?;
//! let kubeconfig = dir.path().join("kubeconfig");
//! server.write_kubeconfig(&kubeconfig)?;
//! // ... run a client against server.url() ...
//! println!("{} requests", server.requests().total);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod apply;
mod clock;
pub mod controller;
mod counter;
mod discovery;
pub mod faults;
mod handle;
mod handlers;
mod kubeconfig;
mod objects;
pub mod patch;
mod resources;
mod rng;
mod routes;
pub mod selectors;
mod server;
mod state;
mod status;
mod store;
mod verb;
mod watch;

pub use controller::{ControllerConfig, FailRule};
pub use counter::{RequestCounts, RequestRecord};
pub use faults::{Faults, VerbFaults};
pub use handle::{Config, FakeApiServer, ServerHandle, StartError};
pub use status::{ApiError, Cause};
pub use verb::Verb;
