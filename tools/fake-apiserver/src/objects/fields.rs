//! Unknown fields (kube-apiserver's field validation): a field the kind's
//! schema does not declare is dropped from the object, as decoding into the
//! typed object (or pruning a custom resource) does, and reported by its
//! path (`spec.template.spec.containers[0].foo`).

use serde_json::Value;

use crate::apply::Schema;

/// Removes the fields `schema` does not declare and returns their paths.
/// For custom resources (`builtin` false) the root's `apiVersion`, `kind`
/// and `metadata` are always known, as the CRD handler treats them.
pub fn prune_unknown(obj: &mut Value, schema: Schema, builtin: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(m) = obj {
        let mut unknown = Vec::new();
        for (k, v) in m.iter_mut() {
            if matches!(k.as_str(), "apiVersion" | "kind") || (!builtin && k == "metadata") {
                continue;
            }
            match schema.declares(k) {
                Some(false) => unknown.push(k.clone()),
                _ => walk(v, schema.field(k), k, &mut out),
            }
        }
        m.retain(|k, _| !unknown.contains(k));
        out.extend(unknown);
    }
    out.sort();
    out
}

fn walk(v: &mut Value, schema: Schema, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            let mut unknown = Vec::new();
            for (k, child) in m.iter_mut() {
                let p = format!("{path}.{k}");
                match schema.declares(k) {
                    Some(false) => {
                        unknown.push(k.clone());
                        out.push(p);
                    }
                    _ => walk(child, schema.field(k), &p, out),
                }
            }
            m.retain(|k, _| !unknown.contains(k));
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, schema.items(), &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_dropped_and_named() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "foo": 1,
            "metadata": {"name": "w", "labelz": {}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "imagge": "x"}]}}}});
        let found = prune_unknown(&mut d, Schema::builtin("apps/v1", "Deployment"), true);
        assert_eq!(
            found,
            vec![
                "foo",
                "metadata.labelz",
                "spec.template.spec.containers[0].imagge"
            ]
        );
        assert!(d.get("foo").is_none());
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0],
            json!({"name": "c"})
        );
        let mut cm = json!({"data": {"any": "x"}, "metadata": {"labels": {"a": "b"}}});
        assert!(prune_unknown(&mut cm, Schema::builtin("v1", "ConfigMap"), true).is_empty());
    }
}
