//! One run of the apply engine against an environment's cluster: the connection, the
//! environment's lock, SIGINT/SIGTERM, the apply itself, the lock's release and the
//! summary of what went wrong. `homelab apply`, `deploy` and `destroy` all run a
//! [`Session`]; the CLI only turns flags into [`SessionOptions`] and prints the outcome,
//! so every default lives in [`SessionOptions::default`] and nowhere else.
//!
//! # Guarantees
//! - A run that may change the cluster holds the environment's lock from before its
//!   first write until after its last; a dry run changes nothing and takes no lock.
//! - SIGINT or SIGTERM stops the run at the next object boundary; nothing is pruned and
//!   the lock is still released.
//! - A run that may change the cluster and has a [`Recording`] records a revision
//!   before it releases the lock (two requests; see [`super::revision_store`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;

use super::client::RequestError;
use super::context::{ContextError, ResolvedContext};
use super::diff::{diff, DiffReport};
use super::event::{Event, Reporter};
use super::lock::{self, LockError, LockNotice, LockOptions};
use super::plan::ApplyPlan;
use super::revision::{Cause, Revision};
use super::revision_store::{self, StoreError};
use super::run::{apply, finished, ApplyOptions, ApplyReport, Cluster, ObjectStatus};
use crate::render::RenderedSet;

/// How a session connects, locks and applies.
#[derive(Debug, Clone)]
pub(crate) struct SessionOptions {
    /// Requests to the API server in flight at once.
    pub concurrency: usize,
    /// How long to wait for another run's lock on the environment.
    pub lock_timeout: Duration,
    /// A lock holder that stops renewing the lease for this long loses it.
    pub lock_ttl: Duration,
    /// How the engine applies; the session sets `cancel` itself.
    pub apply: ApplyOptions,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            concurrency: 32,
            lock_timeout: Duration::from_secs(60),
            lock_ttl: Duration::from_secs(30),
            apply: ApplyOptions::default(),
        }
    }
}

/// Why a session could not start or run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    #[error("Failed to start the runtime for the cluster connection")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Connect(#[from] ContextError),
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// A rendered set, its apply plan, and a connection to the environment's cluster.
pub(crate) struct Session {
    pub set: RenderedSet,
    pub plan: ApplyPlan,
    pub cluster: Cluster,
    options: SessionOptions,
    runtime: Runtime,
    /// How to record the run as a revision; nothing is recorded without it.
    pub recording: Option<Recording>,
}

/// What a run records about itself besides what the report says.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    /// The lab root the set was rendered from: its git commit is recorded.
    pub lab_root: PathBuf,
    /// Revisions the environment keeps.
    pub keep: u32,
    pub cause: Cause,
    /// The revision a rollback or restore renders again.
    pub restores: Option<u64>,
}

/// What an apply ended with.
pub(crate) struct Outcome {
    pub report: ApplyReport,
    /// The lock's lease could not be deleted; it expires after [`SessionOptions::lock_ttl`].
    pub release_failed: Option<RequestError>,
    /// The revision recorded, or why none could be.
    pub revision: Option<Result<u64, StoreError>>,
}

