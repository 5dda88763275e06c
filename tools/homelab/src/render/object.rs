//! One rendered Kubernetes object with where it came from.

use serde_json::Value;

/// An object of the desired set.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedObject {
    /// The release it belongs to.
    pub release: String,
    /// Where it came from: a chart's `# Source:` template, a manifest file, or the
    /// release.toml entry that asked for it.
    pub source: String,
    /// The object itself, with homelab's labels and the namespace filled in.
    pub body: Value,
}

impl RenderedObject {
    pub fn api_version(&self) -> &str {
        self.body
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.body.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    /// The API group: empty for the core group.
    pub fn group(&self) -> &str {
        group_of(self.api_version())
    }

    pub fn name(&self) -> &str {
        self.body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.body
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    }

    /// `Kind/namespace/name` (or `Kind/name`), as messages print it.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{}/{}", self.kind(), ns, self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }
}

/// The group part of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}
