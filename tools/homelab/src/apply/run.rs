//! Executing an [`ApplyPlan`]: stage after stage, releases of a stage concurrently,
//! objects of a phase concurrently (requests in flight bounded by the client), then a
//! readiness wait before the next stage.
//!
//! # Guarantees
//! - Server-side apply as field manager `homelab`, without `force` unless
//!   [`ApplyOptions::force_conflicts`]; a conflict is reported per field with the
//!   manager that owns it, and the object is left untouched.
//! - A failure (or an object not ready in time) stops the run after the current stage:
//!   later stages are not started, and the report says which objects were applied and
//!   which were not.
//! - Every message that reaches a [`Reporter`] has passed through the [`Redactor`].
//!
//! # Caveats
//! CRDs are always waited for until Established (even with `wait: false`), since the
//! next stages cannot use their kinds before; a dry run cannot, so custom resources of
//! a CRD created in the same run are reported as created without asking the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::adopt::{
    find_adoptions, forget_releases, take_over, Adoption, HelmReport, TakeOverError,
};
use super::applyset::{Membership, Parent};
use super::client::{ApiClient, ApplyParams, Cause, RequestError};
use super::context::{ContextError, ResolvedContext};
use super::deletion::delete_and_wait;
use super::discovery::Discovery;
use super::event::{Action, Event, FieldConflict, Reporter};
use super::hook_run::{phases_for, HookRunner};
use super::hooks::Phase;
use super::live::{find, LiveSet};
use super::plan::{ApplyPlan, PlannedObject, Stage, StageKind, StageRelease};
use super::prune::{candidates, Candidate};
use super::readiness::is_waited_for;
use super::resource::Resource;
use super::wait::{is_terminating, wait_gone, wait_ready, GoneTarget, NotReady, WaitTarget};
use crate::render::ownership::PART_OF_LABEL;
use crate::render::Redactor;

/// How a run applies.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `dryRun=All` on every write: the server validates and computes, stores nothing.
    pub dry_run: bool,
    /// Take over fields other managers own.
    pub force_conflicts: bool,
    /// Wait for workloads to become ready between stages.
    pub wait: bool,
    /// How long one stage may take to become ready.
    pub timeout: Duration,
    /// Skip objects whose live applied-hash matches (the no-op fast path).
    pub skip_unchanged: bool,
    /// Delete members no longer desired, once everything applied.
    pub prune: bool,
    /// Let pruning delete PVCs, PVs and namespaces holding PVCs.
    pub allow_data_loss: bool,
    /// Set from outside (SIGINT/SIGTERM) to stop at the next object boundary.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Run the releases' `pre-delete` hooks before pruning and their `post-delete` hooks
    /// once workloads and configuration are deleted, before namespaces and CRDs go (so
    /// the hook still has its namespace): what `destroy` asks for.
    pub delete_hooks: bool,
    /// Take over objects Helm installed ([`super::adopt`]); without it they are refused.
    pub adopt: bool,
    /// Once everything applied, delete the adopted Helm releases' Secrets.
    pub forget_helm_release: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            dry_run: false,
            force_conflicts: false,
            wait: true,
            timeout: Duration::from_secs(300),
            skip_unchanged: true,
            prune: true,
            allow_data_loss: false,
            cancel: None,
            delete_hooks: false,
            adopt: false,
            forget_helm_release: false,
        }
    }
}

/// A connected cluster: one client (one connection pool) and the run's discovery cache.
pub struct Cluster {
    pub context: String,
    pub client: ApiClient,
    pub discovery: Discovery,
}

impl Cluster {
    /// Connects through `context` with at most `concurrency` requests in flight.
    pub async fn connect(
        context: &ResolvedContext,
        concurrency: usize,
    ) -> Result<Cluster, ContextError> {
        let client = ApiClient::new(context.client().await?, concurrency);
        Ok(Cluster {
            context: context.context.clone(),
            discovery: Discovery::new(client.clone()),
            client,
        })
    }

    /// Maps an object to its resource: discovery, or (when the server does not serve
    /// it yet) the CRD of the plan that defines it, flagged `false` for "not served".
    pub async fn resource_of(
        &self,
        plan: &ApplyPlan,
        object: &PlannedObject,
    ) -> Result<(Resource, bool), String> {
        match self
            .discovery
            .resolve(object.api_version(), object.kind())
            .await
        {
            Ok(r) => Ok((r, true)),
            Err(e) => match plan.crd_resource(object) {
                Some(r) => Ok((r, false)),
                None => Err(e.to_string()),
            },
        }
    }
}

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

