//! What `.Capabilities.APIVersions` holds when a chart renders, as on the cluster
//! `helm upgrade --install` would talk to: the group versions the cluster's Kubernetes
//! version serves ([`super::builtin_apis`]), those of every CRD the environment
//! renders, and the environment's own `api_versions` list (what the cluster has that
//! the lab does not install). Helm gets them as `--api-versions` values.
//!
//! # Guarantees
//! - Offline and deterministic: the same files give the same set, sorted.
//! - Only values of the `group/version[/Kind]` grammar are passed on; a CRD naming
//!   anything else contributes nothing (the typed check reports the CRD itself).
//! - A CRD's versions count only when served (`served: false` is left out).

use serde_json::Value;

use super::builtin_apis;
use super::object::RenderedObject;
use crate::environment::api_versions;

/// The API versions one round of rendering hands to Helm, sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Capabilities {
    versions: Vec<String>,
}

impl Capabilities {
    /// The cluster's built-in APIs plus the environment's `extra` list (already checked
    /// at load; checked again here since it reaches a program).
    pub(crate) fn base(kube_version: &str, extra: &[String]) -> Self {
        let mut versions = builtin_apis::served_by(kube_version);
        versions.extend(
            extra
                .iter()
                .filter(|v| api_versions::check(v).is_ok())
                .cloned(),
        );
        Capabilities::from(versions)
    }

    /// These plus the group versions and kinds of the CRDs among `objects`.
    pub(crate) fn with_crds<'a>(
        &self,
        objects: impl IntoIterator<Item = &'a RenderedObject>,
    ) -> Self {
        self.with_crd_bodies(objects.into_iter().map(|o| &o.body))
    }

    /// These plus the group versions and kinds of the CRDs among `bodies`.
    pub(crate) fn with_crd_bodies<'a>(&self, bodies: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut versions = self.versions.clone();
        for body in bodies {
            versions.extend(crd_api_versions(body));
        }
        Capabilities::from(versions)
    }

    pub(crate) fn api_versions(&self) -> &[String] {
        &self.versions
    }
}

impl From<Vec<String>> for Capabilities {
    fn from(mut versions: Vec<String>) -> Self {
        versions.sort();
        versions.dedup();
        Capabilities { versions }
    }
}

/// `group/version` and `group/version/Kind` for each served version of `body` when it
/// is a CustomResourceDefinition; nothing otherwise.
pub(crate) fn crd_api_versions(body: &Value) -> Vec<String> {
    let is_crd = body["kind"] == "CustomResourceDefinition"
        && body["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"));
    if !is_crd {
        return Vec::new();
    }
    let spec = &body["spec"];
    let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str()) else {
        return Vec::new();
    };
    let served = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"].as_bool() != Some(false))
        .filter_map(|v| v["name"].as_str());
    let mut out = Vec::new();
    for version in served {
        for candidate in [
            format!("{group}/{version}"),
            format!("{group}/{version}/{kind}"),
        ] {
            if api_versions::check(&candidate).is_ok() {
                out.push(candidate);
            }
        }
    }
    out
}

/// The value as the `--api-versions` option carries it (one value per option).
pub(crate) fn option(value: &str) -> String {
    format!("--api-versions={value}")
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn crd(body: Value) -> RenderedObject {
        RenderedObject {
            release: "r".into(),
            source: "s".into(),
            body,
        }
    }

    #[test]
    fn served_crd_versions_and_kinds_join_the_set() {
        let object = crd(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
            "spec": {"group": "monitoring.coreos.com", "names": {"kind": "ServiceMonitor"},
                     "versions": [{"name": "v1", "served": true}, {"name": "v1alpha1", "served": false}]}
        }));
        let caps = Capabilities::base("1.34.1", &["example.org/v2".into()]).with_crds([&object]);
        let has = |v: &str| caps.api_versions().iter().any(|x| x == v);
        assert!(has("monitoring.coreos.com/v1"));
        assert!(has("monitoring.coreos.com/v1/ServiceMonitor"));
        assert!(!has("monitoring.coreos.com/v1alpha1"));
        assert!(has("example.org/v2"));
        assert!(has("apps/v1/Deployment"));
    }

    #[test]
    fn values_outside_the_grammar_never_reach_helm() {
        let object = crd(json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "spec": {"group": "--set=x", "names": {"kind": "K"}, "versions": [{"name": "v1"}]}
        }));
        assert!(crd_api_versions(&object.body).is_empty());
        let caps = Capabilities::base("1.34.1", &["--kube-version=0.0.1".into()]);
        assert!(caps.api_versions().iter().all(|v| !v.starts_with('-')));
    }
}
