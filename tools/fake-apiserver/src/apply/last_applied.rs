//! What kube-apiserver does for `kubectl apply --server-side` over an object
//! made by client-side `kubectl apply` (upstream `managedfields/internal`
//! `lastappliedmanager.go` and `lastappliedupdater.go`), for the field
//! manager `kubectl` only:
//! - conflicts on fields the `last-applied-configuration` annotation sets,
//!   whose live value still equals it, are not reported: the apply is
//!   forced;
//! - after an apply, an existing annotation is rewritten to the applied
//!   configuration (without the annotation itself).
//!
//! kubectl then moves the `kubectl-client-side-apply` entry into its own
//! with a JSON patch of `managedFields` (client-go `csaupgrade`), which
//! [`super::sent_fields`] accepts.

use serde_json::{Map, Value};

use super::fieldset::{get, has_descendant, FieldSet};
use super::walk::{field_set, owned_part};
use super::{Conflict, Schema};

pub const ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The only manager the upgrade applies to.
pub const MANAGER: &str = "kubectl";

/// Whether every conflict is on a field the annotation sets and the live
/// object still has as annotated.
pub fn conflicts_allowed(
    live: &Value,
    conflicts: &[Conflict],
    has_status: bool,
    schema: Schema,
) -> bool {
    let Some(allowed) = allowed(live, has_status, schema) else {
        return false;
    };
    conflicts.iter().all(|c| allowed.contains(&c.path))
}

fn allowed(live: &Value, has_status: bool, schema: Schema) -> Option<FieldSet> {
    let text = live["metadata"]["annotations"][ANNOTATION].as_str()?;
    let last: Value = serde_json::from_str(text).ok()?;
    let last_part = owned_part(&last, has_status, false);
    let live_part = owned_part(live, has_status, false);
    let set = field_set(&last_part, schema);
    let unmodified = set
        .iter()
        .filter(|p| {
            if has_descendant(&set, p) {
                get(&live_part, p).is_some()
            } else {
                get(&live_part, p) == get(&last_part, p)
            }
        })
        .cloned()
        .collect();
    Some(unmodified)
}

/// Rewrites an existing annotation on `out` to `applied`.
pub fn update_annotation(out: &mut Value, applied: &Value) {
    if !out["metadata"]["annotations"][ANNOTATION].is_string() {
        return;
    }
    let mut config = applied.clone();
    if !config["metadata"]["annotations"].is_object() {
        config["metadata"]["annotations"] = Value::Object(Map::new());
    }
    if let Some(a) = config["metadata"]["annotations"].as_object_mut() {
        a.remove(ANNOTATION);
    }
    out["metadata"]["annotations"][ANNOTATION] = Value::String(format!("{}\n", sorted(&config)));
}

/// Compact JSON with object keys sorted, as Go encodes maps.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fieldset::PathElement;
    use serde_json::json;

    fn conflict(field: &str) -> Conflict {
        Conflict {
            manager: "\"kubectl-client-side-apply\" using v1".into(),
            path: vec![
                PathElement::Field("data".into()),
                PathElement::Field(field.into()),
            ],
        }
    }

    #[test]
    fn only_unmodified_annotated_fields_are_taken_over() {
        let live = json!({"metadata": {"name": "c", "annotations": {ANNOTATION:
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"1\"}}"}},
            "data": {"a": "1", "b": "2"}});
        let schema = Schema::builtin("v1", "ConfigMap");
        assert!(conflicts_allowed(&live, &[conflict("a")], false, schema));
        assert!(!conflicts_allowed(&live, &[conflict("b")], false, schema));
        assert!(!conflicts_allowed(
            &json!({}),
            &[conflict("a")],
            false,
            schema
        ));
    }

    #[test]
    fn annotation_is_rewritten_only_when_present() {
        let applied = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}});
        let mut without = json!({"metadata": {}});
        update_annotation(&mut without, &applied);
        assert_eq!(without, json!({"metadata": {}}));
        let mut with = json!({"metadata": {"annotations": {ANNOTATION: "old"}}});
        update_annotation(&mut with, &applied);
        assert_eq!(
            with["metadata"]["annotations"][ANNOTATION],
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"c\"}}\n"
        );
    }
}
