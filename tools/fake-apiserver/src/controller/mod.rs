//! The simulated controllers: after a configurable delay they mark
//! Deployments, StatefulSets and DaemonSets rolled out, Jobs complete and
//! CRDs Established — or keep chosen objects failing, with a condition
//! carrying the chosen reason and message and a Warning Event. Apart from
//! those readiness controllers (which `enabled` switches), the ones every
//! cluster runs always work: garbage collection, namespace deletion and
//! PVC/PV protection ([`lifecycle`]), and the `default` ServiceAccount and
//! `kube-root-ca.crt` ConfigMap of new namespaces ([`namespace_defaults`],
//! unless `namespace_defaults` is false).
//!
//! The loop wakes on every write and at the next pending deadline; it
//! writes status like a real controller (new resourceVersion, managed
//! fields of `kube-controller-manager` on the `status` subresource).

mod config;
pub mod lifecycle;
pub mod namespace_defaults;
mod status;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use crate::apply::fieldset::FieldSet;
use crate::apply::managed_fields::{self, Update};
use crate::apply::walk::{changes, owned_part};
use crate::apply::Schema;
use crate::state::{Shared, State};
use crate::store::ObjKey;

pub use config::{ControllerConfig, FailRule};
pub use status::Failure;

const MANAGED: &[(&str, &str, &str)] = &[
    ("", "pods", "Pod"),
    ("apps", "deployments", "Deployment"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "daemonsets", "DaemonSet"),
    ("batch", "jobs", "Job"),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        "CustomResourceDefinition",
    ),
];

/// What the loop remembers between passes: objects still to look at, when
/// each (uid, generation) was first seen, and how far the change log has
/// been read.
#[derive(Default)]
struct Progress {
    pending: BTreeSet<ObjKey>,
    first_seen: HashMap<(String, i64), Instant>,
    cursor: u64,
    config: Option<ControllerConfig>,
    /// How far the always-on controllers have read the change log, and
    /// whether they have work (None: look at everything).
    lifecycle_cursor: Option<u64>,
    lifecycle_due: Option<Instant>,
    terminating: lifecycle::Terminating,
}

fn managed_kind(key: &ObjKey) -> Option<&'static str> {
    MANAGED
        .iter()
        .find(|(g, p, _)| key.group == *g && key.plural == *p)
        .map(|(_, _, k)| *k)
}

/// Runs until the server stops (the task is aborted).
pub async fn run(shared: Arc<Shared>) {
    let mut progress = Progress::default();
    loop {
        let notified = shared.wake.notified();
        let cfg = shared.controller();
        let next = {
            let mut state = shared.lock();
            let before = state.store.resource_version();
            let always = always_on(&mut state, &cfg, &mut progress);
            let ready = if cfg.enabled {
                reconcile(&mut state, &cfg, &mut progress)
            } else {
                None
            };
            let wrote = state.store.resource_version() != before;
            drop(state);
            if wrote {
                shared.written.send_modify(|n| *n += 1);
            }
            match (always, ready) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        match next {
            Some(deadline) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline.into()) => {}
                    _ = notified => {}
                }
            }
            None => notified.await,
        }
    }
}

/// Whether a change can give the always-on controllers work.
fn lifecycle_relevant(c: &crate::store::Change) -> bool {
    let meta = &c.object["metadata"];
    c.kind == "DELETED"
        || meta["deletionTimestamp"].is_string()
        || meta["ownerReferences"].is_array()
        || (c.key.group.is_empty() && c.key.plural == "namespaces")
}

/// Garbage collection, namespace deletion, PVC protection and namespace
/// defaults, when a change since the last look or a deadline calls for it.
fn always_on(
    state: &mut State,
    cfg: &ControllerConfig,
    progress: &mut Progress,
) -> Option<Instant> {
    let now = Instant::now();
    let work = match progress.lifecycle_cursor {
        None => true,
        Some(cursor) => {
            progress.lifecycle_due.is_some_and(|d| d <= now)
                || state
                    .store
                    .changes_since(cursor)
                    .is_none_or(|mut cs| cs.any(lifecycle_relevant))
        }
    };
    if work {
        let stamp = crate::clock::now_rfc3339();
        progress.lifecycle_due = lifecycle::pass(
            state,
            cfg.finalize_delay,
            &mut progress.terminating,
            now,
            &stamp,
        );
        if cfg.namespace_defaults {
            namespace_defaults::ensure(state, &stamp);
        }
    }
    progress.lifecycle_cursor = Some(state.store.resource_version());
    progress.lifecycle_due
}