/// Applies `plan` to `cluster`, reporting each step to `reporter`: widen the ApplySet
/// parent, apply the stages, then (only when all of that succeeded) prune and narrow
/// the parent. The caller reports the end ([`finished`]) once it has sent its last
/// request (the lock's release), so the count it gives is complete.
pub async fn apply(
    cluster: &Cluster,
    plan: &ApplyPlan,
    options: &ApplyOptions,
    redactor: &Redactor,
    reporter: &dyn Reporter,
) -> ApplyReport {
    let started = Instant::now();
    let mut runner = Runner {
        cluster,
        plan,
        options,
        redactor,
        reporter,
        live: LiveSet::new(&plan.applyset_id),
        adoption: Adoption::default(),
    };
    reporter.event(&Event::Started {
        environment: plan.environment.clone(),
        context: cluster.context.clone(),
        stages: plan.stages.len(),
        objects: plan.objects.len(),
        dry_run: options.dry_run,
    });
    let mut report = ApplyReport {
        status: vec![ObjectStatus::NotStarted; plan.objects.len()],
        not_ready: Vec::new(),
        ok: true,
        cancelled: false,
        pruned: Vec::new(),
        prune_failed: Vec::new(),
        helm: HelmReport::default(),
        error: None,
        hook_failed: None,
        requests: 0,
        elapsed: Duration::ZERO,
    };
    let parent = Parent::new(&plan.environment, &plan.applyset_id);
    let desired = Membership {
        group_kinds: plan.group_kinds(),
        namespaces: plan.namespaces(),
    };
    let adoption = find_adoptions(cluster, plan, &runner.live, options.adopt).await;
    let widened = match adoption {
        Ok(adoption) => {
            report.helm = HelmReport::of(&adoption);
            runner.adoption = adoption;
            runner.widen_parent(&parent, &desired).await
        }
        Err(message) => Err(message),
    };
    let widened = match widened {
        Ok(w) => Some(w),
        Err(message) => {
            runner.fail_run(&mut report, message);
            None
        }
    };
    if let Some(widened) = widened {
        runner.apply_stages(&mut report).await;
        if report.ok && options.prune && options.delete_hooks {
            if let Err(message) = runner.delete_hooks(Phase::PreDelete).await {
                runner.fail_run(&mut report, message);
            }
        }
        if report.ok && options.prune {
            runner.prune(&mut report, &parent, &desired, &widened).await;
        }
        if report.ok && options.forget_helm_release {
            runner.forget_helm(&mut report).await;
        }
    }
    report.elapsed = started.elapsed();
    report
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

/// [`Candidate::order`] of namespaces: post-delete hooks run before this rank.
const NAMESPACE_RANK: u8 = 2;

struct Runner<'a> {
    cluster: &'a Cluster,
    plan: &'a ApplyPlan,
    options: &'a ApplyOptions,
    redactor: &'a Redactor,
    reporter: &'a dyn Reporter,
    live: LiveSet,
    adoption: Adoption,
}

type Applied = (usize, ObjectStatus, Option<Resource>);

