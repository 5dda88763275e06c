//! Running one release's hooks of one phase, as `helm upgrade --install` runs them.
//!
//! # Guarantees
//! - Hooks run one at a time in Helm's order (weight, kind, name); the first failure
//!   stops the phase and is returned with the object and the controller's reason.
//! - `before-hook-creation` deletes the previous object and waits until it is gone
//!   before the new one is created, so a Job's immutable template is replaced, never
//!   patched.
//! - Jobs are waited for until Complete or Failed, Pods until Succeeded or Failed;
//!   other kinds are done once applied.
//! - `hook-succeeded` / `hook-failed` delete the hook after it succeeded / failed.
//! - A dry run applies each hook with the server's dry run and waits for nothing.
//! - A release whose objects all match the cluster runs no hooks ([`phases_for`]).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::ApplyParams;
use super::event::{Action, Event, Reporter};
use super::hooks::{role, sort_for_phase, DeletePolicy, Phase, Role};
use super::live::{find, LiveSet};
use super::plan::{ApplyPlan, PlannedObject, StageRelease, APPLIED_HASH_ANNOTATION};
use super::run::Cluster;
use crate::render::Redactor;

/// How much of a failed Pod's log a failure shows.
const LOG_LINES: u32 = 20;

/// How often a hook's object is read back while waiting.
const POLL: Duration = Duration::from_millis(200);

/// What running a phase needs.
pub(crate) struct HookRunner<'a> {
    pub cluster: &'a Cluster,
    pub plan: &'a ApplyPlan,
    pub timeout: Duration,
    pub dry_run: bool,
    pub redactor: &'a Redactor,
    pub reporter: &'a dyn Reporter,
}

