//! The controllers that finish deletions, as kube-controller-manager's do:
//! the garbage collector (`pkg/controller/garbagecollector`: dependents of
//! a gone owner are deleted, of a `foregroundDeletion` owner deleted first,
//! of an `orphan` owner released), the namespace controller (contents
//! deleted, then the `kubernetes` finalizer removed, with the
//! `NamespaceContentRemaining`/`NamespaceFinalizersRemaining` conditions
//! meanwhile) and PVC/PV protection (the finalizer stays while a Pod uses
//! the claim, or a claim the volume).
//!
//! A terminating object is left alone for [`super::ControllerConfig`]'s
//! `finalize_delay` after it was first seen, so tests can observe
//! Terminating; dependents of a gone owner go at once.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{json, Value};

use crate::deletion::{self, finalizers, is_terminating, Policy, FOREGROUND, ORPHAN};
use crate::state::State;
use crate::store::ObjKey;

pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

/// When each terminating object (by uid) was first seen.
#[derive(Debug, Default)]
pub struct Terminating(HashMap<String, Instant>);

/// One change a round makes; collected first, applied after.
enum Action {
    Delete(ObjKey, Policy),
    RemoveFinalizer(ObjKey, &'static str),
    DropOwners(ObjKey, Vec<String>),
    Namespace(ObjKey),
}

/// Runs rounds until nothing changes; returns the earliest deadline of an
/// object still waiting for its delay.
pub fn pass(
    state: &mut State,
    delay: std::time::Duration,
    seen: &mut Terminating,
    now: Instant,
    stamp: &str,
) -> Option<Instant> {
    let mut next = None;
    for _ in 0..64 {
        let before = state.store.resource_version();
        let (actions, due) = plan(state, delay, seen, now);
        next = due;
        for a in actions {
            act(state, a, stamp);
        }
        if state.store.resource_version() == before {
            break;
        }
    }
    let live: std::collections::HashSet<String> = state
        .store
        .all()
        .filter(|(_, o)| is_terminating(o))
        .filter_map(|(_, o)| o["metadata"]["uid"].as_str().map(str::to_owned))
        .collect();
    seen.0.retain(|uid, _| live.contains(uid));
    next
}

fn uid(obj: &Value) -> &str {
    obj["metadata"]["uid"].as_str().unwrap_or_default()
}

fn owner_refs(obj: &Value) -> impl Iterator<Item = &Value> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
}

fn plan(
    state: &State,
    delay: std::time::Duration,
    seen: &mut Terminating,
    now: Instant,
) -> (Vec<Action>, Option<Instant>) {
    // uid → whether the object is deleting its dependents (foreground).
    let mut nodes: HashMap<&str, bool> = HashMap::new();
    let mut dependents: HashMap<&str, Vec<(&ObjKey, bool)>> = HashMap::new();
    for (k, o) in state.store.all() {
        nodes.insert(
            uid(o),
            is_terminating(o) && finalizers(o).iter().any(|f| f == FOREGROUND),
        );
        for r in owner_refs(o) {
            let owner = r["uid"].as_str().unwrap_or_default();
            dependents
                .entry(owner)
                .or_default()
                .push((k, r["blockOwnerDeletion"] == true));
        }
    }
    let mut actions = Vec::new();
    let mut next: Option<Instant> = None;
    for (k, o) in state.store.all() {
        if owner_refs(o).next().is_some() {
            collect_garbage(k, o, &nodes, &dependents, &mut actions);
        }
        if !is_terminating(o) {
            continue;
        }
        let due = *seen.0.entry(uid(o).to_owned()).or_insert(now) + delay;
        if due > now {
            next = Some(next.map_or(due, |n: Instant| n.min(due)));
            continue;
        }
        let deps = dependents.get(uid(o)).map(Vec::as_slice).unwrap_or(&[]);
        finalize(state, k, o, deps, &mut actions);
    }
    (actions, next)
}

/// Upstream `attemptToDeleteItem` for an object with owners.
fn collect_garbage(
    key: &ObjKey,
    obj: &Value,
    nodes: &HashMap<&str, bool>,
    dependents: &HashMap<&str, Vec<(&ObjKey, bool)>>,
    actions: &mut Vec<Action>,
) {
    let (mut solid, mut gone, mut waiting) = (0, Vec::new(), Vec::new());
    for r in owner_refs(obj) {
        let owner = r["uid"].as_str().unwrap_or_default();
        match nodes.get(owner) {
            None => gone.push(owner.to_owned()),
            Some(true) => waiting.push(owner.to_owned()),
            Some(_) => solid += 1,
        }
    }
    if gone.is_empty() && waiting.is_empty() {
        return;
    }
    if solid > 0 {
        gone.extend(waiting);
        actions.push(Action::DropOwners(key.clone(), gone));
        return;
    }
    if is_terminating(obj) {
        return;
    }
    let has = |f: &str| finalizers(obj).iter().any(|x| x == f);
    let policy = if !waiting.is_empty() && dependents.contains_key(uid(obj)) {
        Policy::Foreground
    } else if has(ORPHAN) {
        Policy::Orphan
    } else if has(FOREGROUND) {
        Policy::Foreground
    } else {
        Policy::Background
    };
    actions.push(Action::Delete(key.clone(), policy));
}