impl Runner<'_> {
    fn fail_run(&self, report: &mut ApplyReport, message: String) {
        let message = self.redactor.redact(&message);
        self.reporter.event(&Event::Error {
            message: message.clone(),
        });
        report.ok = false;
        report.error = Some(message);
    }

    fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Records old ∪ desired on the parent before anything is applied, so a run that
    /// stops half-way still leaves the parent pointing at every member.
    async fn widen_parent(
        &self,
        parent: &Parent,
        desired: &Membership,
    ) -> Result<Membership, String> {
        let old = parent
            .read(&self.cluster.client)
            .await
            .map_err(|e| e.to_string())?;
        let widened = old.union(desired);
        if widened != old && !self.options.dry_run {
            parent
                .write(&self.cluster.client, &widened, false)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(widened)
    }

    async fn apply_stages(&self, report: &mut ApplyReport) {
        for (index, stage) in self.plan.stages.iter().enumerate() {
            if self.cancelled() {
                report.cancelled = true;
                report.ok = false;
                return;
            }
            self.reporter.event(&Event::StageStarted {
                index,
                kind: stage.kind,
                label: stage.label.clone(),
                objects: stage.len(),
            });
            let hooked = match self.hooks_before(stage).await {
                Ok(hooked) => hooked,
                Err((release, message)) => {
                    report.hook_failed = Some(release);
                    return self.fail_run(report, message);
                }
            };
            let results =
                futures::future::join_all(stage.releases.iter().map(|r| self.apply_release(r)))
                    .await;
            let mut resources = Vec::new();
            for (i, s, resource) in results.into_iter().flatten() {
                let changed = matches!(
                    s,
                    ObjectStatus::Applied(Action::Created | Action::Configured)
                );
                report.status[i] = s;
                if let (Some(r), true) = (resource, changed) {
                    resources.push((i, r));
                }
            }
            let failed = stage
                .objects()
                .filter(|&i| {
                    matches!(
                        report.status[i],
                        ObjectStatus::Failed(_) | ObjectStatus::Conflict(_)
                    )
                })
                .count();
            let applied = stage
                .objects()
                .filter(|&i| matches!(report.status[i], ObjectStatus::Applied(_)))
                .count();
            let stopped = stage
                .objects()
                .any(|i| report.status[i] == ObjectStatus::NotStarted);
            let mut stage_not_ready = Vec::new();
            if failed == 0
                && !stopped
                && !self.options.dry_run
                && (self.options.wait || stage.kind == StageKind::Crds)
            {
                stage_not_ready = self.wait_stage(index, stage, &resources).await;
            }
            self.reporter.event(&Event::StageFinished {
                index,
                applied,
                failed,
                not_ready: stage_not_ready.len(),
            });
            let stop = failed > 0 || stopped || !stage_not_ready.is_empty() || self.cancelled();
            report.not_ready.extend(stage_not_ready);
            if stop {
                report.cancelled = self.cancelled();
                report.ok = false;
                return;
            }
            if let Err(message) = self.hooks_after(&hooked).await {
                return self.fail_run(report, message);
            }
        }
    }

    /// Runs the pre-install/pre-upgrade hooks of the stage's releases (concurrently
    /// across releases); the releases with their post phase, for [`Self::hooks_after`],
    /// or the first release whose hook failed and why.
    async fn hooks_before(&self, stage: &Stage) -> Result<Vec<(String, Phase)>, (String, String)> {
        let hooks = self.hook_runner();
        let runs = stage.releases.iter().map(|r| async {
            let Some((pre, post)) = phases_for(self.cluster, self.plan, &self.live, r).await else {
                return Ok(None);
            };
            hooks
                .run(&r.release, pre)
                .await
                .map_err(|m| (r.release.clone(), m))?;
            Ok::<_, (String, String)>(Some((r.release.clone(), post)))
        });
        let mut hooked = Vec::new();
        for run in futures::future::join_all(runs).await {
            hooked.extend(run?);
        }
        Ok(hooked)
    }

    /// Runs the post-install/post-upgrade hooks once the stage is applied and ready.
    async fn hooks_after(&self, hooked: &[(String, Phase)]) -> Result<(), String> {
        let hooks = self.hook_runner();
        let runs = hooked
            .iter()
            .map(|(release, post)| hooks.run(release, *post));
        for run in futures::future::join_all(runs).await {
            run?;
        }
        Ok(())
    }

    /// Runs every release's hooks of a delete `phase`, releases in reverse apply order
    /// (dependents first, as they are deleted first).
    async fn delete_hooks(&self, phase: Phase) -> Result<(), String> {
        let hooks = self.hook_runner();
        for release in hooks.releases_with(phase).into_iter().rev() {
            hooks.run(&release, phase).await?;
        }
        Ok(())
    }

    fn hook_runner(&self) -> HookRunner<'_> {
        HookRunner {
            cluster: self.cluster,
            plan: self.plan,
            timeout: self.options.timeout,
            dry_run: self.options.dry_run,
            redactor: self.redactor,
            reporter: self.reporter,
        }
    }

    /// Deletes what is no longer desired (reverse apply order), then narrows the parent.
    async fn prune(
        &self,
        report: &mut ApplyReport,
        parent: &Parent,
        desired: &Membership,
        widened: &Membership,
    ) {
        let client = &self.cluster.client;
        let found = candidates(
            client,
            &self.cluster.discovery,
            &self.live,
            self.plan,
            &widened.group_kinds,
            self.options.allow_data_loss,
        )
        .await;
        let found = match found {
            Ok(c) => c,
            Err(e) => return self.fail_run(report, e.to_string()),
        };
        let mut order = found.iter().map(Candidate::order).collect::<Vec<_>>();
        order.dedup();
        let mut post_delete = self.options.delete_hooks;
        for rank in order {
            if post_delete && rank >= NAMESPACE_RANK {
                post_delete = false;
                if let Err(message) = self.delete_hooks(Phase::PostDelete).await {
                    return self.fail_run(report, message);
                }
            }
            if self.cancelled() {
                report.cancelled = true;
                report.ok = false;
                return;
            }
            let batch: Vec<&Candidate> = found.iter().filter(|c| c.order() == rank).collect();
            let selector = format!("{PART_OF_LABEL}={}", self.plan.applyset_id);
            let results = delete_and_wait(
                client,
                &batch,
                self.options.dry_run,
                self.options.timeout,
                &selector,
                || self.cancelled(),
            )
            .await;
            for (c, result) in batch.into_iter().zip(results) {
                match (&c.kept, result) {
                    (Some(reason), _) => self.reporter.event(&Event::PruneKept {
                        object: c.describe(),
                        reason: reason.clone(),
                    }),
                    (None, Ok(())) => self.reporter.event(&Event::Pruned {
                        object: c.describe(),
                        dry_run: self.options.dry_run,
                    }),
                    (None, Err(e)) => {
                        let message = self.redactor.redact(&e);
                        self.reporter.event(&Event::PruneFailed {
                            object: c.describe(),
                            message: message.clone(),
                        });
                        report.prune_failed.push((c.clone(), message));
                    }
                }
            }
        }
        if post_delete {
            if let Err(message) = self.delete_hooks(Phase::PostDelete).await {
                report.pruned = found;
                return self.fail_run(report, message);
            }
        }
        let failed = !report.prune_failed.is_empty();
        report.pruned = found;
        if failed {
            report.ok = false;
            return;
        }
        if self.options.dry_run || self.plan.partial {
            return;
        }
        // Members kept by the guard stay members.
        let mut narrowed = desired.clone();
        for c in report.pruned.iter().filter(|c| c.kept.is_some()) {
            narrowed.group_kinds.insert(c.resource.group_kind());
            if let Some(ns) = &c.namespace {
                narrowed.namespaces.insert(ns.clone());
            }
        }
        if &narrowed != widened {
            if let Err(e) = parent.write(client, &narrowed, false).await {
                self.fail_run(report, e.to_string());
            }
        }
    }

    /// One release's phases in order; a phase with a failure ends the release.
    async fn apply_release(&self, release: &StageRelease) -> Vec<Applied> {
        let mut out = Vec::new();
        for phase in &release.phases {
            let results =
                futures::future::join_all(phase.iter().map(|&i| self.apply_object(i))).await;
            let failed = results
                .iter()
                .any(|(_, s, _)| !matches!(s, ObjectStatus::Applied(_)));
            out.extend(results);
            if failed {
                break;
            }
        }
        out
    }

    async fn apply_object(&self, index: usize) -> Applied {
        let object = &self.plan.objects[index];
        if self.cancelled() {
            return (index, ObjectStatus::NotStarted, None);
        }
        let (status, resource) = self.apply_one(index).await;
        let event = match &status {
            ObjectStatus::Applied(action) => Event::Applied {
                object: object.describe(),
                release: object.release.clone(),
                action: *action,
                dry_run: self.options.dry_run,
            },
            ObjectStatus::Conflict(conflicts) => Event::Conflict {
                object: object.describe(),
                release: object.release.clone(),
                conflicts: conflicts.clone(),
            },
            ObjectStatus::Failed(message) => Event::Failed {
                object: object.describe(),
                release: object.release.clone(),
                source: object.source.clone(),
                message: message.clone(),
            },
            ObjectStatus::NotStarted => return (index, status, resource),
        };
        self.reporter.event(&event);
        (index, status, resource)
    }

    async fn apply_one(&self, index: usize) -> (ObjectStatus, Option<Resource>) {
        let object = &self.plan.objects[index];
        let (resource, served) = match self.cluster.resource_of(self.plan, object).await {
            Ok(r) => r,
            Err(message) => return (ObjectStatus::Failed(self.redactor.redact(&message)), None),
        };
        if !served {
            if self.options.dry_run {
                return (ObjectStatus::Applied(Action::Created), None);
            }
            return (
                ObjectStatus::Failed(format!(
                    "the server does not serve {} although its CustomResourceDefinition was applied",
                    resource.group_kind()
                )),
                None,
            );
        }
        let member = self.member(object, &resource).await;
        if member.as_ref().is_some_and(is_terminating) {
            if self.options.dry_run {
                return (ObjectStatus::Applied(Action::Created), Some(resource));
            }
            if let Err(why) = self.await_deletion(object, &resource).await {
                return (ObjectStatus::Failed(why), Some(resource));
            }
        } else if self.options.skip_unchanged && unchanged(object, member.as_ref()) {
            return (ObjectStatus::Applied(Action::Unchanged), Some(resource));
        }
        let path = resource.object_path(object.namespace(), object.name());
        let body = body_for(object, &resource);
        if self.adoption.owned.contains_key(&index) {
            return (self.adopt(index, &path, &body).await, Some(resource));
        }
        let params = ApplyParams {
            dry_run: self.options.dry_run,
            force: self.options.force_conflicts,
        };
        let status = match self.cluster.client.apply(&path, &body, params).await {
            Ok((created, _)) => ObjectStatus::Applied(if created {
                Action::Created
            } else {
                Action::Configured
            }),
            Err(e) => match field_conflicts(&e) {
                Some(conflicts) => ObjectStatus::Conflict(conflicts),
                None if self.options.dry_run
                    && e.is_not_found()
                    && namespace_in_plan(self.plan, object.namespace()) =>
                {
                    ObjectStatus::Applied(Action::Created)
                }
                None => ObjectStatus::Failed(self.redactor.redact(&e.to_string())),
            },
        };
        (status, Some(resource))
    }

    /// The object as a live member of the set (one LIST per group-kind per run answers
    /// this for every object of the kind); `None` when it is not one or cannot be read.
    async fn member(&self, object: &PlannedObject, resource: &Resource) -> Option<Value> {
        let members = self
            .live
            .members(&self.cluster.client, resource)
            .await
            .ok()?;
        let namespace = object.namespace().filter(|_| resource.namespaced);
        find(&members, namespace, object.name()).cloned()
    }

    /// Waits until a member the server is deleting has gone, so that applying creates
    /// it anew rather than patching an object about to disappear.
    async fn await_deletion(
        &self,
        object: &PlannedObject,
        resource: &Resource,
    ) -> Result<(), String> {
        let target = GoneTarget {
            id: 0,
            resource: resource.clone(),
            namespace: object
                .namespace()
                .filter(|_| resource.namespaced)
                .map(str::to_string),
            name: object.name().to_string(),
        };
        let selector = format!("{PART_OF_LABEL}={}", self.plan.applyset_id);
        let still = wait_gone(
            &self.cluster.client,
            &[target],
            &selector,
            self.options.timeout,
            || self.cancelled(),
        )
        .await;
        match still.first() {
            None => Ok(()),
            Some((_, why)) => Err(format!(
                "it is being deleted and was still there after {:?} ({why}); apply again once it is gone",
                self.options.timeout
            )),
        }
    }

    /// Applies an object Helm installed: refused without `--adopt`, else taken over.
    async fn adopt(&self, index: usize, path: &str, body: &Value) -> ObjectStatus {
        if !self.options.adopt {
            return ObjectStatus::Failed(self.adoption.refusal(index).unwrap_or_default());
        }
        match take_over(&self.cluster.client, path, body, self.options.dry_run).await {
            Ok(_) => ObjectStatus::Applied(Action::Adopted),
            Err(TakeOverError::Conflicts(conflicts)) => ObjectStatus::Conflict(conflicts),
            Err(TakeOverError::Request(e)) => {
                ObjectStatus::Failed(self.redactor.redact(&e.to_string()))
            }
        }
    }

    /// Deletes the adopted Helm releases' Secrets (`--forget-helm-release`).
    async fn forget_helm(&self, report: &mut ApplyReport) {
        let releases = &self.adoption.releases;
        match forget_releases(&self.cluster.client, releases, self.options.dry_run).await {
            Ok(forgotten) => report.helm.forgotten = forgotten,
            Err(message) => self.fail_run(report, message),
        }
    }

    /// Waits for what this stage must have ready before the next starts.
    async fn wait_stage(
        &self,
        index: usize,
        stage: &Stage,
        resources: &[(usize, Resource)],
    ) -> Vec<NotReady> {
        let targets: Vec<WaitTarget> = resources
            .iter()
            .filter(|(_, r)| is_waited_for(&r.group, &r.kind))
            .map(|(i, r)| WaitTarget {
                id: *i,
                resource: r.clone(),
                namespace: self.plan.objects[*i]
                    .namespace()
                    .map(str::to_string)
                    .filter(|_| r.namespaced),
                name: self.plan.objects[*i].name().to_string(),
            })
            .collect();
        if targets.is_empty() {
            return Vec::new();
        }
        self.reporter.event(&Event::Waiting {
            index,
            objects: targets.len(),
        });
        let selector = format!("{PART_OF_LABEL}={}", self.plan.applyset_id);
        let not_ready = wait_ready(
            &self.cluster.client,
            &targets,
            &selector,
            self.options.timeout,
            |i| {
                self.reporter.event(&Event::Ready {
                    object: self.plan.objects[i].describe(),
                })
            },
            || self.cancelled(),
        )
        .await;
        for n in &not_ready {
            let object = &self.plan.objects[n.id];
            self.reporter.event(&Event::NotReady {
                object: object.describe(),
                release: object.release.clone(),
                reason: self.redactor.redact(&n.reason),
                events: n.events.iter().map(|e| self.redactor.redact(e)).collect(),
            });
        }
        if stage.kind == StageKind::Crds {
            for i in stage.objects() {
                for api_version in served_versions(&self.plan.objects[i].body) {
                    self.cluster.discovery.forget(&api_version);
                }
            }
        }
        not_ready
    }
}

