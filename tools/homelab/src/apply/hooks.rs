//! Helm hooks as the chart declares them: `helm.sh/hook` (phases),
//! `helm.sh/hook-weight` and `helm.sh/hook-delete-policy`, read exactly as Helm 3
//! reads them (`pkg/releaseutil/manifest_sorter.go`), so a chart's hooks mean here
//! what they mean to `helm upgrade --install`.
//!
//! # Guarantees
//! - An object without `helm.sh/hook` is an ordinary object.
//! - The legacy `crd-install` hook (Helm 2) is an ordinary object: its CRD applies in
//!   the CRD stage like any other. Helm 3 skips a hook naming an unknown phase; so
//!   does homelab, with a warning instead of silently.
//! - `test` (and its legacy spelling `test-success`) hooks are never part of what
//!   `apply` applies.
//! - Phases and policies are trimmed and case-insensitive; a weight that is not an
//!   integer counts as 0, as in Helm; no delete policy means `before-hook-creation`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::render::ownership::PART_OF_LABEL;
use crate::render::RenderedObject;

pub(crate) const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub(crate) const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub(crate) const HOOK_DELETE_POLICY_ANNOTATION: &str = "helm.sh/hook-delete-policy";

/// When Helm runs a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Phase {
    PreInstall,
    PostInstall,
    PreUpgrade,
    PostUpgrade,
    PreDelete,
    PostDelete,
    PreRollback,
    PostRollback,
    Test,
}

impl Phase {
    fn parse(text: &str) -> Option<Phase> {
        Some(match text {
            "pre-install" => Phase::PreInstall,
            "post-install" => Phase::PostInstall,
            "pre-upgrade" => Phase::PreUpgrade,
            "post-upgrade" => Phase::PostUpgrade,
            "pre-delete" => Phase::PreDelete,
            "post-delete" => Phase::PostDelete,
            "pre-rollback" => Phase::PreRollback,
            "post-rollback" => Phase::PostRollback,
            "test" | "test-success" => Phase::Test,
            _ => return None,
        })
    }
}

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DeletePolicy {
    /// The previous object of that name is deleted before the hook is created again
    /// (so a Job's immutable template is replaced, never patched).
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

/// An object's hook declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hook {
    pub phases: BTreeSet<Phase>,
    pub weight: i64,
    pub delete_policies: BTreeSet<DeletePolicy>,
}

impl Hook {
    pub(crate) fn runs_in(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    pub(crate) fn deletes(&self, policy: DeletePolicy) -> bool {
        self.delete_policies.contains(&policy)
    }
}

/// What an object is to `apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Applied and owned as a member of the apply set.
    Ordinary,
    /// Run by its phases, never a member.
    Hook(Hook),
    /// Names a phase Helm does not know (the text of the annotation): skipped.
    Unknown(String),
}

/// How `object` takes part in a release, from its annotations.
pub(crate) fn role(object: &Value) -> Role {
    let annotations = object.pointer("/metadata/annotations");
    let text = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
    let Some(declared) = text(HOOK_ANNOTATION) else {
        return Role::Ordinary;
    };
    let names: Vec<String> = declared
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    if names.iter().any(|p| p == "crd-install") {
        return Role::Ordinary;
    }
    let mut phases = BTreeSet::new();
    for name in &names {
        match Phase::parse(name) {
            Some(p) => phases.insert(p),
            None => return Role::Unknown(declared.to_string()),
        };
    }
    let weight = text(HOOK_WEIGHT_ANNOTATION)
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0);
    let mut delete_policies: BTreeSet<DeletePolicy> = text(HOOK_DELETE_POLICY_ANNOTATION)
        .unwrap_or("")
        .split(',')
        .filter_map(|p| match p.trim().to_ascii_lowercase().as_str() {
            "before-hook-creation" => Some(DeletePolicy::BeforeHookCreation),
            "hook-succeeded" => Some(DeletePolicy::HookSucceeded),
            "hook-failed" => Some(DeletePolicy::HookFailed),
            _ => None,
        })
        .collect();
    if delete_policies.is_empty() {
        delete_policies.insert(DeletePolicy::BeforeHookCreation);
    }
    Role::Hook(Hook {
        phases,
        weight,
        delete_policies,
    })
}

/// A hook as it is applied: homelab's labels without the ApplySet `part-of` label,
/// so listing the set's members (for pruning, for the no-op fast path) never sees it.
pub(crate) fn hook_object(object: &RenderedObject) -> RenderedObject {
    let mut hook = object.clone();
    if let Some(labels) = hook
        .body
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(PART_OF_LABEL);
    }
    hook
}

/// Helm's order for the hooks of one phase: weight, then kind in install order, then
/// name.
pub(crate) fn sort_for_phase(hooks: &mut [&RenderedObject]) {
    hooks.sort_by_key(|h| {
        let weight = match role(&h.body) {
            Role::Hook(hook) => hook.weight,
            _ => 0,
        };
        (
            weight,
            crate::render::order::kind_rank(h.kind()),
            h.name().to_string(),
        )
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn annotated(pairs: &[(&str, &str)]) -> Value {
        let annotations: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        json!({"kind": "Job", "metadata": {"name": "j", "annotations": annotations}})
    }

    #[test]
    fn phases_weight_and_policies_are_read_as_helm_reads_them() {
        let job = annotated(&[
            (HOOK_ANNOTATION, " Pre-Install, pre-upgrade"),
            (HOOK_WEIGHT_ANNOTATION, " -5 "),
            (
                HOOK_DELETE_POLICY_ANNOTATION,
                "hook-succeeded, before-hook-creation",
            ),
        ]);
        let Role::Hook(hook) = role(&job) else {
            panic!("a hook: {job}")
        };
        assert!(hook.runs_in(Phase::PreInstall) && hook.runs_in(Phase::PreUpgrade));
        assert!(!hook.runs_in(Phase::PostInstall));
        assert_eq!(hook.weight, -5);
        assert!(hook.deletes(DeletePolicy::HookSucceeded));
        assert!(hook.deletes(DeletePolicy::BeforeHookCreation));
        assert!(!hook.deletes(DeletePolicy::HookFailed));
    }

    #[test]
    fn defaults_and_legacy_names() {
        let Role::Hook(hook) = role(&annotated(&[
            (HOOK_ANNOTATION, "test-success"),
            (HOOK_WEIGHT_ANNOTATION, "heavy"),
        ])) else {
            panic!("a test hook")
        };
        assert!(hook.runs_in(Phase::Test));
        assert_eq!(hook.weight, 0);
        assert_eq!(
            hook.delete_policies,
            BTreeSet::from([DeletePolicy::BeforeHookCreation])
        );
        assert_eq!(
            role(&annotated(&[(HOOK_ANNOTATION, "crd-install")])),
            Role::Ordinary
        );
        assert_eq!(
            role(&annotated(&[(HOOK_ANNOTATION, "pre-install,on-tuesday")])),
            Role::Unknown("pre-install,on-tuesday".into())
        );
        assert_eq!(
            role(&json!({"metadata": {"annotations": null}})),
            Role::Ordinary
        );
        assert_eq!(role(&json!({"metadata": {}})), Role::Ordinary);
    }
}
