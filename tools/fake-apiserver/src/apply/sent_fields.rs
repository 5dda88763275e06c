//! managedFields a client sends with an update or patch (upstream
//! `managedfields/internal` `decodeLiveOrNew`): `[]` or `[{}]` resets
//! ownership, a list that decodes replaces the live one (so a PUT can
//! rename managers; of two entries with one identity the last wins), and
//! anything else — no list, or one that does not decode — keeps the live
//! entries, so clients unaware of the field cannot erase it. Writes to a
//! subresource always keep the live entries.

use serde_json::Value;

use super::managed_fields::{self, Entry};

/// The entries an Update starts from.
pub fn starting_entries(live: &Value, new: &Value, subresource: bool) -> Vec<Entry> {
    if subresource {
        return managed_fields::parse(live);
    }
    let sent = &new["metadata"]["managedFields"];
    let Some(list) = sent.as_array() else {
        return managed_fields::parse(live);
    };
    let reset =
        list.is_empty() || (list.len() == 1 && list[0].as_object().is_some_and(|m| m.is_empty()));
    if reset {
        return Vec::new();
    }
    match decode(list) {
        Some(entries) if entries.iter().any(|e| !e.set.is_empty()) => entries,
        _ => managed_fields::parse(live),
    }
}

/// Every entry valid (operation, apiVersion, fieldsType), or None.
fn decode(list: &[Value]) -> Option<Vec<Entry>> {
    for e in list {
        let op_ok = matches!(e["operation"].as_str(), Some("Apply" | "Update"));
        let version_ok = e["apiVersion"].as_str().is_some_and(|v| !v.is_empty());
        if !op_ok || !version_ok || e["fieldsType"] != "FieldsV1" || !e["fieldsV1"].is_object() {
            return None;
        }
    }
    let parsed = managed_fields::parse(&serde_json::json!({"metadata": {"managedFields": list}}));
    let mut out: Vec<Entry> = Vec::new();
    for e in parsed {
        let op = e.operation.clone();
        let same = |x: &Entry| x.is(&e.manager, &op, &e.api_version, e.subresource.as_deref());
        match out.iter().position(same) {
            Some(i) => out[i] = e,
            None => out.push(e),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(mf: Value) -> Value {
        json!({"metadata": {"managedFields": mf}})
    }

    fn entry(manager: &str, field: &str) -> Value {
        json!({"manager": manager, "operation": "Update", "apiVersion": "v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {format!("f:{field}"): {}}}})
    }

    #[test]
    fn reset_replace_or_keep() {
        let live = obj(json!([entry("a", "x")]));
        assert!(starting_entries(&live, &obj(json!([])), false).is_empty());
        assert!(starting_entries(&live, &obj(json!([{}])), false).is_empty());
        let renamed = starting_entries(&live, &obj(json!([entry("b", "x")])), false);
        assert_eq!(renamed.len(), 1);
        assert_eq!(renamed[0].manager, "b");
        let kept = starting_entries(&live, &json!({"metadata": {}}), false);
        assert_eq!(kept[0].manager, "a");
        let bad = starting_entries(&live, &obj(json!([{"manager": "c"}])), false);
        assert_eq!(bad[0].manager, "a");
        let sub = starting_entries(&live, &obj(json!([])), true);
        assert_eq!(sub[0].manager, "a");
        let twice = starting_entries(
            &live,
            &obj(json!([entry("b", "x"), entry("b", "y")])),
            false,
        );
        assert_eq!(twice.len(), 1);
    }
}
