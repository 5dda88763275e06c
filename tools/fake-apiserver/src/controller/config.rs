//! What the simulated controllers do, set per test: readiness after a delay, objects
//! kept failing ([`FailRule`]), finalizer delays, namespace defaults and Pod logs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Keep objects matching this failing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailRule {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `Pod` or
    /// `CustomResourceDefinition`.
    pub kind: String,
    /// Any namespace when absent.
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
    pub reason: String,
    pub message: String,
    /// Only while a container of the pod template runs this image (any image when
    /// absent): an upgrade fails, the rollback to the old image recovers.
    #[serde(default)]
    pub image: Option<String>,
}

impl FailRule {
    /// A rule with the reason a real controller would give for `kind`.
    pub fn new(kind: &str, name: &str) -> Self {
        let (reason, message) = match kind {
            "Pod" => ("Error", "the container exited with status 1"),
            "Job" => (
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ),
            "CustomResourceDefinition" => ("NameConflict", "the names are already in use"),
            _ => (
                "ProgressDeadlineExceeded",
                "ReplicaSet has timed out progressing.",
            ),
        };
        FailRule {
            kind: kind.to_owned(),
            namespace: None,
            name: name.to_owned(),
            reason: reason.to_owned(),
            message: message.to_owned(),
            image: None,
        }
    }

    pub fn with_image(mut self, image: &str) -> Self {
        self.image = Some(image.to_owned());
        self
    }

    pub fn with_reason(mut self, reason: &str, message: &str) -> Self {
        self.reason = reason.to_owned();
        self.message = message.to_owned();
        self
    }

    pub fn in_namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.to_owned());
        self
    }

    pub(super) fn matches(&self, kind: &str, ns: &str, name: &str, obj: &Value) -> bool {
        let runs = |image: &str| {
            obj.pointer("/spec/template/spec/containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| c["image"] == image)
        };
        self.kind == kind
            && self.name == name
            && self.namespace.as_deref().is_none_or(|n| n == ns)
            && self.image.as_deref().is_none_or(runs)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ControllerConfig {
    pub enabled: bool,
    /// How long after a change (a new generation) the object becomes ready.
    #[serde(with = "crate::faults::millis")]
    pub ready_delay: Duration,
    pub failing: Vec<FailRule>,
    /// Nodes a DaemonSet is scheduled on.
    pub daemonset_nodes: i64,
    /// How long an object marked for deletion stays untouched by the
    /// controllers that remove finalizers (namespace, garbage collector,
    /// PVC protection), so tests can observe Terminating.
    #[serde(with = "crate::faults::millis")]
    pub finalize_delay: Duration,
    /// Whether new namespaces get the `default` ServiceAccount and the
    /// `kube-root-ca.crt` ConfigMap.
    pub namespace_defaults: bool,
    /// What `pods/NAME/log` answers, by Pod name (empty for a Pod not listed).
    pub pod_logs: BTreeMap<String, String>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            enabled: true,
            ready_delay: Duration::ZERO,
            failing: Vec::new(),
            daemonset_nodes: 3,
            finalize_delay: Duration::ZERO,
            namespace_defaults: true,
            pod_logs: BTreeMap::new(),
        }
    }
}
