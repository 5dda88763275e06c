//! Server-side apply of one configuration by one field manager.
//!
//! # Guarantees
//! - A field another manager owns is changed only with `force`; without it
//!   the result is the list of conflicts (manager, path), sorted.
//! - A field the applier owned and no longer applies is removed when nobody
//!   else owns it; a list item when nobody else owns the item itself (fields
//!   another manager added inside it go with it).
//! - The applier's entry afterwards owns exactly the applied field set.
//!
//! # Caveats
//! - Conflicts are detected on leaves (values compared) and on list items
//!   (existence compared); a manager owning a whole granular map as a leaf is
//!   not compared.
//! - Explicit `null` in an applied configuration means "not set".

use serde_json::{Map, Value};

use super::fieldset::{
    get, has_descendant, path_string, remove, remove_subtree, touches, FieldSet, Path, PathElement,
};
use super::managed_fields::{self, Entry};
use super::schema::Schema;
use super::walk::{field_set, merge, owned_part};

/// One field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The manager as the real server prints it (`"kubectl"` or
    /// `"kube-controller-manager" using apps/v1`).
    pub manager: String,
    pub path: Path,
}

impl Conflict {
    pub fn path_string(&self) -> String {
        path_string(&self.path)
    }
}

/// The message the real server gives for a failed apply.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager,
            one.path_string()
        );
    }
    let mut lines = Vec::new();
    let mut last: Option<&str> = None;
    for c in conflicts {
        if last != Some(c.manager.as_str()) {
            lines.push(format!("conflicts with {}:", c.manager));
            last = Some(c.manager.as_str());
        }
        lines.push(format!("- {}", c.path_string()));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

pub struct Apply<'a> {
    pub manager: &'a str,
    pub force: bool,
    pub has_status: bool,
    /// `Some("status")` for an apply to `/status`: only `status` is
    /// applied, and ownership is recorded with `subresource: status`.
    pub subresource: Option<&'a str>,
    pub schema: Schema<'a>,
    pub now: &'a str,
}

