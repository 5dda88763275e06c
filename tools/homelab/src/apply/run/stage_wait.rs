//! The readiness wait that ends a stage: workloads ready, CRDs Established with the
//! versions the next stages use.

use super::*;

impl Runner<'_> {
    /// Waits for what this stage must have ready before the next starts.
    pub(super) async fn wait_stage(
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

/// `group/version` for each version a CRD serves.
pub(super) fn served_versions(crd: &Value) -> Vec<String> {
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
