//! How lists and maps merge: the part of a type's schema that server-side
//! apply needs.
//!
//! Built-in kinds follow the Kubernetes 1.34 OpenAPI as the PyPI package
//! `kubernetes-validate` ships it (see [`super::builtin`]): list types and
//! keys, atomic maps, and the defaults of list-map key fields (a container
//! port without `protocol` is keyed as `protocol: TCP`). Custom resources follow their CRD's
//! `x-kubernetes-list-type`/`-list-map-keys`/`-map-type` and key `default`s.
//! Anything not described is atomic for lists and granular for maps, the
//! defaults of the real server.

use serde_json::{Map, Value};

use super::builtin;

/// How a list merges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole; one owner.
    Atomic,
    /// A set of scalars, each owned separately.
    Set,
    /// Items identified by these key fields, each owned separately.
    Map(Keys),
}

/// The key fields of an associative list and the defaults of those that
/// have one: an item without the field is keyed by the default
/// (structured-merge-diff's `keyedAssociativeListItemToPathElement`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    pub names: Vec<String>,
    pub defaults: Map<String, Value>,
}

impl Keys {
    /// Key fields without defaults.
    pub fn new(names: Vec<String>) -> Self {
        Keys {
            names,
            defaults: Map::new(),
        }
    }
}

/// A position in a type's schema: a node of an OpenAPI-like document, with
/// the named types its `$ref`s resolve against (built-in kinds only).
#[derive(Clone, Copy, Debug)]
pub struct Schema<'a> {
    node: Option<&'a Value>,
    types: Option<&'a Map<String, Value>>,
}

impl<'a> Schema<'a> {
    /// A custom resource, at this node of its `openAPIV3Schema` (None when
    /// the CRD has no schema).
    pub fn crd(node: Option<&'a Value>) -> Self {
        Schema { node, types: None }
    }

    /// The built-in kind `kind` of `api_version` (`apps/v1`); an unknown
    /// kind has no schema. A schema that failed to load has no kinds:
    /// `FakeApiServer::start` refuses to start without it.
    pub fn builtin(api_version: &str, kind: &str) -> Schema<'static> {
        let Ok(doc) = builtin::load() else {
            return Schema {
                node: None,
                types: None,
            };
        };
        let node = doc
            .kinds
            .get(&format!("{api_version}/{kind}"))
            .and_then(Value::as_str)
            .and_then(|name| doc.types.get(name));
        Schema {
            node,
            types: Some(&doc.types),
        }
    }

    /// The node with `$ref`s followed (a bounded number of times).
    fn resolved(self) -> Option<&'a Value> {
        let mut node = self.node?;
        for _ in 0..8 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(name) => node = self.types?.get(builtin::ref_name(name))?,
                None => return Some(node),
            }
        }
        None
    }

    fn at(self, node: Option<&'a Value>) -> Self {
        Schema {
            node,
            types: self.types,
        }
    }

    /// The schema of field `name` of an object at this node.
    pub fn field(self, name: &str) -> Schema<'a> {
        self.at(self.resolved().and_then(|n| {
            n.get("properties")
                .and_then(|p| p.get(name))
                .or_else(|| n.get("additionalProperties").filter(|a| a.is_object()))
        }))
    }

    /// The schema of the items of a list at this node.
    pub fn items(self) -> Schema<'a> {
        self.at(self.resolved().and_then(|n| n.get("items")))
    }

    /// How the list at this node merges.
    pub fn list_type(self) -> ListType {
        let Some(n) = self.resolved() else {
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
                    return ListType::Atomic;
                }
                let item = self.items();
                let defaults = names
                    .iter()
                    .filter_map(|k| {
                        let d = item.field(k).resolved()?.get("default")?;
                        Some((k.clone(), d.clone()))
                    })
                    .collect();
                ListType::Map(Keys { names, defaults })
            }
            _ => ListType::Atomic,
        }
    }

    /// Whether an object at this node declares field `name`: None when the
    /// node does not say (no schema, `additionalProperties`, or
    /// `x-kubernetes-preserve-unknown-fields`), so nothing is called unknown
    /// on a guess.
    pub fn declares(self, name: &str) -> Option<bool> {
        let n = self.resolved()?;
        if n.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
            || n.get("additionalProperties")
                .is_some_and(|a| a.is_object() || a == &Value::Bool(true))
        {
            return None;
        }
        Some(n.get("properties")?.as_object()?.contains_key(name))
    }

    /// Whether the object at this node is replaced as a whole rather than
    /// merged key by key.
    pub fn map_is_atomic(self) -> bool {
        self.resolved()
            .and_then(|n| n.get("x-kubernetes-map-type"))
            .and_then(Value::as_str)
            == Some("atomic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_spec() -> Schema<'static> {
        Schema::builtin("apps/v1", "Deployment")
            .field("spec")
            .field("template")
            .field("spec")
    }

    #[test]
    fn the_builtin_schema_knows_the_served_kinds() {
        if let Err(e) = builtin::load() {
            panic!("{e}");
        }
        let unknown: Vec<String> = crate::resources::builtins()
            .iter()
            .filter(|rt| Schema::builtin(&rt.api_version(), &rt.kind).node.is_none())
            .map(|rt| format!("{}/{}", rt.api_version(), rt.kind))
            .collect();
        assert!(unknown.is_empty(), "kinds without a schema: {unknown:?}");
    }

    #[test]
    fn container_ports_key_on_port_and_defaulted_protocol() {
        let ports = pod_spec().field("containers").items().field("ports");
        let ListType::Map(keys) = ports.list_type() else {
            panic!("ports are not a map list");
        };
        assert_eq!(keys.names, ["containerPort", "protocol"]);
        assert_eq!(keys.defaults["protocol"], "TCP");
        let svc = Schema::builtin("v1", "Service")
            .field("spec")
            .field("ports");
        let ListType::Map(keys) = svc.list_type() else {
            panic!("service ports are not a map list");
        };
        assert_eq!(keys.defaults["protocol"], "TCP");
    }

    #[test]
    fn selectors_are_atomic_but_labels_and_data_are_not() {
        // Both `+mapType=atomic` upstream (a Service's plain-map selector too).
        let deploy = Schema::builtin("apps/v1", "Deployment");
        assert!(deploy.field("spec").field("selector").map_is_atomic());
        let svc = Schema::builtin("v1", "Service");
        assert!(svc.field("spec").field("selector").map_is_atomic());
        assert!(!svc.field("metadata").field("labels").map_is_atomic());
        let cm = Schema::builtin("v1", "ConfigMap");
        assert!(!cm.field("data").map_is_atomic());
        assert_eq!(
            deploy.field("metadata").field("finalizers").list_type(),
            ListType::Set
        );
        assert_eq!(
            pod_spec().field("tolerations").list_type(),
            ListType::Atomic
        );
    }

    #[test]
    fn crd_schema_list_map_keys_and_defaults_are_read() {
        let s = json!({"properties": {"spec": {"properties": {"items": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id", "zone"],
            "items": {"properties": {"zone": {"type": "string", "default": "a"}}}}}}}});
        let node = Schema::crd(Some(&s)).field("spec").field("items");
        let mut defaults = Map::new();
        defaults.insert("zone".into(), json!("a"));
        assert_eq!(
            node.list_type(),
            ListType::Map(Keys {
                names: vec!["id".into(), "zone".into()],
                defaults
            })
        );
        assert_eq!(Schema::crd(None).list_type(), ListType::Atomic);
    }
}
