//! How lists and maps merge: the part of a type's schema that server-side
//! apply and strategic merge need.
//!
//! Built-in kinds use a table of the well-known associative lists
//! (`containers` by name, `ports` by port and protocol, `env` by name, ...)
//! and atomic structs (label selectors, `roleRef`); custom resources follow
//! their CRD's `x-kubernetes-list-type`/`-list-map-keys`/`-map-type`.
//! Anything not described is atomic for lists and granular for maps, the
//! defaults of the real server.

use serde_json::Value;

/// How a list merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole; one owner.
    Atomic,
    /// A set of scalars, each owned separately.
    Set,
    /// Items identified by these key fields, each owned separately.
    Map(Vec<String>),
}

/// A position in a type's schema.
#[derive(Clone, Copy, Debug)]
pub enum Schema<'a> {
    /// A built-in kind (field-name table).
    Builtin,
    /// A custom resource, at this node of its `openAPIV3Schema` (None when
    /// the schema does not describe it).
    Crd(Option<&'a Value>),
}

fn keys(names: &[&str]) -> ListType {
    ListType::Map(names.iter().map(|s| (*s).to_owned()).collect())
}

impl<'a> Schema<'a> {
    /// The schema of field `name` of an object at this node.
    pub fn field(self, name: &str) -> Schema<'a> {
        match self {
            Schema::Builtin => Schema::Builtin,
            Schema::Crd(node) => Schema::Crd(node.and_then(|n| {
                n.get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))
            })),
        }
    }

    /// The schema of the items of a list at this node.
    pub fn items(self) -> Schema<'a> {
        match self {
            Schema::Builtin => Schema::Builtin,
            Schema::Crd(node) => Schema::Crd(node.and_then(|n| n.get("items"))),
        }
    }

    /// How the list in field `name` (at this node) merges.
    pub fn list_type(self, name: &str, items: &[Value]) -> ListType {
        match self {
            Schema::Builtin => builtin_list_type(name, items),
            Schema::Crd(node) => {
                let Some(n) = node else {
                    return ListType::Atomic;
                };
                match n.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListType::Set,
                    Some("map") => {
                        let names: Vec<String> = n
                            .get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|k| k.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                        if names.is_empty() {
                            ListType::Atomic
                        } else {
                            ListType::Map(names)
                        }
                    }
                    _ => ListType::Atomic,
                }
            }
        }
    }

    /// Whether the object in field `name` (at this node) is replaced as a
    /// whole rather than merged key by key.
    pub fn map_is_atomic(self, name: &str, value: &serde_json::Map<String, Value>) -> bool {
        match self {
            Schema::Builtin => builtin_atomic_struct(name, value),
            Schema::Crd(node) => {
                node.and_then(|n| n.get("x-kubernetes-map-type"))
                    .and_then(Value::as_str)
                    == Some("atomic")
            }
        }
    }
}

fn builtin_list_type(name: &str, items: &[Value]) -> ListType {
    let has = |field: &str| items.iter().any(|i| i.get(field).is_some());
    match name {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "claims"
        | "webhooks" => keys(&["name"]),
        "volumeMounts" => keys(&["mountPath"]),
        "volumeDevices" => keys(&["devicePath"]),
        "ports" if has("containerPort") => keys(&["containerPort", "protocol"]),
        "ports" if has("port") => keys(&["port", "protocol"]),
        "hostAliases" => keys(&["ip"]),
        "topologySpreadConstraints" => keys(&["topologyKey", "whenUnsatisfiable"]),
        "conditions" => keys(&["type"]),
        "readinessGates" => keys(&["conditionType"]),
        "ownerReferences" => keys(&["uid"]),
        "finalizers" => ListType::Set,
        _ => ListType::Atomic,
    }
}

fn builtin_atomic_struct(name: &str, value: &serde_json::Map<String, Value>) -> bool {
    match name {
        "roleRef" | "secretKeyRef" | "configMapKeyRef" | "fieldRef" | "resourceFieldRef"
        | "podSelector" | "namespaceSelector" | "labelSelector" => true,
        // A LabelSelector is atomic; a Service's `selector` is a plain map.
        "selector" => value.contains_key("matchLabels") || value.contains_key("matchExpressions"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_ports_key_on_port_and_protocol() {
        let items = vec![json!({"containerPort": 80})];
        assert_eq!(
            Schema::Builtin.list_type("ports", &items),
            ListType::Map(vec!["containerPort".into(), "protocol".into()])
        );
    }

    #[test]
    fn label_selector_is_atomic_but_service_selector_is_not() {
        let ls = json!({"matchLabels": {"a": "b"}});
        let svc = json!({"app": "web"});
        assert!(Schema::Builtin.map_is_atomic("selector", ls.as_object().unwrap()));
        assert!(!Schema::Builtin.map_is_atomic("selector", svc.as_object().unwrap()));
    }

    #[test]
    fn crd_schema_list_map_keys_are_read() {
        let s = json!({"properties": {"spec": {"properties": {"items": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"]}}}}});
        let node = Schema::Crd(Some(&s)).field("spec").field("items");
        assert_eq!(
            node.list_type("items", &[]),
            ListType::Map(vec!["id".into()])
        );
        assert_eq!(Schema::Crd(None).list_type("x", &[]), ListType::Atomic);
    }
}
