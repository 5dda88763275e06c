//! Is an object ready? Pure checks on the live object, the way `kubectl rollout
//! status` and `kubectl wait` decide: Deployment, StatefulSet and DaemonSet rollouts
//! (observedGeneration, then updated and available counts), Job completion, CRD
//! Established. Anything else is ready once applied.

use serde_json::Value;

/// Where an object stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readiness {
    Ready,
    /// Still progressing; the text says what is missing.
    Pending(String),
    /// Will not become ready without a change (a failed Job, a rollout past its
    /// progress deadline, CRD names in conflict).
    Failed(String),
}

/// Whether objects of this group and kind are waited for at all.
pub(crate) fn is_waited_for(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet")
            | ("batch", "Job")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
    )
}

fn int(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn condition_is(obj: &Value, kind: &str, status: &str) -> bool {
    condition(obj, kind)
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        == Some(status)
}

/// `reason: message` of a condition.
fn explain(c: &Value) -> String {
    let reason = c.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = c.get("message").and_then(Value::as_str).unwrap_or("");
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        _ => message.to_string(),
    }
}

/// Conditions that are not `True`, explained, for a pending object's report.
fn unmet_conditions(obj: &Value) -> String {
    let Some(conditions) = obj.pointer("/status/conditions").and_then(Value::as_array) else {
        return String::new();
    };
    let parts: Vec<String> = conditions
        .iter()
        .filter(|c| c.get("status").and_then(Value::as_str) != Some("True"))
        .map(|c| {
            format!(
                "{}={} ({})",
                c.get("type").and_then(Value::as_str).unwrap_or("?"),
                c.get("status").and_then(Value::as_str).unwrap_or("?"),
                explain(c)
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

fn generation_observed(obj: &Value) -> Option<Readiness> {
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    (observed < generation).then(|| {
        Readiness::Pending(format!(
            "the controller has not observed generation {generation} yet (observed {observed})"
        ))
    })
}

/// The readiness of `obj` (a live object of `group`/`kind`).
pub(crate) fn readiness(group: &str, kind: &str, obj: &Value) -> Readiness {
    match (group, kind) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps", "DaemonSet") => daemonset(obj),
        ("batch", "Job") => job(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        _ => Readiness::Ready,
    }
}

fn deployment(obj: &Value) -> Readiness {
    if let Some(p) = generation_observed(obj) {
        return p;
    }
    if let Some(c) = condition(obj, "Progressing") {
        if c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded") {
            return Readiness::Failed(format!("rollout failed: {}", explain(c)));
        }
    }
    let want = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = int(obj, "/status/updatedReplicas");
    let available = int(obj, "/status/availableReplicas");
    let total = int(obj, "/status/replicas");
    if updated < want {
        return Readiness::Pending(format!(
            "{updated} of {want} replicas updated{}",
            unmet_conditions(obj)
        ));
    }
    if total > updated {
        return Readiness::Pending(format!(
            "{} old replicas pending termination{}",
            total - updated,
            unmet_conditions(obj)
        ));
    }
    if available < want {
        return Readiness::Pending(format!(
            "{available} of {want} updated replicas available{}",
            unmet_conditions(obj)
        ));
    }
    Readiness::Ready
}

fn statefulset(obj: &Value) -> Readiness {
    if let Some(p) = generation_observed(obj) {
        return p;
    }
    let want = obj
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let ready = int(obj, "/status/readyReplicas");
    if ready < want {
        return Readiness::Pending(format!(
            "{ready} of {want} replicas ready{}",
            unmet_conditions(obj)
        ));
    }
    let on_delete = obj
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete");
    if !on_delete {
        let updated = int(obj, "/status/updatedReplicas");
        if updated < want {
            return Readiness::Pending(format!("{updated} of {want} replicas updated"));
        }
        let current = obj.pointer("/status/currentRevision");
        let update = obj.pointer("/status/updateRevision");
        if update.is_some() && current != update {
            return Readiness::Pending("the rolling update has not finished".into());
        }
    }
    Readiness::Ready
}

fn daemonset(obj: &Value) -> Readiness {
    if let Some(p) = generation_observed(obj) {
        return p;
    }
    let desired = int(obj, "/status/desiredNumberScheduled");
    let updated = int(obj, "/status/updatedNumberScheduled");
    let available = int(obj, "/status/numberAvailable");
    if updated < desired {
        return Readiness::Pending(format!("{updated} of {desired} pods updated"));
    }
    if available < desired {
        return Readiness::Pending(format!(
            "{available} of {desired} updated pods available{}",
            unmet_conditions(obj)
        ));
    }
    Readiness::Ready
}

fn job(obj: &Value) -> Readiness {
    if condition_is(obj, "Complete", "True") {
        return Readiness::Ready;
    }
    if condition_is(obj, "Failed", "True") {
        let why = condition(obj, "Failed").map(explain).unwrap_or_default();
        return Readiness::Failed(format!("the Job failed: {why}"));
    }
    let succeeded = int(obj, "/status/succeeded");
    let completions = obj
        .pointer("/spec/completions")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    Readiness::Pending(format!(
        "{succeeded} of {completions} completions{}",
        unmet_conditions(obj)
    ))
}

fn crd(obj: &Value) -> Readiness {
    if condition_is(obj, "Established", "True") {
        return Readiness::Ready;
    }
    if condition_is(obj, "NamesAccepted", "False") {
        let why = condition(obj, "NamesAccepted")
            .map(explain)
            .unwrap_or_default();
        return Readiness::Failed(format!("names not accepted: {why}"));
    }
    Readiness::Pending(format!("not Established yet{}", unmet_conditions(obj)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rollout() {
        let mut d = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1}});
        assert!(
            matches!(readiness("apps", "Deployment", &d), Readiness::Pending(m) if m.contains("generation 2"))
        );
        d["status"] = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1});
        assert_eq!(
            readiness("apps", "Deployment", &d),
            Readiness::Pending("1 of 2 updated replicas available".into())
        );
        d["status"]["availableReplicas"] = json!(2);
        assert_eq!(readiness("apps", "Deployment", &d), Readiness::Ready);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False",
            "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet has timed out progressing."}]);
        assert_eq!(
            readiness("apps", "Deployment", &d),
            Readiness::Failed(
                "rollout failed: ProgressDeadlineExceeded: ReplicaSet has timed out progressing."
                    .into()
            )
        );
    }

    #[test]
    fn job_and_crd() {
        let j = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        assert_eq!(
            readiness("batch", "Job", &j),
            Readiness::Failed(
                "the Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"
                    .into()
            )
        );
        let c = json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(
            readiness("apiextensions.k8s.io", "CustomResourceDefinition", &c),
            Readiness::Ready
        );
        assert_eq!(readiness("", "ConfigMap", &json!({})), Readiness::Ready);
    }
}