/// What the controllers do for a terminating object whose delay is over.
fn finalize(
    state: &State,
    key: &ObjKey,
    obj: &Value,
    deps: &[(&ObjKey, bool)],
    actions: &mut Vec<Action>,
) {
    let fins = finalizers(obj);
    if fins.iter().any(|f| f == FOREGROUND) && !deps.iter().any(|(_, blocking)| *blocking) {
        actions.push(Action::RemoveFinalizer(key.clone(), FOREGROUND));
    }
    if fins.iter().any(|f| f == ORPHAN) {
        for (dep, _) in deps {
            actions.push(Action::DropOwners(
                (*dep).clone(),
                vec![uid(obj).to_owned()],
            ));
        }
        actions.push(Action::RemoveFinalizer(key.clone(), ORPHAN));
    }
    let core = key.group.is_empty();
    if core && key.plural == "namespaces" && spec_finalizers(obj).contains(&"kubernetes") {
        actions.push(Action::Namespace(key.clone()));
    }
    if core
        && key.plural == "persistentvolumeclaims"
        && fins.iter().any(|f| f == PVC_PROTECTION)
        && !claim_in_use(state, key)
    {
        actions.push(Action::RemoveFinalizer(key.clone(), PVC_PROTECTION));
    }
    if core && key.plural == "persistentvolumes" && fins.iter().any(|f| f == PV_PROTECTION) {
        let bound = state
            .store
            .list("", "persistentvolumeclaims", None)
            .any(|(_, c)| c["spec"]["volumeName"] == key.name.as_str());
        if !bound {
            actions.push(Action::RemoveFinalizer(key.clone(), PV_PROTECTION));
        }
    }
}

fn spec_finalizers(obj: &Value) -> Vec<&str> {
    obj["spec"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A Pod that has not finished names the claim among its volumes.
fn claim_in_use(state: &State, claim: &ObjKey) -> bool {
    state
        .store
        .list("", "pods", Some(&claim.namespace))
        .filter(|(_, p)| !matches!(p["status"]["phase"].as_str(), Some("Succeeded" | "Failed")))
        .any(|(_, p)| {
            p["spec"]["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v["persistentVolumeClaim"]["claimName"] == claim.name.as_str())
        })
}

fn act(state: &mut State, action: Action, stamp: &str) {
    match action {
        Action::Delete(key, policy) => {
            if let Some(live) = state.store.get(&key).cloned() {
                deletion::delete(state, &key, &live, Some(policy), stamp, false);
            }
        }
        Action::RemoveFinalizer(key, f) => deletion::remove_finalizer(state, &key, f),
        Action::DropOwners(key, uids) => drop_owners(state, &key, &uids),
        Action::Namespace(key) => namespace(state, &key, stamp),
    }
}

fn drop_owners(state: &mut State, key: &ObjKey, uids: &[String]) {
    let Some(mut obj) = state.store.get(key).cloned() else {
        return;
    };
    let Some(meta) = obj["metadata"].as_object_mut() else {
        return;
    };
    if let Some(Value::Array(refs)) = meta.get_mut("ownerReferences") {
        let before = refs.len();
        refs.retain(|r| !uids.iter().any(|u| r["uid"] == u.as_str()));
        if refs.len() == before {
            return;
        }
        if refs.is_empty() {
            meta.remove("ownerReferences");
        }
    }
    state.store.put(key.clone(), obj);
}

/// The namespace controller: deletes what the namespace holds (Background,
/// as upstream's deleter does), reports what remains in the namespace's
/// conditions, and once it is empty removes the `kubernetes` finalizer.
fn namespace(state: &mut State, key: &ObjKey, stamp: &str) {
    let contents: Vec<(ObjKey, Value)> = state
        .store
        .all()
        .filter(|(k, _)| k.namespace == key.name)
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    for (k, o) in contents.iter().filter(|(_, o)| !is_terminating(o)) {
        deletion::delete(state, k, o, Some(Policy::Background), stamp, false);
    }
    let mut resources: BTreeMap<String, usize> = BTreeMap::new();
    let mut held_by: BTreeMap<String, usize> = BTreeMap::new();
    for (k, _) in &contents {
        let Some(o) = state.store.get(k) else {
            continue;
        };
        *resources
            .entry(format!("{}.{}", k.plural, k.group))
            .or_default() += 1;
        for f in finalizers(o) {
            *held_by.entry(f).or_default() += 1;
        }
    }
    let Some(mut ns) = state.store.get(key).cloned() else {
        return;
    };
    if resources.is_empty() {
        let rest: Vec<&str> = spec_finalizers(&ns)
            .into_iter()
            .filter(|f| *f != "kubernetes")
            .collect();
        ns["spec"]["finalizers"] = json!(rest);
        deletion::finish_update(state, key, ns);
        return;
    }
    let list = |m: &BTreeMap<String, usize>, sep: &str| -> String {
        m.iter()
            .map(|(k, n)| format!("{k}{sep}{n} resource instances"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut conditions = vec![condition(
        "NamespaceContentRemaining",
        "SomeResourcesRemain",
        format!(
            "Some resources are remaining: {}",
            list(&resources, " has ")
        ),
        stamp,
    )];
    if !held_by.is_empty() {
        conditions.push(condition(
            "NamespaceFinalizersRemaining",
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                list(&held_by, " in ")
            ),
            stamp,
        ));
    }
    let same = |a: &Value, b: &Value| {
        let strip = |v: &Value| -> Vec<(Value, Value)> {
            v.as_array()
                .into_iter()
                .flatten()
                .map(|c| (c["type"].clone(), c["message"].clone()))
                .collect()
        };
        strip(a) == strip(b)
    };
    if !same(&ns["status"]["conditions"], &json!(conditions)) {
        ns["status"]["conditions"] = json!(conditions);
        state.store.put(key.clone(), ns);
    }
}

fn condition(kind: &str, reason: &str, message: String, stamp: &str) -> Value {
    json!({"type": kind, "status": "True", "lastTransitionTime": stamp, "reason": reason, "message": message})
}