/// Collects the objects changed since the last pass (all of them after a
/// configuration change or when the change log was outrun).
fn collect(state: &State, cfg: &ControllerConfig, progress: &mut Progress) {
    let changed: Option<Vec<ObjKey>> = if progress.config.as_ref() == Some(cfg) {
        state
            .store
            .changes_since(progress.cursor)
            .map(|cs| cs.map(|c| c.key.clone()).collect())
    } else {
        None
    };
    match changed {
        Some(keys) => progress
            .pending
            .extend(keys.into_iter().filter(|k| managed_kind(k).is_some())),
        None => {
            for (group, plural, _) in MANAGED {
                progress.pending.extend(
                    state
                        .store
                        .list(group, plural, None)
                        .map(|(k, _)| k.clone()),
                );
            }
        }
    }
    progress.cursor = state.store.resource_version();
    progress.config = Some(cfg.clone());
}

/// One pass; returns the earliest deadline still pending.
fn reconcile(
    state: &mut State,
    cfg: &ControllerConfig,
    progress: &mut Progress,
) -> Option<Instant> {
    collect(state, cfg, progress);
    let now = Instant::now();
    let stamp = crate::clock::now_rfc3339();
    let mut next: Option<Instant> = None;
    let mut writes = Vec::new();
    let mut settled = Vec::new();
    for key in &progress.pending {
        let (Some(kind), Some(obj)) = (managed_kind(key), state.store.get(key)) else {
            settled.push(key.clone());
            continue;
        };
        if obj["metadata"]["deletionTimestamp"].is_string() {
            settled.push(key.clone());
            continue;
        }
        let failure = cfg
            .failing
            .iter()
            .find(|r| r.matches(kind, &key.namespace, &key.name, obj))
            .map(|r| Failure {
                reason: r.reason.clone(),
                message: r.message.clone(),
            });
        let Some(want) = status::desired(kind, obj, failure.as_ref(), cfg.daemonset_nodes, &stamp)
        else {
            settled.push(key.clone());
            continue;
        };
        if status::same(&obj["status"], &want) {
            settled.push(key.clone());
            continue;
        }
        let id = (
            obj["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            obj["metadata"]["generation"].as_i64().unwrap_or(0),
        );
        let due = *progress.first_seen.entry(id).or_insert(now) + cfg.ready_delay;
        if due > now {
            next = Some(next.map_or(due, |n| n.min(due)));
            continue;
        }
        settled.push(key.clone());
        writes.push((key.clone(), obj.clone(), want, failure, kind));
    }
    for key in settled {
        progress.pending.remove(&key);
    }
    for (key, obj, want, failure, kind) in writes {
        write_status(state, key, &obj, want);
        if let Some(f) = &failure {
            record_event(state, kind, &obj, f, &stamp);
        }
    }
    // Our own writes need no second look.
    progress.cursor = state.store.resource_version();
    if progress.pending.is_empty() {
        progress.first_seen.clear();
    }
    next
}

fn write_status(state: &mut State, key: ObjKey, obj: &Value, status: Value) {
    let mut new = obj.clone();
    new["status"] = status;
    let (set, removed) = changes(
        &owned_part(obj, true, true),
        &owned_part(&new, true, true),
        Schema::builtin(
            obj["apiVersion"].as_str().unwrap_or_default(),
            obj["kind"].as_str().unwrap_or_default(),
        ),
    );
    let mut entries = managed_fields::parse(obj);
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
    let now = crate::clock::now_rfc3339();
    Update {
        manager: "kube-controller-manager",
        api_version: &api_version,
        subresource: Some("status"),
        now: &now,
    }
    .record(&mut entries, &set, &FieldSet::from_iter(removed));
    managed_fields::store(&mut new, &entries);
    crate::objects::normalize(&mut new);
    state.store.put(key, new);
}

fn record_event(state: &mut State, kind: &str, obj: &Value, f: &Failure, now: &str) {
    let meta = &obj["metadata"];
    let ns = meta["namespace"].as_str().unwrap_or("default");
    if !state.namespace_exists(ns) {
        return;
    }
    let name = format!(
        "{}.{:016x}",
        meta["name"].as_str().unwrap_or_default(),
        state.rng.next_u64()
    );
    let mut event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {
            "apiVersion": obj["apiVersion"], "kind": kind, "name": meta["name"],
            "namespace": meta["namespace"], "uid": meta["uid"], "resourceVersion": meta["resourceVersion"],
        },
        "reason": f.reason,
        "message": f.message,
        "source": {"component": "fake-controller"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": "Warning",
        "reportingComponent": "fake-controller",
        "reportingInstance": "",
    });
    if meta["namespace"].is_null() {
        if let Some(io) = event["involvedObject"].as_object_mut() {
            io.remove("namespace");
        }
    }
    if let Some(rt) = crate::resources::builtin("Event") {
        crate::objects::stamp_new(rt, &mut event, &mut state.rng, now);
    }
    crate::objects::normalize(&mut event);
    state.store.put(ObjKey::new("", "events", ns, &name), event);
}
