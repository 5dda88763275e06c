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
        cap_updates(entries);
    }
}

/// The most Update entries an object keeps (the apiserver's
/// `DefaultMaxUpdateManagers`).
const MAX_UPDATE_MANAGERS: usize = 10;
const ANCIENT: &str = "ancient-changes";

/// Folds the oldest Update entries into one `ancient-changes` entry per
/// apiVersion until at most [`MAX_UPDATE_MANAGERS`] remain, as the
/// apiserver's `capManagersManager.capUpdateManagers` does: the first (oldest)
/// entry of a version becomes the bucket when a second one is folded into
/// it, and the bucket takes the time of the last entry folded in.
fn cap_updates(entries: &mut Vec<Entry>) {
    let mut updaters: Vec<usize> = (0..entries.len())
        .filter(|&i| !entries[i].is_apply())
        .collect();
    if updaters.len() <= MAX_UPDATE_MANAGERS {
        return;
    }
    updaters.sort_by(|&a, &b| {
        let key = |e: &Entry| (e.time.clone(), e.manager.clone(), e.api_version.clone());
        key(&entries[a]).cmp(&key(&entries[b]))
    });
    let mut first_of_version: Vec<(String, usize)> = Vec::new();
    let mut folded = Vec::new();
    let mut length = updaters.len();
    for &i in &updaters {
        if length <= MAX_UPDATE_MANAGERS {
            break;
        }
        let version = entries[i].api_version.clone();
        let Some(&(_, first)) = first_of_version.iter().find(|(v, _)| *v == version) else {
            first_of_version.push((version, i));
            continue;
        };
        let bucket = match entries
            .iter()
            .position(|e| e.is(ANCIENT, "Update", &version, None))
        {
            Some(b) => b,
            None => {
                entries[first].manager = ANCIENT.to_owned();
                entries[first].subresource = None;
                first
            }
        };
        if bucket == i {
            continue;
        }
        let set = std::mem::take(&mut entries[i].set);
        entries[bucket].set.extend(set);
        entries[bucket].time = entries[i].time.clone();
        folded.push(i);
        length -= 1;
    }
    let mut i = 0;
    entries.retain(|_| {
        i += 1;
        !folded.contains(&(i - 1))
    });
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
    fn update_entries_beyond_ten_fold_into_ancient_changes() {
        let mut entries = Vec::new();
        for n in 0..12 {
            Update {
                manager: &format!("m{n:02}"),
                api_version: "v1",
                subresource: None,
                now: &format!("2026-01-01T00:00:{n:02}Z"),
            }
            .record(
                &mut entries,
                &[path(&format!("data.k{n}"))].into_iter().collect(),
                &FieldSet::new(),
            );
        }
        let names: Vec<&str> = entries.iter().map(|e| e.manager.as_str()).collect();
        assert_eq!(names.len(), 10, "{names:?}");
        // m00 became the bucket; m01 and m02 were folded into it.
        assert_eq!(names[0], "ancient-changes");
        assert_eq!(entries[0].set.len(), 3);
        assert_eq!(entries[0].time.as_deref(), Some("2026-01-01T00:00:02Z"));
        assert_eq!(names[1], "m03");
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
