//! Secret values in a diff: every value `<redacted>`, marked `(changed)` or `(added)`
//! where the desired value differs from the live one, and kubectl's last-applied
//! annotation (the whole Secret) hidden too.

use serde_json::{Map, Value};

use crate::render::secrets::REDACTED;

/// Replaces every value of a Secret's `data` and `stringData` with `<redacted>`,
/// marking desired values that differ from the live ones.
pub(super) fn mask_secret(live: Option<&mut Value>, desired: &mut Value) {
    let live_data = live.as_ref().map(|l| collect_data(l)).unwrap_or_default();
    let desired_data = collect_data(desired);
    for field in ["data", "stringData"] {
        if let Some(map) = desired.get_mut(field).and_then(Value::as_object_mut) {
            for (key, value) in map.iter_mut() {
                let marker = match live_data.get(key) {
                    _ if live_data.is_empty() && live.is_none() => REDACTED.to_string(),
                    Some(old) if Some(old) == desired_data.get(key) => REDACTED.to_string(),
                    Some(_) => format!("{REDACTED} (changed)"),
                    None => format!("{REDACTED} (added)"),
                };
                *value = Value::String(marker);
            }
        }
    }
    if let Some(live) = live {
        for field in ["data", "stringData"] {
            if let Some(map) = live.get_mut(field).and_then(Value::as_object_mut) {
                for (_, value) in map.iter_mut() {
                    *value = Value::String(REDACTED.into());
                }
            }
        }
        hide_last_applied(live);
    }
    hide_last_applied(desired);
}

/// `data` (base64) with `stringData` folded in as base64, for comparing values.
fn collect_data(secret: &Value) -> Map<String, Value> {
    use base64::Engine as _;
    let mut out = secret
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(string_data) = secret.get("stringData").and_then(Value::as_object) {
        for (k, v) in string_data {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or(""));
            out.insert(k.clone(), Value::String(encoded));
        }
    }
    out
}

/// kubectl's client-side apply leaves the whole Secret in an annotation.
fn hide_last_applied(secret: &mut Value) {
    if let Some(a) = secret
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        if let Some(v) = a.get_mut("kubectl.kubernetes.io/last-applied-configuration") {
            *v = Value::String(REDACTED.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_are_masked_with_markers() {
        let mut live =
            json!({"kind": "Secret", "data": {"same": "YQ==", "old": "Yg==", "gone": "Yw=="}});
        let mut desired =
            json!({"kind": "Secret", "data": {"same": "YQ==", "old": "Ywo=", "new": "ZA=="}});
        mask_secret(Some(&mut live), &mut desired);
        assert_eq!(
            desired["data"],
            json!({"same": "<redacted>", "old": "<redacted> (changed)", "new": "<redacted> (added)"})
        );
        assert_eq!(
            live["data"],
            json!({"same": "<redacted>", "old": "<redacted>", "gone": "<redacted>"})
        );
    }
}
