//! The text of a diff: both objects without what the server owns, keys sorted, Secret
//! values masked, as a unified diff that passes the [`Redactor`].

use serde_json::Value;

use super::secret_mask::mask_secret;
use crate::apply::plan::PlannedObject;
use crate::render::emit::to_yaml;
use crate::render::Redactor;

/// The unified diff from `live` to `desired`, Secret values masked.
pub(super) fn changed_text(
    object: &PlannedObject,
    live: Value,
    desired: Value,
    redactor: &Redactor,
) -> String {
    let mut live = normalize(live);
    let mut desired = normalize(desired);
    if object.is_secret() {
        mask_secret(Some(&mut live), &mut desired);
    }
    unified(object, &to_yaml(&live), &to_yaml(&desired), redactor)
}

/// A create (no live object) as a diff against nothing.
pub(super) fn render_diff(
    object: &PlannedObject,
    live: Option<Value>,
    desired: Option<Value>,
    redactor: &Redactor,
) -> String {
    let mut live = live.map(normalize);
    let mut desired = desired.map(normalize).unwrap_or(Value::Null);
    if object.is_secret() {
        mask_secret(live.as_mut(), &mut desired);
    }
    let old = live.as_ref().map(to_yaml).unwrap_or_default();
    unified(object, &old, &to_yaml(&desired), redactor)
}

pub(super) fn unified(object: &PlannedObject, old: &str, new: &str, redactor: &Redactor) -> String {
    let name = object.describe();
    let text = similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (live)"), &format!("{name} (desired)"))
        .to_string();
    redactor.redact(&text)
}

/// Without what the server owns (managedFields, resourceVersion, generation, uid,
/// timestamps and status), keys sorted so the live and the dry-run object line up.
pub(super) fn normalize(object: Value) -> Value {
    sort_keys(strip_server_fields(object))
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn strip_server_fields(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in [
                "managedFields",
                "resourceVersion",
                "generation",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                meta.remove(key);
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalize_drops_server_fields() {
        let o = json!({"metadata": {"name": "a", "uid": "u", "resourceVersion": "1", "managedFields": []}, "status": {}});
        assert_eq!(normalize(o), json!({"metadata": {"name": "a"}}));
    }
}
