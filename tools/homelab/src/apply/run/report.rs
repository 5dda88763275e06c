//! What a run did: each object's status, the run's outcome, and its last event.

use super::*;

/// Where one object of the plan ended up.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectStatus {
    NotStarted,
    Applied(Action),
    Conflict(Vec<FieldConflict>),
    Failed(String),
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// Per object of the plan, by index.
    pub status: Vec<ObjectStatus>,
    pub not_ready: Vec<NotReady>,
    pub ok: bool,
    /// Stopped by [`ApplyOptions::cancel`].
    pub cancelled: bool,
    /// Members no longer desired: deleted, kept by the data-loss guard (`kept` set), or
    /// failed to delete (listed in `prune_failed`).
    pub pruned: Vec<Candidate>,
    pub prune_failed: Vec<(Candidate, String)>,
    /// What Helm had: leftovers, forgotten release Secrets, unreadable releases.
    pub helm: HelmReport,
    /// A problem of the run as a whole (the ApplySet parent, listing for prune, a hook).
    pub error: Option<String>,
    /// The release whose pre-install or pre-upgrade hook failed, stopping the run.
    pub hook_failed: Option<String>,
    /// Requests the command sent, filled in by the caller once it is done.
    pub requests: u64,
    pub elapsed: Duration,
}

impl ApplyReport {
    pub fn count(&self, f: impl Fn(&ObjectStatus) -> bool) -> usize {
        self.status.iter().filter(|s| f(s)).count()
    }
}

/// The run's last event: what happened to the objects, and the requests sent in all.
pub(crate) fn finished(report: &ApplyReport) -> Event {
    let count = |a: Action| report.count(|s| *s == ObjectStatus::Applied(a));
    Event::Finished {
        ok: report.ok,
        created: count(Action::Created),
        configured: count(Action::Configured) + count(Action::Adopted),
        unchanged: count(Action::Unchanged),
        pruned: report.pruned.iter().filter(|c| c.kept.is_none()).count(),
        kept: report.pruned.iter().filter(|c| c.kept.is_some()).count(),
        failed: report.count(|s| matches!(s, ObjectStatus::Failed(_) | ObjectStatus::Conflict(_)))
            + report.prune_failed.len(),
        not_ready: report.not_ready.len(),
        not_started: report.count(|s| *s == ObjectStatus::NotStarted),
        requests: report.requests,
        elapsed_ms: report.elapsed.as_millis() as u64,
    }
}
