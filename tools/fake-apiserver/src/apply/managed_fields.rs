//! `metadata.managedFields`: one entry per manager identity with the field
//! set it owns, and the bookkeeping for Update operations (PUT, merge/JSON/
//! strategic patches, controller status writes).
//!
//! A manager's identity is (manager, operation, subresource) for appliers and
//! additionally the apiVersion for updaters, as on a real server.

use serde_json::{json, Map, Value};

use super::fieldset::{from_fields_v1, remove_subtree, to_fields_v1, FieldSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub set: FieldSet,
}

impl Entry {
    pub fn is_apply(&self) -> bool {
        self.operation == "Apply"
    }

    /// Whether this entry is the identity `(manager, operation, api_version,
    /// subresource)` (apiVersion ignored for appliers).
    pub fn is(&self, manager: &str, operation: &str, api_version: &str, sub: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == sub
            && (operation == "Apply" || self.api_version == api_version)
    }

    /// How a conflict names this manager: `"kubectl"` for appliers,
    /// `"kubectl-edit" using apps/v1` for updaters.
    pub fn display(&self) -> String {
        if self.is_apply() {
            format!("{:?}", self.manager)
        } else {
            format!("{:?} using {}", self.manager, self.api_version)
        }
    }
}

/// The entries of an object (entries that do not parse are dropped).
pub fn parse(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj["metadata"]["managedFields"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: e["manager"].as_str().unwrap_or_default().to_owned(),
                operation: e["operation"].as_str()?.to_owned(),
                api_version: e["apiVersion"].as_str().unwrap_or_default().to_owned(),
                time: e["time"].as_str().map(str::to_owned),
                subresource: e["subresource"].as_str().map(str::to_owned),
                set: from_fields_v1(&e["fieldsV1"]),
            })
        })
        .collect()
}

/// Writes `entries` into the object's metadata (removing the field when
/// there are none).
pub fn store(obj: &mut Value, entries: &[Entry]) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation));
            m.insert("apiVersion".into(), json!(e.api_version));
            if let Some(t) = &e.time {
                m.insert("time".into(), json!(t));
            }
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), to_fields_v1(&e.set));
            if let Some(s) = &e.subresource {
                m.insert("subresource".into(), json!(s));
            }
            Value::Object(m)
        })
        .collect();
    if list.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// An Update operation by `manager` set the paths `set` and removed
/// `removed`: it takes ownership of what it set (from everyone else, without
/// conflicts) and nobody owns what it removed.
pub struct Update<'a> {
    pub manager: &'a str,
    pub api_version: &'a str,
    pub subresource: Option<&'a str>,
    pub now: &'a str,
}

impl Update<'_> {
    pub fn record(&self, entries: &mut Vec<Entry>, set: &FieldSet, removed: &FieldSet) {
        for e in entries.iter_mut() {
            if e.is(self.manager, "Update", self.api_version, self.subresource) {
                continue;
            }
            for p in set {
                e.set.remove(p);
            }
            for p in removed {
                remove_subtree(&mut e.set, p);
            }
        }
        let pos = entries
            .iter()
            .position(|e| e.is(self.manager, "Update", self.api_version, self.subresource));
        let idx = match pos {
            Some(i) => i,
            None if set.is_empty() => {
                entries.retain(|e| !e.set.is_empty());
                return;
            }
            None => {
                entries.push(Entry {
                    manager: self.manager.to_owned(),
                    operation: "Update".into(),
                    api_version: self.api_version.to_owned(),
                    time: None,
                    subresource: self.subresource.map(str::to_owned),
                    set: FieldSet::new(),
                });
                entries.len() - 1
            }
        };
        let entry = &mut entries[idx];
        for p in removed {
            remove_subtree(&mut entry.set, p);
        }
        entry.set.extend(set.iter().cloned());
        if !set.is_empty() {
            entry.time = Some(self.now.to_owned());
        }
        entries.retain(|e| !e.set.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::super::fieldset::PathElement;
    use super::*;

    fn path(s: &str) -> Vec<PathElement> {
        s.split('.').map(|f| PathElement::Field(f.into())).collect()
    }

    #[test]
    fn update_takes_ownership_from_others() {
        let mut entries = vec![Entry {
            manager: "a".into(),
            operation: "Apply".into(),
            api_version: "v1".into(),
            time: None,
            subresource: None,
            set: [path("data.x"), path("data.y")].into_iter().collect(),
        }];
        let up = Update {
            manager: "b",
            api_version: "v1",
            subresource: None,
            now: "t",
        };
        up.record(
            &mut entries,
            &[path("data.x")].into_iter().collect(),
            &FieldSet::new(),
        );
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].set.len(), 1);
        assert_eq!(entries[1].display(), "\"b\" using v1");
    }

    #[test]
    fn store_and_parse_round_trip() {
        let mut obj = json!({"metadata": {"name": "x"}});
        let entries = vec![Entry {
            manager: "m".into(),
            operation: "Apply".into(),
            api_version: "v1".into(),
            time: Some("2026-01-01T00:00:00Z".into()),
            subresource: None,
            set: [path("data.k")].into_iter().collect(),
        }];
        store(&mut obj, &entries);
        assert_eq!(
            obj["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:k": {}}})
        );
        assert_eq!(parse(&obj), entries);
    }
}
