//! Pruning: deleting the set's members that are no longer desired.
//!
//! # Guarantees
//! - Runs only after every apply of the run succeeded (the executor's job).
//! - Deletes only objects listed by this environment's `part-of` label that also carry
//!   `app.kubernetes.io/managed-by: homelab` and that same `part-of` value; never a
//!   desired object; with a release selector, only members of the selected releases.
//! - PersistentVolumeClaims, PersistentVolumes and namespaces holding any PVC are kept
//!   unless `allow_data_loss`; they are reported as kept.
//! - A namespace holding objects homelab does not own is always kept ([`super::foreign`]).
//! - Objects with `helm.sh/resource-policy: keep`, and namespaces another release of the
//!   environment still uses or a kept object lives in, are always kept ([`super::policy`]).
//! - Deletion order is the reverse of apply: workloads and the rest, then
//!   configuration, then namespaces, CRDs last.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use super::client::ApiClient;
use super::discovery::Discovery;
use super::live::LiveSet;
use super::plan::ApplyPlan;
use super::policy::{self, NamespaceUse};
use super::resource::{group_kind, Resource};
use crate::render::ownership::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, PART_OF_LABEL, RELEASE_LABEL};

/// A member to delete (or, under the data-loss guard, to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub name: String,
    /// Why it is kept instead (the data-loss guard), if it is.
    pub kept: Option<String>,
}

impl Candidate {
    /// `Kind/namespace/name` or `Kind/name`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.resource.kind, self.name),
            None => format!("{}/{}", self.resource.kind, self.name),
        }
    }

    /// 0 workloads and the rest, 1 configuration, 2 namespaces, 3 CRDs.
    pub fn order(&self) -> u8 {
        match (self.resource.group.as_str(), self.resource.kind.as_str()) {
            ("apiextensions.k8s.io", "CustomResourceDefinition") => 3,
            ("", "Namespace") => 2,
            (_, kind) if super::plan::is_configuration(kind) => 1,
            _ => 0,
        }
    }
}

/// Why candidates could not be computed (nothing is deleted then).
#[derive(Debug, Clone, thiserror::Error)]
#[error("Cannot tell what to prune: {0}")]
pub(crate) struct PruneError(pub String);

/// Finds the members of `group_kinds` that `plan` no longer wants.
pub(crate) async fn candidates(
    client: &ApiClient,
    discovery: &Discovery,
    live: &LiveSet,
    plan: &ApplyPlan,
    group_kinds: &BTreeSet<String>,
    allow_data_loss: bool,
) -> Result<Vec<Candidate>, PruneError> {
    let desired: HashSet<(String, Option<String>, String)> = plan
        .objects
        .iter()
        .map(|o| {
            (
                o.group_kind(),
                o.namespace().map(str::to_string),
                o.name().to_string(),
            )
        })
        .collect();
    let releases: HashSet<&str> = plan
        .objects
        .iter()
        .map(|o| o.release.as_str())
        .chain(plan.selected.iter().map(String::as_str))
        .collect();
    let mut uses = NamespaceUse::default();
    for (namespace, users) in &plan.namespace_users {
        for release in users {
            uses.release_stays(namespace, release);
        }
    }
    let mut out = Vec::new();
    for gk in group_kinds {
        let (kind, group) = gk.split_once('.').unwrap_or((gk.as_str(), ""));
        let resource = match plan
            .objects
            .iter()
            .find(|o| o.group_kind() == *gk)
            .map(|o| (o.api_version().to_string(), o.kind().to_string()))
        {
            Some((api_version, kind)) => discovery.resolve(&api_version, &kind).await,
            None => discovery.resolve_group_kind(group, kind).await,
        };
        let resource = match resource {
            Ok(r) => r,
            // A kind the server no longer serves has no members left to prune.
            Err(super::discovery::DiscoveryError::NoGroupKind { .. })
            | Err(super::discovery::DiscoveryError::NoGroupVersion { .. })
            | Err(super::discovery::DiscoveryError::NoKind { .. }) => continue,
            Err(e) => return Err(PruneError(e.to_string())),
        };
        let members = live
            .members(client, &resource)
            .await
            .map_err(|e| PruneError(format!("listing {}: {e}", resource.group_kind())))?;
        for member in members.iter() {
            let name = member
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let namespace = member
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            if !ours(member, &plan.applyset_id) {
                continue;
            }
            let release = label(member, RELEASE_LABEL).unwrap_or("");
            let stays = desired.contains(&(
                group_kind(&resource.group, &resource.kind),
                namespace.clone(),
                name.to_string(),
            )) || (plan.partial && !releases.contains(release));
            if stays {
                if let Some(ns) = &namespace {
                    uses.release_stays(ns, release);
                }
                continue;
            }
            out.push(Candidate {
                resource: resource.clone(),
                namespace,
                name: name.to_string(),
                kept: policy::kept_by_policy(member),
            });
        }
    }
    if !allow_data_loss {
        let pvcs = pvcs_by_namespace(client, &out).await?;
        for c in out.iter_mut().filter(|c| c.kept.is_none()) {
            c.kept = data_loss(c, &pvcs);
        }
    }
    for c in out.iter().filter(|c| c.kept.is_some()) {
        if let Some(ns) = &c.namespace {
            uses.member_kept(ns, &c.describe());
        }
    }
    for c in out
        .iter_mut()
        .filter(|c| c.kept.is_none() && is_namespace(c))
    {
        c.kept = uses.why_kept(&c.name);
    }
    // Not even --allow-data-loss deletes what homelab never applied.
    let namespaces: BTreeSet<String> = out
        .iter()
        .filter(|c| c.kept.is_none() && is_namespace(c))
        .map(|c| c.name.clone())
        .collect();
    let foreign =
        super::foreign::foreign_objects(client, discovery, &namespaces, &plan.applyset_id, 3)
            .await
            .map_err(|e| PruneError(format!("looking into the namespaces to delete: {e}")))?;
    for c in out
        .iter_mut()
        .filter(|c| c.kept.is_none() && is_namespace(c))
    {
        if let Some(objects) = foreign.get(&c.name) {
            c.kept = Some(format!(
                "it holds objects homelab does not own ({}); deleting it would delete them too",
                objects.join(", ")
            ));
        }
    }
    out.sort_by(|a, b| {
        (a.order(), a.resource.group_kind(), &a.namespace, &a.name).cmp(&(
            b.order(),
            b.resource.group_kind(),
            &b.namespace,
            &b.name,
        ))
    });
    Ok(out)
}

fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .pointer("/metadata/labels")
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// Carries homelab's managed-by label and this set's part-of label.
fn ours(object: &Value, applyset_id: &str) -> bool {
    label(object, MANAGED_BY_LABEL) == Some(MANAGED_BY_VALUE)
        && label(object, PART_OF_LABEL) == Some(applyset_id)
}

fn is_namespace(c: &Candidate) -> bool {
    c.resource.group.is_empty() && c.resource.kind == "Namespace"
}

/// PVCs per namespace, for the namespaces among `candidates`: one LIST, in the
/// namespace when there is one, across all otherwise.
async fn pvcs_by_namespace(
    client: &ApiClient,
    candidates: &[Candidate],
) -> Result<BTreeMap<String, usize>, PruneError> {
    let namespaces: BTreeSet<&str> = candidates
        .iter()
        .filter(|c| c.kept.is_none() && is_namespace(c))
        .map(|c| c.name.as_str())
        .collect();
    let scope = match namespaces.len() {
        0 => return Ok(BTreeMap::new()),
        1 => namespaces.first().copied(),
        _ => None,
    };
    let pvcs = Resource {
        group: String::new(),
        version: "v1".into(),
        kind: "PersistentVolumeClaim".into(),
        plural: "persistentvolumeclaims".into(),
        namespaced: true,
    };
    let items = client
        .list(&pvcs.collection_path(scope), None, None)
        .await
        .map_err(|e| PruneError(format!("listing the PVCs of the namespaces to delete: {e}")))?;
    let mut out = BTreeMap::new();
    for item in &items {
        if let Some(ns) = item.pointer("/metadata/namespace").and_then(Value::as_str) {
            *out.entry(ns.to_string()).or_insert(0) += 1;
        }
    }
    Ok(out)
}

/// Why deleting `c` could lose data, if it could; `pvcs` counts each namespace's PVCs.
fn data_loss(c: &Candidate, pvcs: &BTreeMap<String, usize>) -> Option<String> {
    let hint = "pass --allow-data-loss to delete it";
    match (c.resource.group.as_str(), c.resource.kind.as_str()) {
        ("", "PersistentVolumeClaim" | "PersistentVolume") => {
            Some(format!("it may hold data; {hint}"))
        }
        ("", "Namespace") => pvcs
            .get(&c.name)
            .map(|n| format!("it holds {n} PersistentVolumeClaim(s); {hint}")),
        _ => None,
    }
}
