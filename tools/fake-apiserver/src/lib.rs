//! A test-only, in-memory Kubernetes API server, faithful enough that
//! `kubectl` (1.32) and kube-rs work against it: discovery (legacy and
//! aggregated), CRUD on the common built-in kinds and on any Established
//! CRD, label/field selectors, server-side apply with `managedFields` and
//! conflicts, `dryRun=All`, simulated readiness controllers, and fault
//! injection with request counters.
//!
//! # Using it
//!
//! In-process (tokio tests): [`FakeApiServer::start`] returns a
//! [`ServerHandle`] with the URL, a kubeconfig (context `fake`, namespace
//! `default`, plain HTTP, no credentials), request counters and log, fault
//! knobs ([`Faults`], [`VerbFaults`]), controller knobs ([`ControllerConfig`],
//! [`FailRule`]) and uncounted direct access to the API
//! ([`ServerHandle::call`], [`ServerHandle::apply_as`],
//! [`ServerHandle::get`], [`ServerHandle::list`]).
//!
//! As a process: `fake-apiserver --port N [--latency-ms MS]
//! [--ready-delay-ms MS] [--seed S] [--kubeconfig PATH]` prints
//! `listening on http://127.0.0.1:PORT`; scripts use the `/_fake/` endpoints:
//! `GET /_fake/requests[?log=true]` (counts), `DELETE /_fake/requests`
//! (reset), `GET|PUT /_fake/faults` and `GET|PUT /_fake/controller` (the
//! knobs as JSON, durations in milliseconds). These are never counted or
//! faulted.
//!
//! # Caveats
//! - JSON and YAML bodies only (no protobuf: `kubectl create configmap`
//!   fails with 415; `kubectl apply`/`create -f` work).
//! - Validation beyond names, labels, a few kind-specific rules and
//!   `fieldValidation` (unknown and duplicate fields) is not done.
//! - Lists page with `limit`/`continue` in key order but ignore
//!   `resourceVersion`/`resourceVersionMatch` (always the latest state); no
//!   admission beyond namespace lifecycle and PVC/PV protection, no RBAC, no
//!   quantities canonicalization.
//! - Server-side apply follows the Kubernetes 1.34 OpenAPI of the built-in
//!   kinds (list types, keys, key defaults), read at start from the PyPI
//!   package `kubernetes-validate==1.37.0` (or `FAKE_APISERVER_SCHEMA`;
//!   [`FakeApiServer::start`] fails without it), and CRDs'
//!   `x-kubernetes-list-*`.
//! - Deletion is finished asynchronously by simulated controllers (garbage
//!   collector, namespace controller, PVC protection), which run even when
//!   [`ControllerConfig::enabled`] is false; tests wait with
//!   [`ServerHandle::wait_until`]. README.md lists what else differs from
//!   kube-apiserver and what that means for tests.
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
mod deletion;
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
