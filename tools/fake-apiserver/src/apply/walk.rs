//! Walking objects with their schema: the field set an object sets, the
//! merge of an applied configuration into a live object, and the paths that
//! differ between two versions of an object.

use serde_json::{Map, Value};

use super::fieldset::{get, has_descendant, item_key, FieldSet, Path, PathElement};
use super::schema::{ListType, Schema};

/// Top-level and metadata fields the server never tracks ownership of.
const STRIPPED_META: &[&str] = &[
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "generation",
    "managedFields",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// The part of an object whose fields are owned: without `apiVersion`,
/// `kind`, server-set metadata and (for types with a status subresource)
/// `status`; or only `status` when `status_only`.
pub fn owned_part(obj: &Value, has_status: bool, status_only: bool) -> Value {
    let Some(map) = obj.as_object() else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (k, v) in map {
        let keep = match k.as_str() {
            "apiVersion" | "kind" => false,
            "status" => status_only || !has_status,
            _ => !status_only,
        };
        if !keep {
            continue;
        }
        if k == "metadata" {
            let mut meta = v.as_object().cloned().unwrap_or_default();
            for f in STRIPPED_META {
                meta.remove(*f);
            }
            if !meta.is_empty() {
                out.insert(k.clone(), Value::Object(meta));
            }
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The paths an object sets (leaves, set items and associative-list items).
pub fn field_set(obj: &Value, schema: Schema) -> FieldSet {
    let mut out = FieldSet::new();
    if let Some(map) = obj.as_object() {
        let mut path = Path::new();
        walk_object(map, schema, &mut path, &mut out);
    }
    out
}

fn walk_object(map: &Map<String, Value>, schema: Schema, path: &mut Path, out: &mut FieldSet) {
    for (k, child) in map {
        path.push(PathElement::Field(k.clone()));
        walk_field(child, schema.field(k), path, out);
        path.pop();
    }
}

fn walk_field(v: &Value, schema: Schema, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) if !m.is_empty() && !schema.map_is_atomic() => {
            walk_object(m, schema, path, out)
        }
        Value::Array(items) if !items.is_empty() => match list_type(schema, items) {
            ListType::Atomic => {
                out.insert(path.clone());
            }
            ListType::Set => {
                for item in items {
                    path.push(PathElement::Value(canonical(item)));
                    out.insert(path.clone());
                    path.pop();
                }
            }
            ListType::Map(keys) => {
                for item in items {
                    let key = item_key(item, &keys).unwrap_or_default();
                    path.push(PathElement::Key(key));
                    out.insert(path.clone());
                    if let Some(m) = item.as_object() {
                        walk_object(m, schema.items(), path, out);
                    }
                    path.pop();
                }
            }
        },
        _ => {
            out.insert(path.clone());
        }
    }
}

/// The list type, falling back to atomic when an associative list has an
/// item without any key field (or a set has a non-scalar), as the real
/// server would have rejected such an item.
fn list_type(schema: Schema, items: &[Value]) -> ListType {
    match schema.list_type() {
        ListType::Map(keys) if items.iter().all(|i| item_key(i, &keys).is_some()) => {
            ListType::Map(keys)
        }
        ListType::Set if items.iter().all(|i| !i.is_object() && !i.is_array()) => ListType::Set,
        _ => ListType::Atomic,
    }
}

pub fn canonical(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Merges an applied configuration into a live object: maps key by key,
/// associative lists item by item, sets by union, everything else replaced.
pub fn merge(live: &Value, applied: &Value, schema: Schema) -> Value {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) if !schema.map_is_atomic() => {
            let mut out = l.clone();
            for (k, av) in a {
                let merged = match l.get(k) {
                    Some(lv) => merge(lv, av, schema.field(k)),
                    None => av.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) => {
            let mut all: Vec<Value> = l.clone();
            all.extend(a.iter().cloned());
            match list_type(schema, &all) {
                ListType::Atomic => applied.clone(),
                ListType::Set => {
                    let mut out = l.clone();
                    for item in a {
                        if !out.contains(item) {
                            out.push(item.clone());
                        }
                    }
                    Value::Array(out)
                }
                ListType::Map(keys) => {
                    let mut out = l.clone();
                    for item in a {
                        let key = item_key(item, &keys);
                        match out.iter().position(|x| item_key(x, &keys) == key) {
                            Some(i) => out[i] = merge(&out[i], item, schema.items()),
                            None => out.push(item.clone()),
                        }
                    }
                    Value::Array(out)
                }
            }
        }
        _ => applied.clone(),
    }
}

/// Fills the defaulted key fields of associative-list items that lack them,
/// as the built-in defaulters do (`protocol: TCP` on container and service
/// ports). Zero-value defaults (`""`, `0`) are what decoding leaves, not
/// defaulting, and are not written.
pub fn fill_key_defaults(obj: &mut Value, schema: Schema) {
    match obj {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                fill_key_defaults(v, schema.field(k));
            }
        }
        Value::Array(items) => {
            if let ListType::Map(keys) = schema.list_type() {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    for (k, d) in &keys.defaults {
                        let zero = matches!(d, Value::String(s) if s.is_empty())
                            || d.as_f64() == Some(0.0)
                            || d == &Value::Bool(false);
                        if !zero && !item.contains_key(k) {
                            item.insert(k.clone(), d.clone());
                        }
                    }
                }
            }
            for item in items.iter_mut() {
                fill_key_defaults(item, schema.items());
            }
        }
        _ => {}
    }
}

