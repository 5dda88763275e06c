//! Objects inside a namespace that homelab does not own. Deleting a namespace deletes
//! everything in it, so pruning a namespace would take these with it: the one way
//! pruning could touch what it never applied. A namespace holding any is kept.
//!
//! Ignored, because Kubernetes creates them on its own: Events, Endpoints (mirrors of
//! Services), objects with `ownerReferences` (children that garbage collection removes
//! with their owner), the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::client::ApiClient;
use super::discovery::Discovery;
use super::resource::Resource;
use crate::render::ownership::PART_OF_LABEL;

/// Up to `limit` objects in each of `namespaces` (as `Kind/name`) that are not members
/// of the ApplySet `applyset_id` and not created by Kubernetes itself; namespaces
/// holding none are absent. Each kind is listed once, whatever the number of
/// namespaces (across all namespaces when there are several).
///
/// # Errors
/// When discovery or a list fails for a reason other than the kind not being listable;
/// callers keep the namespaces then.
pub(crate) async fn foreign_objects(
    client: &ApiClient,
    discovery: &Discovery,
    namespaces: &BTreeSet<String>,
    applyset_id: &str,
    limit: usize,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let scope = match namespaces.len() {
        0 => return Ok(found),
        1 => namespaces.first().map(String::as_str),
        _ => None,
    };
    for resource in discovery
        .namespaced_resources()
        .await
        .map_err(|e| e.to_string())?
    {
        if ignored_kind(&resource) {
            continue;
        }
        let items = match client
            .list(&resource.collection_path(scope), None, None)
            .await
        {
            Ok(items) => items,
            // Kinds that cannot be listed (create-only reviews, forbidden) hold nothing we
            // could see; a real listing failure is not silent.
            Err(e) if matches!(e.code(), Some(403..=405)) => continue,
            Err(e) => return Err(format!("listing {}: {e}", resource.plural)),
        };
        for item in items
            .iter()
            .filter(|o| is_foreign(&resource, o, applyset_id))
        {
            let text = |p: &str| item.pointer(p).and_then(Value::as_str).unwrap_or("");
            let namespace = text("/metadata/namespace");
            if !namespaces.contains(namespace) {
                continue;
            }
            let list = found.entry(namespace.to_string()).or_default();
            if list.len() < limit {
                list.push(format!("{}/{}", resource.kind, text("/metadata/name")));
            }
        }
    }
    Ok(found)
}

fn ignored_kind(r: &Resource) -> bool {
    matches!(
        (r.group.as_str(), r.kind.as_str()),
        ("" | "events.k8s.io", "Event") | ("", "Endpoints")
    )
}

fn is_foreign(resource: &Resource, object: &Value, applyset_id: &str) -> bool {
    let metadata = &object["metadata"];
    if metadata["labels"]
        .get(PART_OF_LABEL)
        .and_then(Value::as_str)
        == Some(applyset_id)
    {
        return false;
    }
    if metadata["ownerReferences"]
        .as_array()
        .is_some_and(|refs| !refs.is_empty())
    {
        return false;
    }
    let name = metadata["name"].as_str().unwrap_or("");
    !matches!(
        (resource.group.as_str(), resource.kind.as_str(), name),
        ("", "ServiceAccount", "default") | ("", "ConfigMap", "kube-root-ca.crt")
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn core(kind: &str) -> Resource {
        Resource {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            plural: String::new(),
            namespaced: true,
        }
    }

    #[test]
    fn only_unowned_objects_count() {
        let ours = json!({"metadata": {"name": "a", "labels": {PART_OF_LABEL: "set"}}});
        let theirs = json!({"metadata": {"name": "a"}});
        let child = json!({"metadata": {"name": "a", "ownerReferences": [{"kind": "ReplicaSet"}]}});
        let default_sa = json!({"metadata": {"name": "default"}});
        assert!(!is_foreign(&core("ConfigMap"), &ours, "set"));
        assert!(is_foreign(&core("ConfigMap"), &theirs, "set"));
        assert!(is_foreign(&core("ConfigMap"), &ours, "another-set"));
        assert!(!is_foreign(&core("Pod"), &child, "set"));
        assert!(!is_foreign(&core("ServiceAccount"), &default_sa, "set"));
        assert!(is_foreign(&core("ConfigMap"), &default_sa, "set"));
        assert!(ignored_kind(&core("Event")));
    }
}
