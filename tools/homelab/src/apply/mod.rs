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

pub(crate) mod adopt;
pub(crate) mod adopt_helm;
pub(crate) mod applyset;
pub(crate) mod client;
pub(crate) mod context;
pub(crate) mod deletion;
pub(crate) mod diff;
pub mod discovery;
pub mod event;
pub(crate) mod foreign;
pub(crate) mod hook_run;
pub(crate) mod hooks;
pub(crate) mod live;
pub(crate) mod lock;
pub(crate) mod plan;
pub(crate) mod policy;
pub(crate) mod prune;
pub(crate) mod readiness;
pub(crate) mod resource;
pub mod retry;
pub(crate) mod revision;
pub(crate) mod revision_git;
pub(crate) mod revision_store;
pub(crate) mod run;
pub(crate) mod session;
pub(crate) mod wait;

pub use client::ApiClient;
pub(crate) use context::KubeTarget;
pub use context::ResolvedContext;
pub use diff::diff;
pub(crate) use diff::{Change, DiffReport, ObjectDiff};
pub(crate) use event::{Action, Event, FieldConflict, Reporter};
pub(crate) use plan::PlannedObject;
pub use plan::{ApplyPlan, Needs};
pub use run::{apply, ApplyOptions, ApplyReport, Cluster, ObjectStatus};

/// Each release's `needs`, as the plan wants them.
pub(crate) fn needs_of(lab: &crate::Lab) -> Needs {
    lab.releases
        .iter()
        .map(|r| (r.release().name.clone(), r.release().needs.clone()))
        .collect()
}