/// Whether the live member carries the object's applied-hash.
fn unchanged(object: &PlannedObject, live: Option<&Value>) -> bool {
    let Some(hash) = object.applied_hash() else {
        return false;
    };
    live.and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(super::plan::APPLIED_HASH_ANNOTATION))
        .and_then(Value::as_str)
        == Some(hash)
}

/// The body to send: a cluster-scoped object loses any namespace a render gave it.
fn body_for(object: &PlannedObject, resource: &Resource) -> Value {
    let mut body = object.body.clone();
    if !resource.namespaced {
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
    }
    body
}

fn namespace_in_plan(plan: &ApplyPlan, namespace: Option<&str>) -> bool {
    let Some(ns) = namespace else { return false };
    plan.objects
        .iter()
        .any(|o| o.kind() == "Namespace" && o.group().is_empty() && o.name() == ns)
}

/// `group/version` for each version a CRD serves.
fn served_versions(crd: &Value) -> Vec<String> {
    let Some(group) = crd.pointer("/spec/group").and_then(Value::as_str) else {
        return Vec::new();
    };
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .map(|v| format!("{group}/{v}"))
        .collect()
}

/// The conflicts of a 409 from server-side apply, one per field and manager.
pub(crate) fn field_conflicts(error: &RequestError) -> Option<Vec<FieldConflict>> {
    let RequestError::Api {
        code: 409, causes, ..
    } = error
    else {
        return None;
    };
    let conflicts: Vec<FieldConflict> = causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c: &Cause| FieldConflict {
            field: c.field.clone(),
            manager: manager_of(&c.message),
        })
        .collect();
    (!conflicts.is_empty()).then_some(conflicts)
}

