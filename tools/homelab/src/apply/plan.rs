//! The apply plan: what to apply, in which stages, in which order — computed from the
//! rendered set and the `needs` graph alone, with no cluster. Execution
//! ([`super::run`]), diff and (later) pruning all read the same plan.
//!
//! Stages, in order:
//! 1. every CustomResourceDefinition (then wait until Established);
//! 2. every Namespace;
//! 3. the releases, grouped by level: a release's level is one more than the highest
//!    level among the releases it `needs` that are in the set (0 when none are).
//!    Releases of one level are independent and apply concurrently.
//!
//! Inside a release, objects apply in phases: cluster-scoped objects and configuration
//! (ServiceAccount, RBAC, ConfigMap, Secret, PVC, Service, …) first, then workloads and
//! everything else, then admission webhooks and API services (which would otherwise
//! block their own backends). Objects of one phase apply concurrently.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::render::{RenderedObject, RenderedSet};

/// One object to apply: a rendered object whose body carries its applied hash.
pub(crate) type PlannedObject = RenderedObject;

/// What apply needs to know of an object beyond what rendering gives it.
impl RenderedObject {
    pub fn is_secret(&self) -> bool {
        self.kind() == "Secret" && self.group().is_empty()
    }

    /// `Kind.group` (`Kind` for the core group), as ApplySets name group-kinds.
    pub fn group_kind(&self) -> String {
        super::resource::group_kind(self.group(), self.kind())
    }

    /// The hash of the applied configuration this object carries in
    /// [`APPLIED_HASH_ANNOTATION`].
    pub fn applied_hash(&self) -> Option<&str> {
        self.body
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(APPLIED_HASH_ANNOTATION))
            .and_then(Value::as_str)
    }
}

/// Each applied object carries the hash of its applied configuration here, so a
/// re-apply can skip objects whose live hash matches without sending them.
pub(crate) const APPLIED_HASH_ANNOTATION: &str = "homelab.dev/applied-hash";

/// Hashes `body` and records the hash in its annotations. The values of a Secret built
/// from SOPS are left out: its `homelab.dev/secret-hash` (over the ciphertexts) stands
/// for them, so no hash of a plaintext is ever stored.
pub(crate) fn stamp_applied_hash(body: &mut Value) {
    let mut hashed = body.clone();
    let from_sops = hashed.get("kind").and_then(Value::as_str) == Some("Secret")
        && hashed.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && hashed
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(crate::render::secrets::SECRET_HASH_ANNOTATION))
            .is_some();
    if let Some(map) = hashed.as_object_mut() {
        if from_sops {
            map.remove("data");
            map.remove("stringData");
        }
    }
    if let Some(a) = hashed
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(APPLIED_HASH_ANNOTATION);
    }
    let digest = Sha256::digest(serde_json::to_vec(&hashed).unwrap_or_default());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    // Charts render `annotations:` with nothing under it (null): without the stamp the
    // object would be sent again on every apply.
    if !annotations.is_object() {
        *annotations = Value::Object(Default::default());
    }
    if let Some(a) = annotations.as_object_mut() {
        a.insert(
            APPLIED_HASH_ANNOTATION.into(),
            Value::String(format!("sha256:{hex}")),
        );
    }
}

/// What a stage holds, which decides what is waited for after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Crds,
    Namespaces,
    Releases,
}

/// One release's share of a stage: phases of object indices into [`ApplyPlan::objects`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRelease {
    pub release: String,
    pub phases: Vec<Vec<usize>>,
}

/// A set of objects applied together; the next stage starts when this one is applied
/// (and ready, unless waiting is off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub kind: StageKind,
    /// `CRDs`, `Namespaces`, or the release names.
    pub label: String,
    pub releases: Vec<StageRelease>,
}