impl HookRunner<'_> {
    /// Runs `release`'s hooks of `phase`; the number run, or why one failed.
    pub(crate) async fn run(&self, release: &str, phase: Phase) -> Result<usize, String> {
        let mut hooks: Vec<&PlannedObject> = self
            .plan
            .hooks
            .iter()
            .filter(|h| h.release == release)
            .filter(|h| matches!(role(&h.body), Role::Hook(hook) if hook.runs_in(phase)))
            .collect();
        sort_for_phase(&mut hooks);
        for hook in &hooks {
            self.run_one(hook, phase).await.map_err(|e| {
                let message = format!(
                    "The {} hook {} of release {release} failed: {e}",
                    phase_name(phase),
                    hook.describe()
                );
                self.reporter.event(&Event::Failed {
                    object: hook.describe(),
                    release: release.to_string(),
                    source: hook.source.clone(),
                    message: self.redactor.redact(&e),
                });
                self.redactor.redact(&message)
            })?;
        }
        Ok(hooks.len())
    }

    /// The releases with hooks of `phase`, in the plan's (apply) order.
    pub(crate) fn releases_with(&self, phase: Phase) -> Vec<String> {
        let mut releases: Vec<String> = Vec::new();
        for hook in &self.plan.hooks {
            let runs = matches!(role(&hook.body), Role::Hook(h) if h.runs_in(phase));
            if runs && !releases.contains(&hook.release) {
                releases.push(hook.release.clone());
            }
        }
        releases
    }

    async fn run_one(&self, object: &PlannedObject, phase: Phase) -> Result<(), String> {
        let Role::Hook(hook) = role(&object.body) else {
            return Ok(());
        };
        let (resource, served) = self.cluster.resource_of(self.plan, object).await?;
        if !served && self.dry_run {
            return Ok(());
        }
        let namespace = object.namespace().filter(|_| resource.namespaced);
        let path = resource.object_path(namespace, object.name());
        let client = &self.cluster.client;
        if hook.deletes(DeletePolicy::BeforeHookCreation) && !self.dry_run {
            client
                .delete(&path, false)
                .await
                .map_err(|e| e.to_string())?;
            self.wait_gone(&path).await?;
        }
        let mut body = object.body.clone();
        if !resource.namespaced {
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
        }
        let params = ApplyParams {
            dry_run: self.dry_run,
            force: true,
        };
        client
            .apply(&path, &body, params)
            .await
            .map_err(|e| e.to_string())?;
        self.reporter.event(&Event::Applied {
            object: format!("{} ({} hook)", object.describe(), phase_name(phase)),
            release: object.release.clone(),
            action: Action::Created,
            dry_run: self.dry_run,
        });
        if self.dry_run {
            return Ok(());
        }
        let mut outcome = self.wait_done(&path, object.kind()).await;
        if let (Err(reason), "Pod") = (&outcome, object.kind()) {
            outcome = Err(self.with_log(reason, &path, object).await);
        }
        let delete = match &outcome {
            Ok(()) => hook.deletes(DeletePolicy::HookSucceeded),
            Err(_) => hook.deletes(DeletePolicy::HookFailed),
        };
        if delete {
            client
                .delete(&path, false)
                .await
                .map_err(|e| e.to_string())?;
        }
        outcome
    }

    /// `reason` and the end of the failed Pod's log, so a failed test says why without
    /// a `kubectl logs` (which the delete policy may make impossible).
    async fn with_log(&self, reason: &str, path: &str, pod: &PlannedObject) -> String {
        match self.cluster.client.pod_log(path, LOG_LINES).await {
            Ok(log) if log.trim().is_empty() => format!("{reason} (its log is empty)"),
            Ok(log) => format!(
                "{reason}\n  last {LOG_LINES} lines of the log of {}:\n{}",
                pod.describe(),
                log.trim_end()
                    .lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            Err(e) => format!("{reason} (its log could not be read: {e})"),
        }
    }

    async fn wait_gone(&self, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.cluster.client.get(path).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if Instant::now() < deadline => tokio::time::sleep(POLL).await,
                Ok(Some(_)) => {
                    return Err(format!(
                        "its previous object was still being deleted after {}s",
                        self.timeout.as_secs()
                    ))
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    async fn wait_done(&self, path: &str, kind: &str) -> Result<(), String> {
        if !matches!(kind, "Job" | "Pod") {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let live = self
                .cluster
                .client
                .get(path)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("it was deleted before it finished")?;
            if let Some(done) = finished(&live) {
                return done;
            }
            if Instant::now() >= deadline {
                return Err(format!("not finished after {}s", self.timeout.as_secs()));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Which hooks a release's apply runs, decided before anything of it is applied:
/// none when every object's live applied-hash already matches (a re-apply stays a
/// no-op), `install` phases when none of its objects is on the cluster yet, `upgrade`
/// phases otherwise. The member lists are the run's own, so this costs no requests
/// beyond the ones the no-op fast path makes anyway.
pub(crate) async fn phases_for(
    cluster: &Cluster,
    plan: &ApplyPlan,
    live: &LiveSet,
    release: &StageRelease,
) -> Option<(Phase, Phase)> {
    if !plan.hooks.iter().any(|h| h.release == release.release) {
        return None;
    }
    let mut changes = false;
    let mut installed = false;
    for &i in release.phases.iter().flatten() {
        let object = &plan.objects[i];
        let Ok((resource, true)) = cluster.resource_of(plan, object).await else {
            changes = true;
            continue;
        };
        let Ok(members) = live.members(&cluster.client, &resource).await else {
            changes = true;
            continue;
        };
        let namespace = object.namespace().filter(|_| resource.namespaced);
        match find(&members, namespace, object.name()) {
            Some(member) => {
                installed = true;
                let hash = member
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(APPLIED_HASH_ANNOTATION))
                    .and_then(Value::as_str);
                changes |= hash.is_none() || hash != object.applied_hash();
            }
            None => changes = true,
        }
    }
    match (changes, installed) {
        (false, _) => None,
        (true, false) => Some((Phase::PreInstall, Phase::PostInstall)),
        (true, true) => Some((Phase::PreUpgrade, Phase::PostUpgrade)),
    }
}

/// `Some(Ok)` once a Job completed or a Pod succeeded, `Some(Err(reason))` once it
/// failed, `None` while it runs.
pub(crate) fn finished(live: &Value) -> Option<Result<(), String>> {
    if let Some(phase) = live.pointer("/status/phase").and_then(Value::as_str) {
        return match phase {
            "Succeeded" => Some(Ok(())),
            "Failed" => Some(Err(pod_failure(live))),
            _ => None,
        };
    }
    let conditions = live.pointer("/status/conditions")?.as_array()?;
    let holds = |kind: &str| {
        conditions
            .iter()
            .find(|c| c["type"] == kind && c["status"] == "True")
    };
    if holds("Complete").is_some() {
        return Some(Ok(()));
    }
    holds("Failed").map(|c| {
        Err(format!(
            "{}: {}",
            c["reason"].as_str().unwrap_or("Failed"),
            c["message"].as_str().unwrap_or("")
        ))
    })
}

fn pod_failure(pod: &Value) -> String {
    let terminated = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.pointer("/state/terminated"))
        .find(|t| t["exitCode"].as_i64().unwrap_or(0) != 0);
    match terminated {
        Some(t) => format!(
            "container exited {}: {} {}",
            t["exitCode"],
            t["reason"].as_str().unwrap_or(""),
            t["message"].as_str().unwrap_or("")
        )
        .trim_end()
        .to_string(),
        None => pod
            .pointer("/status/message")
            .and_then(Value::as_str)
            .unwrap_or("the pod failed")
            .to_string(),
    }
}

/// The phase as Helm spells it.
pub(crate) fn phase_name(phase: Phase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn jobs_and_pods_finish_with_their_reason() {
        let job = |t: &str| {
            json!({"status": {"conditions": [
                {"type": t, "status": "True", "reason": "BackoffLimitExceeded", "message": "too many"}
            ]}})
        };
        assert_eq!(finished(&job("Complete")), Some(Ok(())));
        assert_eq!(
            finished(&job("Failed")),
            Some(Err("BackoffLimitExceeded: too many".into()))
        );
        assert_eq!(finished(&json!({"status": {}})), None);
        let pod = json!({"status": {"phase": "Failed", "containerStatuses": [
            {"state": {"terminated": {"exitCode": 2, "reason": "Error"}}}
        ]}});
        assert_eq!(
            finished(&pod),
            Some(Err("container exited 2: Error".into()))
        );
        assert_eq!(finished(&json!({"status": {"phase": "Running"}})), None);
        assert_eq!(phase_name(Phase::PreUpgrade), "pre-upgrade");
    }
}
