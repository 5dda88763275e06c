//! `homelab apply` and `homelab diff`: make the cluster match the rendered set with
//! server-side apply, and show exactly what that would change.
//!
//! The pieces, one concern each:
//! - [`context`]: kubeconfig, context and the guard binding an environment to its context;
//! - [`plan`]: the pure apply plan (stages, phases, objects) from the rendered set and
//!   the `needs` graph — execution, diff and pruning all read it;
//! - [`client`], [`discovery`], [`resource`]: JSON requests through one kube-rs client,
//!   discovery cached for the run, and URL paths;
//! - [`hooks`], [`hook_run`]: Helm hooks read as Helm reads them, and run by phase;
//! - [`run`]: executing a plan (SSA as field manager `homelab`, conflicts, concurrency,
//!   stopping after a failed stage); [`readiness`] and [`wait`]: waiting between stages;
//! - [`diff`]: server dry-run and comparison with the live objects;
//! - [`event`]: what a run says, handed to a [`Reporter`] (the CLI's progress bars,
//!   lines or JSON);
//! - [`revision`], [`revision_store`], [`revision_git`]: what each apply did, kept in
//!   the cluster for `history`, `rollback`, `apply --atomic` and `status`;
//! - [`session`]: one run against a cluster — connection, lock, signals, apply and its
//!   summary — with its options and their defaults;
//! - real Secret data comes from [`crate::render::SopsSecrets`], in memory only;
//! - [`applyset`], [`live`], [`prune`]: the ApplySet parent, the members as listed
//!   once per group-kind (also the no-op fast path's source), and pruning with its
//!   data-loss guard; [`policy`]: what pruning keeps whatever the flags (Helm's
//!   `keep` resource policy, namespaces the environment still uses); [`lock`]: one run per environment (a Lease); [`retry`]: backoff.

pub mod adopt;
pub mod adopt_helm;
pub mod applyset;
pub mod client;
pub mod context;
pub mod deletion;
pub mod diff;
pub mod discovery;
pub mod event;
pub mod foreign;
pub mod hook_run;
pub mod hooks;
pub mod live;
pub mod lock;
pub mod plan;
pub mod policy;
pub mod prune;
pub mod readiness;
pub mod resource;
pub mod retry;
pub mod revision;
pub mod revision_git;
pub mod revision_store;
pub mod run;
pub mod session;
pub mod wait;

pub use client::{ApiClient, RequestError, FIELD_MANAGER};
pub use context::{ContextError, KubeTarget, ResolvedContext};
pub use diff::{diff, Change, DiffReport, ObjectDiff};
pub use event::{Action, Event, FieldConflict, Reporter};
pub use plan::{ApplyPlan, Needs, PlannedObject, Stage, StageKind};
pub use run::{apply, ApplyOptions, ApplyReport, Cluster, ObjectStatus};

/// Each release's `needs`, as the plan wants them.
pub fn needs_of(lab: &crate::Lab) -> Needs {
    lab.releases
        .iter()
        .map(|r| (r.release().name.clone(), r.release().needs.clone()))
        .collect()
}
