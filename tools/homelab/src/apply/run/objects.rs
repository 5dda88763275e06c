//! Applying one release's objects: the fast path for unchanged ones, server-side apply
//! with conflicts reported per field, waiting out a terminating object, adoption of
//! Helm's objects.

use super::*;

impl Runner<'_> {
    /// One release's phases in order; a phase with a failure ends the release.
    pub(super) async fn apply_release(&self, release: &StageRelease) -> Vec<Applied> {
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

    pub(super) async fn apply_object(&self, index: usize) -> Applied {
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

    pub(super) async fn apply_one(&self, index: usize) -> (ObjectStatus, Option<Resource>) {
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
    pub(super) async fn member(
        &self,
        object: &PlannedObject,
        resource: &Resource,
    ) -> Option<Value> {
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
    pub(super) async fn await_deletion(
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
    pub(super) async fn adopt(&self, index: usize, path: &str, body: &Value) -> ObjectStatus {
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
    pub(super) async fn forget_helm(&self, report: &mut ApplyReport) {
        let releases = &self.adoption.releases;
        match forget_releases(&self.cluster.client, releases, self.options.dry_run).await {
            Ok(forgotten) => report.helm.forgotten = forgotten,
            Err(message) => self.fail_run(report, message),
        }
    }
}

/// Whether the live member carries the object's applied-hash.
pub(super) fn unchanged(object: &PlannedObject, live: Option<&Value>) -> bool {
    let Some(hash) = object.applied_hash() else {
        return false;
    };
    live.and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(super::super::plan::APPLIED_HASH_ANNOTATION))
        .and_then(Value::as_str)
        == Some(hash)
}

/// The body to send: a cluster-scoped object loses any namespace a render gave it.
pub(super) fn body_for(object: &PlannedObject, resource: &Resource) -> Value {
    let mut body = object.body.clone();
    if !resource.namespaced {
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
    }
    body
}

pub(super) fn namespace_in_plan(plan: &ApplyPlan, namespace: Option<&str>) -> bool {
    let Some(ns) = namespace else { return false };
    plan.objects
        .iter()
        .any(|o| o.kind() == "Namespace" && o.group().is_empty() && o.name() == ns)
}