impl Session {
    /// Connects to `context` on a runtime of its own, to apply `plan` (made from `set`).
    pub(crate) fn connect(
        set: RenderedSet,
        plan: ApplyPlan,
        context: &ResolvedContext,
        options: SessionOptions,
    ) -> Result<Session, SessionError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(SessionError::Runtime)?;
        let cluster = runtime.block_on(Cluster::connect(context, options.concurrency))?;
        Ok(Session {
            set,
            plan,
            cluster,
            options,
            runtime,
            recording: None,
        })
    }

    /// Runs `future` (hooks, tests) on the session's runtime, where its cluster lives.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub(crate) fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// What applying would change: a server dry run diffed against the live objects,
    /// and the members pruning would delete (none listed when pruning is off).
    pub(crate) fn diff(&self) -> DiffReport {
        let apply = &self.options.apply;
        let mut report = self.runtime.block_on(diff(
            &self.cluster,
            &self.plan,
            apply.force_conflicts,
            apply.allow_data_loss,
            &self.set.redactor,
        ));
        if !apply.prune {
            report.prune.clear();
            report.prune_error = None;
        }
        report
    }

    /// Applies the plan under the environment's lock, stopping on SIGINT or SIGTERM.
    ///
    /// # Errors
    /// Only when the lock could not be taken; everything that went wrong while applying
    /// is in the report (see [`Session::problems`]).
    pub(crate) fn apply(&self, reporter: &dyn Reporter) -> Result<Outcome, SessionError> {
        let cancel = Arc::new(AtomicBool::new(false));
        let options = ApplyOptions {
            cancel: Some(cancel.clone()),
            ..self.options.apply.clone()
        };
        let lock_options = LockOptions {
            identity: lock::identity(),
            ttl: self.options.lock_ttl,
            timeout: self.options.lock_timeout,
        };
        let notice = |n: LockNotice| {
            reporter.event(&match n {
                LockNotice::Waiting { holder } => Event::LockWaiting { holder },
                LockNotice::TakenOver { holder, expired } => {
                    Event::LockTakenOver { holder, expired }
                }
            })
        };
        let outcome = self.runtime.block_on(async {
            let guard = match options.dry_run {
                true => None,
                false => Some(
                    lock::acquire(
                        &self.cluster.client,
                        &self.set.environment,
                        &lock_options,
                        &notice,
                    )
                    .await?,
                ),
            };
            let signals = tokio::spawn(stop_on_signal(cancel));
            let report = apply(
                &self.cluster,
                &self.plan,
                &options,
                &self.set.redactor,
                reporter,
            )
            .await;
            signals.abort();
            let revision = match (&self.recording, options.dry_run) {
                (Some(recording), false) => Some(self.record(recording, &report).await),
                _ => None,
            };
            let release_failed = match guard {
                Some(guard) => guard.release().await.err(),
                None => None,
            };
            let mut report = report;
            // Every request of the command went through this client: the listing
            // before a destroy, the lock, the run and the lock's release.
            report.requests = self.cluster.client.requests_sent();
            reporter.event(&finished(&report));
            Ok::<_, LockError>(Outcome {
                report,
                release_failed,
                revision,
            })
        });
        Ok(outcome?)
    }

    /// Records `report` as the environment's next revision.
    async fn record(&self, recording: &Recording, report: &ApplyReport) -> Result<u64, StoreError> {
        let source = super::revision_git::source(&recording.lab_root);
        let mut revision = Revision::of_run(&self.plan, report, source, recording.cause);
        revision.restores = recording.restores;
        revision_store::record(&self.cluster.client, revision, recording.keep).await
    }

    /// One sentence per problem of a failed run, secrets redacted: each failed or
    /// conflicting object, each object not ready, each failed prune, the run's own
    /// error, and what the run left undone.
    pub(crate) fn problems(&self, report: &ApplyReport) -> Vec<String> {
        let mut out = Vec::new();
        for (object, status) in self.plan.objects.iter().zip(&report.status) {
            match status {
                ObjectStatus::Failed(message) => {
                    out.push(format!("{} failed: {message}", object.describe()))
                }
                ObjectStatus::Conflict(conflicts) => out.push(format!(
                    "{} has {} field(s) owned by other managers ({}); rerun with --force-conflicts to take them over",
                    object.describe(),
                    conflicts.len(),
                    conflicts
                        .iter()
                        .map(|c| format!("{} by \"{}\"", c.field, c.manager))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => {}
            }
        }
        for n in &report.not_ready {
            out.push(format!(
                "{} is not ready: {}",
                self.plan.objects[n.id].describe(),
                self.set.redactor.redact(&n.reason)
            ));
        }
        for (candidate, message) in &report.prune_failed {
            out.push(format!(
                "pruning {} failed: {message}",
                candidate.describe()
            ));
        }
        out.extend(report.error.clone());
        let not_started = report.count(|s| *s == ObjectStatus::NotStarted);
        if report.cancelled {
            out.push(format!("interrupted; {not_started} object(s) were not applied and nothing was pruned. Run again to converge"));
        } else if not_started > 0 {
            out.push(format!("the run stopped before pruning; {not_started} object(s) were not applied. Fix the problem above and run again"));
        }
        out
    }
}

/// Sets `cancel` on SIGINT or SIGTERM; the run stops at the next object boundary and
/// the lock is released.
async fn stop_on_signal(cancel: Arc<AtomicBool>) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    cancel.store(true, Ordering::Relaxed);
}