/// `conflict with "kubectl-edit" using apps/v1` → `kubectl-edit`.
fn manager_of(message: &str) -> String {
    let rest = message.strip_prefix("conflict with ").unwrap_or(message);
    if let Some(quoted) = rest.strip_prefix('"') {
        if let Some((name, _)) = quoted.split_once('"') {
            return name.to_string();
        }
    }
    rest.split(" using ")
        .next()
        .unwrap_or(rest)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_from_conflict_messages() {
        assert_eq!(
            manager_of("conflict with \"kubectl-edit\" using apps/v1"),
            "kubectl-edit"
        );
        assert_eq!(manager_of("conflict with \"other\""), "other");
        assert_eq!(manager_of("conflict with helm using v1"), "helm");
    }

    #[test]
    fn conflicts_only_from_409() {
        let e = RequestError::Api {
            code: 409,
            reason: "Conflict".into(),
            message: "Apply failed with 1 conflict".into(),
            causes: vec![Cause {
                reason: "FieldManagerConflict".into(),
                message: "conflict with \"other\"".into(),
                field: ".data.key".into(),
            }],
        };
        assert_eq!(
            field_conflicts(&e),
            Some(vec![FieldConflict {
                field: ".data.key".into(),
                manager: "other".into()
            }])
        );
        assert_eq!(field_conflicts(&RequestError::Transport("x".into())), None);
    }
}
