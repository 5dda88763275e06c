//! What the server does to every object it stores, whatever the verb:
//! server-set metadata (uid, creationTimestamp, generation), carrying that
//! metadata over on updates, defaulting, validation and a canonical key
//! order so output is deterministic.

mod defaults;
mod fields;
mod validate;

use serde_json::{json, Map, Value};

use crate::resources::ResourceType;
use crate::rng::Rng;

pub use defaults::apply_defaults;
pub use fields::prune_unknown;
pub use validate::{check_body_identity, validate};

/// Sets what the server sets on a new object.
pub fn stamp_new(rt: &ResourceType, obj: &mut Value, rng: &mut Rng, now: &str) {
    let meta = metadata_mut(obj);
    meta.insert("uid".into(), json!(rng.uuid()));
    meta.insert("creationTimestamp".into(), json!(now));
    meta.remove("resourceVersion");
    meta.remove("deletionTimestamp");
    if rt.tracks_generation {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if rt.has_status {
        let status = match (rt.group.as_str(), rt.kind.as_str()) {
            ("", "Namespace") => json!({"phase": "Active"}),
            ("", "PersistentVolumeClaim") | ("", "PersistentVolume") => json!({"phase": "Pending"}),
            ("", "Service") => json!({"loadBalancer": {}}),
            _ => json!({}),
        };
        obj["status"] = status;
    }
    if rt.group.is_empty() && rt.kind == "Namespace" && obj["spec"]["finalizers"].is_null() {
        obj["spec"] = json!({"finalizers": ["kubernetes"]});
    }
    // The StorageObjectInUseProtection admission plugin.
    let protection = match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "PersistentVolumeClaim") => Some("kubernetes.io/pvc-protection"),
        ("", "PersistentVolume") => Some("kubernetes.io/pv-protection"),
        _ => None,
    };
    if let Some(f) = protection {
        let list = meta_finalizers(obj);
        if !list.iter().any(|x| x == f) {
            list.push(json!(f));
        }
    }
}

/// Carries server-set metadata from the live object to its replacement, and
/// (for types with a status subresource) the live status, unless
/// `status_write` (a write to `/status`, which keeps the live spec instead).
pub fn carry_over(rt: &ResourceType, live: &Value, new: &mut Value, status_write: bool) {
    if status_write {
        let status = new.get("status").cloned();
        let mut replaced = live.clone();
        match status {
            Some(s) => replaced["status"] = s,
            None => {
                if let Some(m) = replaced.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        *new = replaced;
        return;
    }
    let live_meta = live["metadata"].as_object().cloned().unwrap_or_default();
    let meta = metadata_mut(new);
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match live_meta.get(k) {
            Some(v) => meta.insert(k.into(), v.clone()),
            None => meta.remove(k),
        };
    }
    meta.remove("resourceVersion");
    if rt.has_status {
        match live.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    if rt.tracks_generation && spec_changed(live, new) {
        let g = live["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        new["metadata"]["generation"] = json!(g);
    }
}

/// Whether anything but metadata and status differs.
fn spec_changed(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        let mut m = v.as_object().cloned().unwrap_or_default();
        for k in ["metadata", "status", "apiVersion", "kind"] {
            m.remove(k);
        }
        m
    };
    strip(a) != strip(b)
}

fn meta_finalizers(obj: &mut Value) -> &mut Vec<Value> {
    let meta = metadata_mut(obj);
    if !meta.get("finalizers").is_some_and(Value::is_array) {
        meta.insert("finalizers".into(), json!([]));
    }
    match meta.get_mut("finalizers") {
        Some(Value::Array(a)) => a,
        _ => unreachable!("finalizers was just made an array"),
    }
}

fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

/// Whether a write would change nothing (managed-field timestamps and the
/// resourceVersion aside), so it must not be stored.
pub fn unchanged(live: &Value, new: &Value) -> bool {
    fn scrub(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            if let Some(Value::Array(mf)) = meta.get_mut("managedFields") {
                for e in mf.iter_mut().filter_map(Value::as_object_mut) {
                    e.remove("time");
                }
            }
        }
        v
    }
    scrub(live) == scrub(new)
}

const TOP_ORDER: &[&str] = &["apiVersion", "kind", "metadata"];
const META_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Reorders top-level and metadata keys as a real server emits them
/// (apiVersion, kind, metadata, ..., status last).
pub fn normalize(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    *map = ordered(std::mem::take(map), TOP_ORDER, Some("status"));
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        *meta = ordered(std::mem::take(meta), META_ORDER, None);
    }
}

fn ordered(mut m: Map<String, Value>, first: &[&str], last: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    for k in first {
        if let Some(v) = m.remove(*k) {
            out.insert((*k).to_owned(), v);
        }
    }
    let tail = last.and_then(|k| m.remove(k).map(|v| (k.to_owned(), v)));
    out.extend(m);
    out.extend(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_type as rt;

    #[test]
    fn generation_bumps_on_spec_only() {
        let live = json!({"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": 1}, "status": {"x": 1}});
        let mut labels =
            json!({"metadata": {"name": "d", "labels": {"a": "b"}}, "spec": {"replicas": 1}});
        carry_over(&rt("Deployment"), &live, &mut labels, false);
        assert_eq!(labels["metadata"]["generation"], 1);
        assert_eq!(labels["status"], json!({"x": 1}));
        let mut spec = json!({"metadata": {"name": "d"}, "spec": {"replicas": 2}});
        carry_over(&rt("Deployment"), &live, &mut spec, false);
        assert_eq!(spec["metadata"]["generation"], 2);
    }

    #[test]
    fn normalize_orders_keys() {
        let mut o = json!({"status": {}, "spec": {}, "metadata": {"labels": {}, "name": "x"}, "kind": "K", "apiVersion": "v1"});
        normalize(&mut o);
        let keys: Vec<&String> = o.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            vec!["apiVersion", "kind", "metadata", "spec", "status"]
        );
        let meta: Vec<&String> = o["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(meta, vec!["name", "labels"]);
    }

    #[test]
    fn unchanged_ignores_times_and_versions() {
        let a = json!({"metadata": {"resourceVersion": "1", "managedFields": [{"manager": "m", "time": "t1"}]}});
        let b = json!({"metadata": {"resourceVersion": "2", "managedFields": [{"manager": "m", "time": "t2"}]}});
        assert!(unchanged(&a, &b));
    }
}
