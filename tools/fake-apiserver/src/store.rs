//! The in-memory object store: one `BTreeMap` keyed by group, resource,
//! namespace and name (deterministic listing order), and the global
//! `resourceVersion` counter every write advances, with a bounded log of
//! changes for watches.

use std::collections::{BTreeMap, VecDeque};

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

/// Changes kept for watches; older resourceVersions are "too old" (410).
const EVENT_LOG_LIMIT: usize = 20_000;

/// One change, as a watch reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub resource_version: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    pub key: ObjKey,
    pub object: Value,
}

#[derive(Debug, Default)]
pub struct Store {
    objects: BTreeMap<ObjKey, Value>,
    resource_version: u64,
    changes: VecDeque<Change>,
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
        let kind = if self.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.record(kind, &key, &obj);
        self.objects.insert(key, obj.clone());
        obj
    }

    pub fn remove(&mut self, key: &ObjKey) -> Option<Value> {
        let mut removed = self.objects.remove(key)?;
        self.resource_version += 1;
        removed["metadata"]["resourceVersion"] = json!(self.resource_version.to_string());
        self.record("DELETED", key, &removed);
        Some(removed)
    }

    fn record(&mut self, kind: &'static str, key: &ObjKey, obj: &Value) {
        if self.changes.len() >= EVENT_LOG_LIMIT {
            self.changes.pop_front();
        }
        self.changes.push_back(Change {
            resource_version: self.resource_version,
            kind,
            key: key.clone(),
            object: obj.clone(),
        });
    }

    /// Changes after `resource_version`, or None when some of them are no
    /// longer kept.
    pub fn changes_since(&self, resource_version: u64) -> Option<impl Iterator<Item = &Change>> {
        let oldest = self
            .changes
            .front()
            .map_or(self.resource_version + 1, |c| c.resource_version);
        if resource_version + 1 < oldest && resource_version < self.resource_version {
            return None;
        }
        Some(
            self.changes
                .iter()
                .filter(move |c| c.resource_version > resource_version),
        )
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
