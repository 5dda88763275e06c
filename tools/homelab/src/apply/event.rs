//! What a run reports as it goes: one [`Event`] per step, handed to a [`Reporter`]
//! (progress bars, plain lines or JSON lines — see [`super::report`]). Messages in
//! events are already redacted.

use serde::Serialize;

use super::plan::StageKind;

/// What server-side apply did to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Configured,
    /// Its live applied-hash matched: nothing was sent.
    Unchanged,
    /// Installed by Helm; taken over (`apply --adopt`).
    Adopted,
}

/// A field another manager owns, as a conflict names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    pub field: String,
    pub manager: String,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    Started {
        environment: String,
        context: String,
        stages: usize,
        objects: usize,
        dry_run: bool,
    },
    #[serde(rename_all = "camelCase")]
    StageStarted {
        index: usize,
        kind: StageKind,
        label: String,
        objects: usize,
    },
    #[serde(rename_all = "camelCase")]
    Applied {
        object: String,
        release: String,
        action: Action,
        dry_run: bool,
    },
    /// Fields owned by other managers kept the object from being applied.
    #[serde(rename_all = "camelCase")]
    Conflict {
        object: String,
        release: String,
        conflicts: Vec<FieldConflict>,
    },
    #[serde(rename_all = "camelCase")]
    Failed {
        object: String,
        release: String,
        source: String,
        message: String,
    },
    #[serde(rename_all = "camelCase")]
    Waiting {
        index: usize,
        objects: usize,
    },
    Ready {
        object: String,
    },
    #[serde(rename_all = "camelCase")]
    NotReady {
        object: String,
        release: String,
        reason: String,
        events: Vec<String>,
    },
    /// A member no longer desired was deleted (or would be, on a dry run).
    #[serde(rename_all = "camelCase")]
    Pruned {
        object: String,
        dry_run: bool,
    },
    /// A member no longer desired was kept by the data-loss guard.
    PruneKept {
        object: String,
        reason: String,
    },
    PruneFailed {
        object: String,
        message: String,
    },
    /// The environment is locked by another run; waiting.
    LockWaiting {
        holder: String,
    },
    /// A lease whose holder stopped renewing it was taken over.
    LockTakenOver {
        holder: String,
        expired: String,
    },
    /// A problem of the run as a whole (not of one object).
    Error {
        message: String,
    },
    #[serde(rename_all = "camelCase")]
    StageFinished {
        index: usize,
        applied: usize,
        failed: usize,
        not_ready: usize,
    },
    #[serde(rename_all = "camelCase")]
    Finished {
        ok: bool,
        created: usize,
        configured: usize,
        unchanged: usize,
        pruned: usize,
        kept: usize,
        failed: usize,
        not_ready: usize,
        not_started: usize,
        requests: u64,
        elapsed_ms: u64,
    },
}

/// Receives events as they happen, from any task.
pub trait Reporter: Sync {
    fn event(&self, event: &Event);
}

/// Collects events, for tests and for callers that print afterwards.
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl Reporter for Collect {
    fn event(&self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
    }
}

impl Collect {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
