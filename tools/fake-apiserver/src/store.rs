//! The in-memory object store: one `BTreeMap` keyed by group, resource,
//! namespace and name (deterministic listing order), and the global
//! `resourceVersion` counter every write advances.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Where an object lives. `namespace` is empty for cluster-scoped objects.
/// Objects are stored once per (group, resource) whatever version wrote them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjKey {
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
}

impl ObjKey {
    pub fn new(group: &str, plural: &str, namespace: &str, name: &str) -> Self {
        ObjKey {
            group: group.to_owned(),
            plural: plural.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjKey, Value>,
    resource_version: u64,
}

impl Store {
    pub fn get(&self, key: &ObjKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Objects of one resource, in one namespace or (None) in all, in key
    /// order.
    pub fn list<'a>(
        &'a self,
        group: &'a str,
        plural: &'a str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a ObjKey, &'a Value)> + 'a {
        let start = ObjKey::new(group, plural, namespace.unwrap_or(""), "");
        self.objects.range(start..).take_while(move |(k, _)| {
            k.group == group && k.plural == plural && namespace.is_none_or(|ns| k.namespace == ns)
        })
    }

    /// Every object, in key order.
    pub fn all(&self) -> impl Iterator<Item = (&ObjKey, &Value)> {
        self.objects.iter()
    }

    /// Stores `obj` under `key` with the next resourceVersion and returns the
    /// stored object.
    pub fn put(&mut self, key: ObjKey, mut obj: Value) -> Value {
        self.resource_version += 1;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert(
                "resourceVersion".into(),
                json!(self.resource_version.to_string()),
            );
        }
        crate::objects::normalize(&mut obj);
        self.objects.insert(key, obj.clone());
        obj
    }

    pub fn remove(&mut self, key: &ObjKey) -> Option<Value> {
        let removed = self.objects.remove(key);
        if removed.is_some() {
            self.resource_version += 1;
        }
        removed
    }

    /// The latest resourceVersion (lists report it).
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_scoped_and_ordered() {
        let mut s = Store::default();
        for (ns, name) in [("b", "y"), ("a", "z"), ("a", "x")] {
            s.put(
                ObjKey::new("", "configmaps", ns, name),
                json!({"metadata": {"name": name}}),
            );
        }
        s.put(
            ObjKey::new("", "secrets", "a", "s"),
            json!({"metadata": {}}),
        );
        let names: Vec<&str> = s
            .list("", "configmaps", Some("a"))
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(names, vec!["x", "z"]);
        assert_eq!(s.list("", "configmaps", None).count(), 3);
        assert_eq!(s.resource_version(), 4);
        let stored = s.get(&ObjKey::new("", "configmaps", "a", "x")).unwrap();
        assert_eq!(stored["metadata"]["resourceVersion"], "3");
    }
}
