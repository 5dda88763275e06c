//! Strategic merge patch for built-in kinds, in its simple form: a merge
//! patch where lists with a merge key (containers by name, ports by port,
//! ...) merge item by item and `$patch: delete`/`replace` directives work.
//! `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList` are
//! accepted and ignored.

use serde_json::Value;

use crate::apply::fieldset::item_key;
use crate::apply::schema::Keys;

pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    patch_object(target, patch);
}

fn patch_object(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut clean = p.clone();
        clean.remove("$patch");
        *target = Value::Object(clean);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(t) = target else {
        return;
    };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        match v {
            Value::Null => {
                t.remove(k);
            }
            Value::Array(items) => {
                let current = t
                    .get(k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let merged = merge_list(&current, items, k);
                t.insert(k.clone(), Value::Array(merged));
            }
            _ => patch_object(t.entry(k.clone()).or_insert(Value::Null), v),
        }
    }
}

fn merge_list(current: &[Value], patch: &[Value], name: &str) -> Vec<Value> {
    let mut all = current.to_vec();
    all.extend(patch.iter().cloned());
    let Some(key) = patch_merge_key(name, &all) else {
        return patch.to_vec();
    };
    let keys = Keys::new(vec![key.to_owned()]);
    let mut out = current.to_vec();
    for item in patch {
        let key = item_key(item, &keys);
        let pos = out
            .iter()
            .position(|x| key.is_some() && item_key(x, &keys) == key);
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => patch_object(&mut out[i], item),
            (None, false) => {
                let mut fresh = Value::Null;
                patch_object(&mut fresh, item);
                out.push(fresh);
            }
        }
    }
    out
}

/// The `patchMergeKey` of the built-in lists clients patch (from the Go
/// struct tags, which differ from the server-side apply keys: ports merge on
/// the port alone); other lists are replaced.
fn patch_merge_key(name: &str, items: &[Value]) -> Option<&'static str> {
    let has = |field: &str| items.iter().any(|i| i.get(field).is_some());
    Some(match name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "claims"
        | "webhooks" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" if has("containerPort") => "containerPort",
        "ports" if has("port") => "port",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        "conditions" => "type",
        "ownerReferences" => "uid",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_merge_by_name() {
        let mut t = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}});
        strategic_merge_patch(
            &mut t,
            &json!({"spec": {"containers": [
            {"name": "a", "image": "z"}, {"name": "b", "$patch": "delete"}, {"name": "c", "image": "w"}]}}),
        );
        assert_eq!(
            t,
            json!({"spec": {"containers": [{"name": "a", "image": "z"}, {"name": "c", "image": "w"}]}})
        );
    }

    #[test]
    fn plain_lists_replace() {
        let mut t = json!({"args": ["a"]});
        strategic_merge_patch(&mut t, &json!({"args": ["b"]}));
        assert_eq!(t, json!({"args": ["b"]}));
    }
}