/// The paths of `new` that an update from `old` to `new` set (changed leaf
/// values and newly added items), and the paths of `old` it removed.
pub fn changes(old: &Value, new: &Value, schema: Schema) -> (FieldSet, FieldSet) {
    let before = field_set(old, schema);
    let after = field_set(new, schema);
    let set: FieldSet = after
        .iter()
        .filter(|p| {
            if has_descendant(&after, p) {
                get(old, p).is_none()
            } else {
                get(old, p) != get(new, p)
            }
        })
        .cloned()
        .collect();
    let removed: FieldSet = before.difference(&after).cloned().collect();
    (set, removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_set_marks_items_and_leaves() {
        let obj = json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        let set = field_set(&obj, Schema::builtin("apps/v1", "Deployment"));
        let v1 = super::super::fieldset::to_fields_v1(&set);
        assert_eq!(
            v1,
            json!({"f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:spec": {
                "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
    }

    #[test]
    fn merge_keeps_other_items_and_keys() {
        let live = json!({"c": [{"name": "a", "x": 1}], "m": {"k1": 1}});
        let applied = json!({"c": [{"name": "b", "x": 2}, {"name": "a", "y": 3}], "m": {"k2": 2}});
        let out = merge(&live, &applied, Schema::crd(None));
        assert_eq!(out["m"], json!({"k1": 1, "k2": 2}));
        // Lists are atomic without a schema.
        assert_eq!(out["c"], applied["c"]);
        let live = json!({"spec": {"containers": [{"name": "a", "x": 1}]}});
        let applied = json!({"spec": {"containers": [{"name": "b"}, {"name": "a", "y": 3}]}});
        let out = merge(&live, &applied, Schema::builtin("v1", "Pod"));
        assert_eq!(
            out["spec"]["containers"],
            json!([{"name": "a", "x": 1, "y": 3}, {"name": "b"}])
        );
    }

    #[test]
    fn port_protocols_are_defaulted_but_required_keys_are_not() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "ports": [{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}, {}]}]}}}});
        fill_key_defaults(&mut d, Schema::builtin("apps/v1", "Deployment"));
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 53, "protocol": "UDP"}, {"protocol": "TCP"}])
        );
    }

    #[test]
    fn owned_part_strips_server_fields() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "namespace": "d", "uid": "u", "labels": {"a": "b"}},
            "data": {"k": "v"}, "status": {"s": 1}});
        assert_eq!(
            owned_part(&obj, true, false),
            json!({"metadata": {"labels": {"a": "b"}}, "data": {"k": "v"}})
        );
        assert_eq!(owned_part(&obj, true, true), json!({"status": {"s": 1}}));
    }

    #[test]
    fn changes_report_set_and_removed() {
        let old = json!({"data": {"a": "1", "b": "2"}});
        let new = json!({"data": {"a": "1", "b": "3", "c": "4"}});
        let (set, removed) = changes(&old, &new, Schema::builtin("v1", "ConfigMap"));
        assert_eq!(set.len(), 2);
        assert!(removed.is_empty());
        let (_, removed) = changes(&new, &old, Schema::builtin("v1", "ConfigMap"));
        assert_eq!(removed.len(), 1);
    }
}
