//! What pruning and `destroy` keep whatever the flags: objects that ask to be kept the
//! way Helm lets them (`helm.sh/resource-policy: keep`), and namespaces the environment
//! still uses.
//!
//! A namespace belongs to the environment, not to the release that happens to render
//! its Namespace object (the first one in apply order that uses it): deleting it
//! deletes everything inside, so it goes only when no other release of the
//! environment renders into it and nothing that stays lives in it.
//!
//! # Guarantees
//! - A member annotated `helm.sh/resource-policy: keep` (compared as Helm does: trimmed,
//!   case-insensitive) is never deleted, `--allow-data-loss` included.
//! - A namespace is kept while a release the run does not delete renders into it, while
//!   a member that is not deleted lives in it, or while a kept member lives in it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Helm's annotation for objects `helm uninstall` and upgrades leave in place.
pub(crate) const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";

/// Why `object` is kept by its own resource policy, if it is.
pub(crate) fn kept_by_policy(object: &Value) -> Option<String> {
    let policy = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(RESOURCE_POLICY_ANNOTATION))
        .and_then(Value::as_str)?;
    policy.trim().eq_ignore_ascii_case("keep").then(|| {
        format!(
            "it carries {RESOURCE_POLICY_ANNOTATION}: keep, so it outlives its release as with Helm; delete it by hand when it is no longer wanted"
        )
    })
}

/// Who still uses each namespace after the run: releases that render into it or keep
/// members there, and members kept there.
#[derive(Debug, Default)]
pub(crate) struct NamespaceUse {
    releases: BTreeMap<String, BTreeSet<String>>,
    kept: BTreeMap<String, BTreeSet<String>>,
}

impl NamespaceUse {
    /// `release` renders into `namespace`, or has a member there that stays.
    pub(crate) fn release_stays(&mut self, namespace: &str, release: &str) {
        self.releases
            .entry(namespace.to_string())
            .or_default()
            .insert(release.to_string());
    }

    /// The member `what` in `namespace` is kept.
    pub(crate) fn member_kept(&mut self, namespace: &str, what: &str) {
        self.kept
            .entry(namespace.to_string())
            .or_default()
            .insert(what.to_string());
    }

    /// Why the namespace `name` must stay, if it must.
    pub(crate) fn why_kept(&self, name: &str) -> Option<String> {
        if let Some(releases) = self.releases.get(name).filter(|r| !r.is_empty()) {
            let names: Vec<&str> = releases.iter().map(String::as_str).collect();
            return Some(format!(
                "release(s) {} of the environment still use it",
                names.join(", ")
            ));
        }
        let kept = self.kept.get(name).filter(|k| !k.is_empty())?;
        let shown: Vec<&str> = kept.iter().take(3).map(String::as_str).collect();
        Some(format!(
            "it holds kept object(s) ({}); deleting it would delete them too",
            shown.join(", ")
        ))
    }
}

/// The namespaces that releases of `env` other than `selected` render into: a `-l` run
/// must not delete them even when those releases have nothing on the cluster yet.
pub(crate) fn namespaces_of_other_releases(
    lab: &crate::Lab,
    env: &str,
    selected: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if selected.is_empty() {
        return out;
    }
    for r in lab
        .releases_in(env)
        .filter(|r| !selected.contains(r.name()))
    {
        out.entry(r.release().namespace.clone())
            .or_default()
            .insert(r.name().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keep_is_read_as_helm_reads_it() {
        let with = |v: &str| json!({"metadata": {"annotations": {RESOURCE_POLICY_ANNOTATION: v}}});
        assert!(kept_by_policy(&with("keep")).is_some());
        assert!(kept_by_policy(&with(" Keep ")).is_some());
        assert!(kept_by_policy(&with("delete")).is_none());
        assert!(kept_by_policy(&json!({"metadata": {"annotations": null}})).is_none());
        assert!(kept_by_policy(&json!({"metadata": {}})).is_none());
    }

    #[test]
    fn a_namespace_stays_while_a_release_or_a_kept_member_is_in_it() {
        let mut uses = NamespaceUse::default();
        assert_eq!(uses.why_kept("monitoring"), None);
        uses.member_kept("data", "PersistentVolumeClaim/data/db");
        assert!(uses
            .why_kept("data")
            .is_some_and(|w| w.contains("PersistentVolumeClaim/data/db")));
        uses.release_stays("monitoring", "prometheus");
        uses.release_stays("monitoring", "grafana");
        assert_eq!(
            uses.why_kept("monitoring").as_deref(),
            Some("release(s) grafana, prometheus of the environment still use it")
        );
    }
}
