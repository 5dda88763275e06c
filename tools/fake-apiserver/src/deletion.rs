//! Deleting one object as kube-apiserver's generic registry does
//! (`registry/generic/registry/store.go` `Delete`): the garbage-collection
//! finalizers follow the propagation policy (`foregroundDeletion`,
//! `orphan`), an object with any finalizer left is only marked
//! (`deletionTimestamp`, `deletionGracePeriodSeconds: 0`, generation + 1)
//! and stays readable, anything else goes at once. A Namespace is also held
//! by the finalizers in its `spec` and turns `Terminating`. Dependents,
//! namespace contents and finalizers are the simulated controllers' work
//! ([`crate::controller::lifecycle`]), asynchronously as on a real cluster.

use serde_json::{json, Value};

use crate::state::State;
use crate::store::ObjKey;

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";

/// `propagationPolicy` (or the legacy `orphanDependents`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Background,
    Foreground,
    Orphan,
}

impl Policy {
    /// The policy a DeleteOptions names; `Err` names an unknown value.
    pub fn parse(value: &str) -> Result<Policy, String> {
        match value {
            "Background" => Ok(Policy::Background),
            "Foreground" => Ok(Policy::Foreground),
            "Orphan" => Ok(Policy::Orphan),
            other => Err(format!(
                "Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            )),
        }
    }
}

/// What a delete did.
#[derive(Debug)]
pub enum Outcome {
    /// Gone; the object as it was.
    Deleted(Value),
    /// Marked for deletion, held by finalizers; the object as stored.
    Pending(Value),
}

/// The object's `metadata.finalizers`.
pub fn finalizers(obj: &Value) -> Vec<String> {
    strings(&obj["metadata"]["finalizers"])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

pub fn is_terminating(obj: &Value) -> bool {
    obj["metadata"]["deletionTimestamp"].is_string()
}

fn is_namespace(key: &ObjKey) -> bool {
    key.group.is_empty() && key.plural == "namespaces"
}

/// Whether anything still holds the object: its finalizers or, for a
/// Namespace, `spec.finalizers`.
pub fn held(obj: &Value) -> bool {
    !finalizers(obj).is_empty()
        || (obj["kind"] == "Namespace" && !strings(&obj["spec"]["finalizers"]).is_empty())
}

/// Upstream `deletionFinalizersForGarbageCollection`: both GC finalizers
/// are dropped and put back as the policy (or, without one, the finalizer
/// already present) says.
fn gc_finalizers(current: &[String], policy: Option<Policy>) -> Vec<String> {
    let has = |f: &str| current.iter().any(|c| c == f);
    let orphan = match policy {
        Some(p) => p == Policy::Orphan,
        None => has(ORPHAN),
    };
    let foreground = match policy {
        Some(p) => p == Policy::Foreground,
        None => has(FOREGROUND) && !orphan,
    };
    let mut out: Vec<String> = current
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND)
        .cloned()
        .collect();
    if orphan {
        out.push(ORPHAN.into());
    }
    if foreground {
        out.push(FOREGROUND.into());
    }
    out
}

/// Deletes or marks the object under `key` (`live` is its stored version).
/// Nothing is written on a dry run.
pub fn delete(
    state: &mut State,
    key: &ObjKey,
    live: &Value,
    policy: Option<Policy>,
    now: &str,
    dry_run: bool,
) -> Outcome {
    let current = finalizers(live);
    let wanted = gc_finalizers(&current, policy);
    let mut marked = live.clone();
    if wanted != current {
        marked["metadata"]["finalizers"] = json!(wanted);
    }
    if !held(&marked) {
        if !dry_run {
            state.store.remove(key);
        }
        return Outcome::Deleted(live.clone());
    }
    if !is_terminating(&marked) {
        if let Some(g) = marked["metadata"]["generation"].as_i64().filter(|g| *g > 0) {
            marked["metadata"]["generation"] = json!(g + 1);
        }
        marked["metadata"]["deletionTimestamp"] = json!(now);
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if is_namespace(key) {
            marked["status"]["phase"] = json!("Terminating");
        }
    }
    if &marked == live || dry_run {
        return Outcome::Pending(marked);
    }
    Outcome::Pending(state.store.put(key.clone(), marked))
}

/// Removes `finalizer` from a terminating object, deleting it when nothing
/// holds it any more (what a controller's finalizer patch leads to).
pub fn remove_finalizer(state: &mut State, key: &ObjKey, finalizer: &str) {
    let Some(mut obj) = state.store.get(key).cloned() else {
        return;
    };
    let before = finalizers(&obj);
    let after: Vec<String> = before.iter().filter(|f| *f != finalizer).cloned().collect();
    if after.len() == before.len() {
        return;
    }
    if let Some(meta) = obj["metadata"].as_object_mut() {
        if after.is_empty() {
            meta.remove("finalizers");
        } else {
            meta.insert("finalizers".into(), json!(after));
        }
    }
    finish_update(state, key, obj);
}

/// Stores a controller's change to an object, removing a terminating one
/// nothing holds any more.
pub fn finish_update(state: &mut State, key: &ObjKey, obj: Value) {
    if is_terminating(&obj) && !held(&obj) {
        state.store.remove(key);
    } else {
        state.store.put(key.clone(), obj);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn gc_finalizers_follow_the_policy() {
        assert_eq!(gc_finalizers(&v(&["a"]), None), v(&["a"]));
        assert_eq!(
            gc_finalizers(&v(&["a"]), Some(Policy::Foreground)),
            v(&["a", FOREGROUND])
        );
        assert_eq!(
            gc_finalizers(&v(&[FOREGROUND]), Some(Policy::Orphan)),
            v(&[ORPHAN])
        );
        assert_eq!(gc_finalizers(&v(&[FOREGROUND]), None), v(&[FOREGROUND]));
        assert_eq!(
            gc_finalizers(&v(&[ORPHAN, "b"]), Some(Policy::Background)),
            v(&["b"])
        );
    }

    #[test]
    fn policy_names() {
        assert_eq!(Policy::parse("Orphan"), Ok(Policy::Orphan));
        assert!(Policy::parse("orphan").unwrap_err().contains("supported"));
    }
}
