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

use std::io::Read as _;
use std::path::Path;

use super::builtin_apis;
use super::object::RenderedObject;
use crate::charts::archive::MAX_UNPACKED_BYTES;
use crate::environment::api_versions;

/// The API versions one round of rendering hands to Helm, sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    versions: Vec<String>,
}

impl Capabilities {
    /// The cluster's built-in APIs plus the environment's `extra` list (already checked
    /// at load; checked again here since it reaches a program).
    pub fn base(kube_version: &str, extra: &[String]) -> Self {
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
    pub fn with_crds<'a>(&self, objects: impl IntoIterator<Item = &'a RenderedObject>) -> Self {
        let mut versions = self.versions.clone();
        for object in objects {
            versions.extend(crd_api_versions(object));
        }
        Capabilities::from(versions)
    }

    pub fn api_versions(&self) -> &[String] {
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

/// `group/version` and `group/version/Kind` for each served version of `object` when it
/// is a CustomResourceDefinition; nothing otherwise.
pub fn crd_api_versions(object: &RenderedObject) -> Vec<String> {
    if object.kind() != "CustomResourceDefinition" || object.group() != "apiextensions.k8s.io" {
        return Vec::new();
    }
    let spec = &object.body["spec"];
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

/// Whether the chart at `path` (a folder or a `.tgz`) may read `.Capabilities.APIVersions`:
/// some file mentions `APIVersions`, or it holds a packed subchart that cannot be read
/// here. Unreadable charts count as consulting, so they are rendered again rather than
/// left with an outdated set.
pub fn chart_consults_api_versions(path: &Path) -> bool {
    if path.is_dir() {
        return folder_mentions(path, 0);
    }
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    let mut tar = Vec::new();
    let read = flate2::read::GzDecoder::new(file)
        .take(MAX_UNPACKED_BYTES * 2)
        .read_to_end(&mut tar);
    read.is_err() || mentions(&tar)
}

fn mentions(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    has(b"APIVersions") || has(b".tgz")
}

fn folder_mentions(dir: &Path, depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true;
    };
    if depth > 16 {
        return true;
    }
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            return true;
        };
        let found = if kind.is_dir() {
            folder_mentions(&path, depth + 1)
        } else {
            std::fs::read(&path).map_or(true, |bytes| {
                mentions(&bytes) || path.extension().is_some_and(|e| e == "tgz")
            })
        };
        if found {
            return true;
        }
    }
    false
}

/// The value as the `--api-versions` option carries it (one value per option).
pub fn option(value: &str) -> String {
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
        assert!(crd_api_versions(&object).is_empty());
        let caps = Capabilities::base("1.34.1", &["--kube-version=0.0.1".into()]);
        assert!(caps.api_versions().iter().all(|v| !v.starts_with('-')));
    }

    #[test]
    fn a_chart_that_reads_api_versions_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/a.yaml"), "kind: A\n").unwrap();
        assert!(!chart_consults_api_versions(dir.path()));
        std::fs::write(
            dir.path().join("templates/b.yaml"),
            "{{ if .Capabilities.APIVersions.Has \"x/v1\" }}{{ end }}",
        )
        .unwrap();
        assert!(chart_consults_api_versions(dir.path()));
        assert!(chart_consults_api_versions(&dir.path().join("missing.tgz")));
    }
}