impl Apply<'_> {
    /// Applies `applied` onto `live` (for a create, a skeleton with only
    /// apiVersion, kind and metadata) and returns the new object with its
    /// managed fields, or the conflicts.
    pub fn run(&self, live: &Value, applied: &Value) -> Result<Value, Vec<Conflict>> {
        let status_only = self.subresource == Some("status");
        let mut applied_part = owned_part(applied, self.has_status, status_only);
        drop_nulls(&mut applied_part);
        let applied_set = field_set(&applied_part, self.schema);
        let live_part = owned_part(live, self.has_status, status_only);
        let live_set = field_set(&live_part, self.schema);
        let mut merged = merge(&live_part, &applied_part, self.schema);

        let mut entries = managed_fields::parse(live);
        let own = |e: &Entry| e.is(self.manager, "Apply", "", self.subresource);
        let mut conflicts = Vec::new();
        // Every other manager, whatever subresource it wrote through: a
        // `/scale` writer owns `spec.replicas`; status and spec never meet.
        for e in entries.iter().filter(|e| !own(e)) {
            for p in &e.set {
                if !has_descendant(&e.set, p) && changed(p, &live_part, &merged, &live_set) {
                    conflicts.push((e.display(), p.clone()));
                }
            }
        }
        conflicts.sort();
        conflicts.dedup();
        if !conflicts.is_empty() && !self.force {
            return Err(conflicts
                .into_iter()
                .map(|(manager, path)| Conflict { manager, path })
                .collect());
        }
        for (manager, p) in &conflicts {
            for e in entries
                .iter_mut()
                .filter(|e| &e.display() == manager && !own(e))
            {
                remove_subtree(&mut e.set, p);
            }
        }

        let previous: FieldSet = entries
            .iter()
            .find(|e| own(e))
            .map(|e| e.set.clone())
            .unwrap_or_default();
        let others: Vec<&Entry> = entries.iter().filter(|e| !own(e)).collect();
        // Ancestors first: removing a list item before its key fields keeps
        // the item findable.
        for p in previous.difference(&applied_set) {
            let replaced = (1..p.len()).any(|n| {
                let q = p[..n].to_vec();
                let empty_map = get(&applied_part, &q)
                    .is_some_and(|v| v.as_object().is_some_and(|m| m.is_empty()));
                applied_set.contains(&q) && !has_descendant(&applied_set, &q) && !empty_map
            });
            // A list item goes with its last owner: fields others added
            // inside it do not keep it (structured-merge-diff's prune removes
            // the item and adds back only owned items).
            let item = matches!(p.last(), Some(PathElement::Key(_) | PathElement::Value(_)));
            let shared = others.iter().any(|e| {
                if item {
                    e.set.contains(p)
                } else {
                    touches(&e.set, p)
                }
            });
            if !touches(&applied_set, p) && !replaced && !shared {
                remove(&mut merged, p);
            }
        }

        let api_version = applied["apiVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let entry = Entry {
            manager: self.manager.to_owned(),
            operation: "Apply".into(),
            api_version: api_version.clone(),
            time: Some(self.now.to_owned()),
            subresource: self.subresource.map(str::to_owned),
            set: applied_set,
        };
        match entries.iter().position(own) {
            Some(i) => entries[i] = entry,
            None => entries.push(entry),
        }
        let mut out = if status_only {
            let mut out = live.clone();
            match merged.get("status") {
                Some(s) => out["status"] = s.clone(),
                None => {
                    if let Some(m) = out.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            out
        } else {
            reassemble(
                live,
                merged,
                self.has_status,
                &api_version,
                &applied["kind"],
            )
        };
        managed_fields::store(&mut out, &entries);
        Ok(out)
    }
}

/// Whether applying changed what a manager owns at `p`.
fn changed(p: &Path, live: &Value, merged: &Value, live_set: &FieldSet) -> bool {
    match p.last() {
        Some(PathElement::Key(_) | PathElement::Value(_) | PathElement::Index(_)) => {
            get(live, p).is_some() != get(merged, p).is_some()
        }
        _ if has_descendant(live_set, p) => false,
        // An empty map owned as a leaf is not changed by keys added to it.
        _ if get(live, p).is_some_and(|v| v.as_object().is_some_and(|m| m.is_empty()))
            && get(merged, p).is_some_and(Value::is_object) =>
        {
            false
        }
        _ if live_set.contains(p) => get(live, p) != get(merged, p),
        _ => false,
    }
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// The new object: the merged owned part plus the live server-set metadata
/// and (for types with a status subresource) the live status.
fn reassemble(
    live: &Value,
    merged: Value,
    has_status: bool,
    api_version: &str,
    kind: &Value,
) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.to_owned()));
    out.insert("kind".into(), kind.clone());
    let mut meta = live["metadata"].as_object().cloned().unwrap_or_default();
    let server_owned = owned_part(&serde_json::json!({"metadata": meta.clone()}), false, false);
    for k in server_owned["metadata"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
    {
        meta.remove(k);
    }
    let mut merged = match merged {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(m)) = merged.remove("metadata") {
        meta.extend(m);
    }
    out.insert("metadata".into(), Value::Object(meta));
    out.extend(merged);
    if has_status {
        if let Some(s) = live.get("status") {
            out.insert("status".into(), s.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(
        manager: &str,
        force: bool,
        live: &Value,
        applied: &Value,
    ) -> Result<Value, Vec<Conflict>> {
        Apply {
            subresource: None,
            manager,
            force,
            has_status: true,
            schema: Schema::builtin("apps/v1", "Deployment"),
            now: "t",
        }
        .run(live, applied)
    }

    fn skeleton() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "d", "uid": "u"}})
    }

    fn deploy(replicas: i64, extra: Value) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "d"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                d["spec"][k] = v;
            }
        }
        d
    }

    #[test]
    fn second_manager_conflicts_then_forces() {
        let live = apply("a", false, &skeleton(), &deploy(1, json!({}))).unwrap();
        let err = apply("b", false, &live, &deploy(3, json!({}))).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"a\": .spec.replicas"
        );
        let forced = apply("b", true, &live, &deploy(3, json!({}))).unwrap();
        assert_eq!(forced["spec"]["replicas"], 3);
        let mf = managed_fields::parse(&forced);
        assert_eq!(mf.len(), 2);
        assert!(!mf[0].set.iter().any(|p| path_string(p) == ".spec.replicas"));
    }

    #[test]
    fn same_value_is_shared_not_conflicting() {
        let live = apply("a", false, &skeleton(), &deploy(1, json!({}))).unwrap();
        assert!(apply("b", false, &live, &deploy(1, json!({}))).is_ok());
    }

    #[test]
    fn dropped_field_is_removed_unless_shared() {
        let live = apply("a", false, &skeleton(), &deploy(1, json!({"paused": true}))).unwrap();
        let out = apply("a", false, &live, &deploy(1, json!({}))).unwrap();
        assert!(out["spec"].get("paused").is_none());
        let shared = apply(
            "b",
            false,
            &live,
            &json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}, "spec": {"paused": true}}),
        )
        .unwrap();
        let out = apply("a", false, &shared, &deploy(1, json!({}))).unwrap();
        assert_eq!(out["spec"]["paused"], true);
    }

    #[test]
    fn dropped_container_is_removed() {
        let mut two = deploy(1, json!({}));
        two["spec"]["template"]["spec"]["containers"] =
            json!([{"name": "web", "image": "nginx"}, {"name": "side", "image": "busybox"}]);
        let live = apply("a", false, &skeleton(), &two).unwrap();
        let out = apply("a", false, &live, &deploy(1, json!({}))).unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn several_conflicts_are_grouped_by_manager() {
        let c = vec![
            Conflict {
                manager: "\"a\"".into(),
                path: vec![PathElement::Field("x".into())],
            },
            Conflict {
                manager: "\"a\"".into(),
                path: vec![PathElement::Field("y".into())],
            },
        ];
        assert_eq!(
            conflict_message(&c),
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .x\n- .y"
        );
    }
}
