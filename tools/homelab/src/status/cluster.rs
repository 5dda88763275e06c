//! One environment's cluster as `status` shows it: each release's objects ready of
//! total, its last revision and commit, and its drift (members whose live
//! `homelab.dev/applied-hash` differs from the revision's, or that one of them lacks);
//! the environment's lock holder; the nodes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::apply::applyset::Parent;
use crate::apply::lock::{expired, lease_name};
use crate::apply::plan::APPLIED_HASH_ANNOTATION;
use crate::apply::readiness::{readiness, Readiness};
use crate::apply::revision::{object_key, Cause, History};
use crate::apply::{revision_store, Cluster};
use crate::render::ownership::{
    applyset_id, APPLYSET_PARENT_NAMESPACE, PART_OF_LABEL, RELEASE_LABEL,
};

/// One release in the cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ReleaseStatus {
    pub name: String,
    pub ready: usize,
    pub total: usize,
    /// The latest revision that applied the release, and its commit (`+dirty`).
    pub revision: Option<u64>,
    pub commit: Option<String>,
    /// That revision was a `destroy`: what is still live is what its guards kept, not
    /// drift.
    pub destroyed: bool,
    pub drift: usize,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NodeStatus {
    pub name: String,
    pub ready: bool,
    pub cordoned: bool,
    pub kubelet: String,
}

/// What a reachable cluster holds for one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ClusterStatus {
    pub lock_holder: Option<String>,
    pub latest_revision: Option<u64>,
    pub releases: Vec<ReleaseStatus>,
    pub nodes: Vec<NodeStatus>,
}

/// A live member: release, key, ready, applied-hash.
struct Member {
    release: String,
    key: String,
    ready: bool,
    hash: Option<String>,
}

/// Reads `env`'s status from `cluster`; a failed request is the whole answer's error.
pub(crate) async fn read(cluster: &Cluster, env: &str) -> Result<ClusterStatus, String> {
    let client = &cluster.client;
    let history = revision_store::read(client, env)
        .await
        .map_err(|e| format!("{e}: {}", source_of(&e)))?;
    let members = members(cluster, env).await?;
    let lease = format!(
        "/apis/coordination.k8s.io/v1/namespaces/{APPLYSET_PARENT_NAMESPACE}/leases/{}",
        lease_name(env)
    );
    let lock_holder = client
        .get(&lease)
        .await
        .map_err(|e| e.to_string())?
        .filter(|l| !expired(l))
        .and_then(|l| {
            l.pointer("/spec/holderIdentity")?
                .as_str()
                .map(str::to_string)
        });
    let nodes = client
        .list("/api/v1/nodes", None, None)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(node)
        .collect();
    Ok(ClusterStatus {
        lock_holder,
        latest_revision: history.latest().map(|r| r.revision),
        releases: releases(&history, &members),
        nodes,
    })
}

fn source_of(e: &dyn std::error::Error) -> String {
    e.source().map_or_else(String::new, |s| s.to_string())
}

/// Every member of the environment's apply set, one LIST per group-kind the parent
/// records.
async fn members(cluster: &Cluster, env: &str) -> Result<Vec<Member>, String> {
    let id = applyset_id(env);
    let membership = Parent::new(env, &id)
        .read(&cluster.client)
        .await
        .map_err(|e| e.to_string())?;
    let selector = format!("{PART_OF_LABEL}={id}");
    let mut out = Vec::new();
    for gk in &membership.group_kinds {
        let (kind, group) = gk.split_once('.').unwrap_or((gk.as_str(), ""));
        let Ok(resource) = cluster.discovery.resolve_group_kind(group, kind).await else {
            continue;
        };
        let items = cluster
            .client
            .list(&resource.collection_path(None), Some(&selector), None)
            .await
            .map_err(|e| e.to_string())?;
        for item in &items {
            let text = |p: &str| item.pointer(p).and_then(Value::as_str);
            out.push(Member {
                release: text(&format!(
                    "/metadata/labels/{}",
                    RELEASE_LABEL.replace('/', "~1")
                ))
                .unwrap_or("")
                .to_string(),
                key: object_key(
                    gk,
                    text("/metadata/namespace"),
                    text("/metadata/name").unwrap_or(""),
                ),
                ready: matches!(readiness(group, kind, item), Readiness::Ready),
                hash: item
                    .pointer("/metadata/annotations")
                    .and_then(|a| a.get(APPLIED_HASH_ANNOTATION))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// Each release that has live members or a revision, by name.
fn releases(history: &History, members: &[Member]) -> Vec<ReleaseStatus> {
    let mut out: BTreeMap<String, ReleaseStatus> = BTreeMap::new();
    for m in members {
        let r = out.entry(m.release.clone()).or_default();
        r.total += 1;
        r.ready += usize::from(m.ready);
    }
    for revision in &history.revisions {
        for name in revision.releases.keys() {
            out.entry(name.clone()).or_default();
        }
    }
    for (name, status) in out.iter_mut() {
        status.name = name.clone();
        let Some(revision) = history.last_with(name, u64::MAX) else {
            status.drift = status.total;
            continue;
        };
        status.revision = Some(revision.revision);
        status.commit = Some(revision.short_commit());
        if revision.cause == Cause::Destroy {
            status.destroyed = true;
            continue;
        }
        let recorded = &revision.releases[name].objects;
        let live: BTreeMap<&str, Option<&str>> = members
            .iter()
            .filter(|m| &m.release == name)
            .map(|m| (m.key.as_str(), m.hash.as_deref()))
            .collect();
        let differing = recorded
            .iter()
            .filter(|(key, hash)| live.get(key.as_str()).copied().flatten() != Some(hash.as_str()))
            .count();
        let extra = live.keys().filter(|k| !recorded.contains_key(**k)).count();
        status.drift = differing + extra;
    }
    out.into_values().collect()
}

fn node(item: &Value) -> NodeStatus {
    let ready = item
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True");
    NodeStatus {
        name: item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ready,
        cordoned: item
            .pointer("/spec/unschedulable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        kubelet: item
            .pointer("/status/nodeInfo/kubeletVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    }
}
