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
//!
//! The run is one [`Runner`], its methods split by concern: [`objects`] applies a
//! release's objects, [`hooks`] runs the hooks around a stage, [`stage_wait`] waits
//! for readiness, [`pruning`] deletes what is no longer desired; [`options`],
//! [`report`] and [`conflicts`] hold what goes in and comes out. The submodules
//! `use super::*`: they are this file's `impl`, in pieces.

mod conflicts;
mod hooks;
mod objects;
mod options;
mod pruning;
mod report;
mod stage_wait;

pub(crate) use conflicts::field_conflicts;
pub use options::{ApplyOptions, Cluster};
pub(crate) use report::finished;
pub use report::{ApplyReport, ObjectStatus};

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
}