impl Stage {
    /// Every object index of the stage.
    pub fn objects(&self) -> impl Iterator<Item = usize> + '_ {
        self.releases
            .iter()
            .flat_map(|r| r.phases.iter().flatten().copied())
    }

    pub fn len(&self) -> usize {
        self.objects().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A kind a CRD of the plan defines (so a dry run can tell it will exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdKind {
    pub plural: String,
    pub namespaced: bool,
}

/// The whole plan for one environment.
#[derive(Debug, Clone)]
pub struct ApplyPlan {
    pub environment: String,
    pub applyset_id: String,
    pub objects: Vec<PlannedObject>,
    /// The releases' Helm hooks ([`super::hooks`]): run by their phases, never members
    /// of the apply set, so neither staged nor pruned.
    pub hooks: Vec<PlannedObject>,
    pub stages: Vec<Stage>,
    /// (group, kind) → resource, for kinds defined by CRDs in the plan.
    pub crd_kinds: HashMap<(String, String), CrdKind>,
    /// Only some releases were selected: pruning keeps to their members and the
    /// ApplySet parent is only ever widened.
    pub partial: bool,
    /// With `partial`, the selected releases by name: their members may be pruned
    /// even when a release renders nothing now (or, for `destroy`, is not rendered).
    pub selected: BTreeSet<String>,
    /// With `partial`, the namespaces the environment's other releases render into
    /// (namespace → releases): pruning never deletes them ([`super::policy`]).
    pub namespace_users: BTreeMap<String, BTreeSet<String>>,
}

/// `needs` of each release (releases absent from the map need nothing).
pub type Needs = BTreeMap<String, Vec<String>>;

impl ApplyPlan {
    /// Plans `set`; `needs` gives each release's dependencies. Releases of `set` are
    /// already in dependency order.
    pub fn new(set: &RenderedSet, needs: &Needs) -> ApplyPlan {
        let mut objects = Vec::new();
        let mut hooks = Vec::new();
        let mut crds = StageRelease {
            release: String::new(),
            phases: vec![Vec::new()],
        };
        let mut namespaces = StageRelease {
            release: String::new(),
            phases: vec![Vec::new()],
        };
        let mut levels: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_level: BTreeMap<usize, Vec<StageRelease>> = BTreeMap::new();
        for release in &set.releases {
            let level = needs
                .get(&release.name)
                .into_iter()
                .flatten()
                .filter_map(|n| levels.get(n))
                .map(|l| l + 1)
                .max()
                .unwrap_or(0);
            levels.insert(release.name.clone(), level);
            let mut phases = vec![Vec::new(), Vec::new(), Vec::new()];
            for object in &release.objects {
                match super::hooks::role(&object.body) {
                    super::hooks::Role::Ordinary => {}
                    super::hooks::Role::Hook(_) => {
                        hooks.push(super::hooks::hook_object(object));
                        continue;
                    }
                    super::hooks::Role::Unknown(_) => continue,
                }
                let index = objects.len();
                let mut body = object.body.clone();
                stamp_applied_hash(&mut body);
                objects.push(RenderedObject {
                    release: object.release.clone(),
                    source: object.source.clone(),
                    body,
                });
                let planned = &objects[index];
                match (planned.group(), planned.kind()) {
                    ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                        crds.phases[0].push(index)
                    }
                    ("", "Namespace") => namespaces.phases[0].push(index),
                    _ => phases[phase(planned)].push(index),
                }
            }
            phases.retain(|p| !p.is_empty());
            if !phases.is_empty() {
                by_level.entry(level).or_default().push(StageRelease {
                    release: release.name.clone(),
                    phases,
                });
            }
        }
        let crd_kinds = objects
            .iter()
            .filter(|o| o.kind() == "CustomResourceDefinition")
            .filter_map(|o| crd_kind(&o.body))
            .collect();
        let mut stages = Vec::new();
        if !crds.phases[0].is_empty() {
            stages.push(Stage {
                kind: StageKind::Crds,
                label: "CRDs".into(),
                releases: vec![crds],
            });
        }
        if !namespaces.phases[0].is_empty() {
            stages.push(Stage {
                kind: StageKind::Namespaces,
                label: "Namespaces".into(),
                releases: vec![namespaces],
            });
        }
        for (_, releases) in by_level {
            stages.push(Stage {
                kind: StageKind::Releases,
                label: releases
                    .iter()
                    .map(|r| r.release.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                releases,
            });
        }
        ApplyPlan {
            environment: set.environment.clone(),
            applyset_id: set.applyset_id.clone(),
            objects,
            hooks,
            stages,
            crd_kinds,
            partial: false,
            selected: BTreeSet::new(),
            namespace_users: BTreeMap::new(),
        }
    }

    /// Every group-kind of the plan (`Deployment.apps`, `Namespace`), sorted.
    pub fn group_kinds(&self) -> BTreeSet<String> {
        self.objects.iter().map(PlannedObject::group_kind).collect()
    }

    /// The namespaces the plan's namespaced objects live in, sorted.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.objects
            .iter()
            .filter_map(|o| o.namespace().map(str::to_string))
            .collect()
    }

    /// The CRD-defined resource for an object's kind, when a CRD of the plan defines it.
    pub fn crd_resource(&self, object: &PlannedObject) -> Option<super::resource::Resource> {
        let (group, version) = super::resource::split_api_version(object.api_version());
        self.crd_kinds
            .get(&(group.to_string(), object.kind().to_string()))
            .map(|k| super::resource::Resource {
                group: group.to_string(),
                version: version.to_string(),
                kind: object.kind().to_string(),
                plural: k.plural.clone(),
                namespaced: k.namespaced,
            })
    }
}

/// 0: cluster-scoped and configuration; 1: workloads and the rest; 2: webhooks.
fn phase(object: &PlannedObject) -> usize {
    match object.kind() {
        "MutatingWebhookConfiguration"
        | "ValidatingWebhookConfiguration"
        | "ValidatingAdmissionPolicy"
        | "ValidatingAdmissionPolicyBinding"
        | "APIService" => 2,
        kind if is_configuration(kind) => 0,
        _ if object.namespace().is_none() => 0,
        _ => 1,
    }
}

/// Kinds that configure workloads and so apply before them (and are pruned after them).
pub(crate) fn is_configuration(kind: &str) -> bool {
    matches!(
        kind,
        "ServiceAccount"
            | "Role"
            | "RoleBinding"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "ConfigMap"
            | "Secret"
            | "PersistentVolumeClaim"
            | "PersistentVolume"
            | "Service"
            | "LimitRange"
            | "ResourceQuota"
            | "NetworkPolicy"
            | "PriorityClass"
            | "StorageClass"
            | "IngressClass"
            | "PodDisruptionBudget"
    )
}

fn crd_kind(body: &Value) -> Option<((String, String), CrdKind)> {
    let spec = body.get("spec")?;
    let group = spec.get("group")?.as_str()?.to_string();
    let kind = spec.pointer("/names/kind")?.as_str()?.to_string();
    let plural = spec.pointer("/names/plural")?.as_str()?.to_string();
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    Some(((group, kind), CrdKind { plural, namespaced }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Redactor, RenderedObject, RenderedRelease};
    use serde_json::json;

    fn object(
        release: &str,
        api_version: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
    ) -> RenderedObject {
        let mut body = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = ns {
            body["metadata"]["namespace"] = json!(ns);
        }
        RenderedObject {
            release: release.into(),
            source: "test".into(),
            body,
        }
    }

    fn set(releases: Vec<(&str, Vec<RenderedObject>)>) -> RenderedSet {
        RenderedSet {
            environment: "dev".into(),
            applyset_id: "applyset-x-v1".into(),
            releases: releases
                .into_iter()
                .map(|(name, objects)| RenderedRelease {
                    name: name.into(),
                    namespace: name.into(),
                    objects,
                })
                .collect(),
            warnings: vec![],
            errors: vec![],
            redactor: Redactor::default(),
        }
    }

    #[test]
    fn stages_follow_crds_namespaces_then_needs_levels() {
        let s = set(vec![
            (
                "db",
                vec![
                    object("db", "v1", "Namespace", None, "db"),
                    object("db", "apps/v1", "StatefulSet", Some("db"), "pg"),
                    object("db", "v1", "Secret", Some("db"), "pg"),
                ],
            ),
            (
                "cache",
                vec![object(
                    "cache",
                    "apps/v1",
                    "Deployment",
                    Some("cache"),
                    "redis",
                )],
            ),
            (
                "app",
                vec![
                    object(
                        "app",
                        "apiextensions.k8s.io/v1",
                        "CustomResourceDefinition",
                        None,
                        "widgets.example.com",
                    ),
                    object("app", "apps/v1", "Deployment", Some("app"), "web"),
                    object(
                        "app",
                        "rbac.authorization.k8s.io/v1",
                        "ClusterRole",
                        None,
                        "web",
                    ),
                    object(
                        "app",
                        "admissionregistration.k8s.io/v1",
                        "ValidatingWebhookConfiguration",
                        None,
                        "web",
                    ),
                ],
            ),
        ]);
        let needs: Needs = [(
            "app".to_string(),
            vec!["db".to_string(), "cache".to_string()],
        )]
        .into();
        let plan = ApplyPlan::new(&s, &needs);
        let shape: Vec<(String, Vec<Vec<Vec<String>>>)> = plan
            .stages
            .iter()
            .map(|st| {
                (
                    st.label.clone(),
                    st.releases
                        .iter()
                        .map(|r| {
                            r.phases
                                .iter()
                                .map(|p| p.iter().map(|&i| plan.objects[i].describe()).collect())
                                .collect()
                        })
                        .collect(),
                )
            })
            .collect();
        insta::assert_debug_snapshot!(shape);
    }

    #[test]
    fn null_or_missing_annotations_still_carry_the_stamp() {
        for metadata in [
            json!({"name": "a", "annotations": null}),
            json!({"name": "a"}),
        ] {
            let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata});
            stamp_applied_hash(&mut body);
            let stamped = body
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(APPLIED_HASH_ANNOTATION));
            assert!(stamped.is_some(), "{body}");
        }
    }
}
