//! Where revisions live: ConfigMaps in `kube-system`, one per revision, readable with
//! `kubectl -n kube-system get configmaps -l homelab.dev/environment=ENV
//! -L homelab.dev/revision,homelab.dev/outcome,homelab.dev/commit`; the record is the
//! `revision.json` key.
//!
//! The ConfigMaps are a ring of `keep` slots, `homelab-<env>-revision-<slot>` with
//! `slot = revision % keep`: recording one overwrites the oldest in its slot, so an
//! apply costs one LIST (to number the new revision) and one server-side apply, and
//! never a DELETE — except when `keep` was lowered, and then only once.
//!
//! # Guarantees
//! - A revision's ConfigMap does not carry the ApplySet `part-of` label: pruning never
//!   sees it, and `destroy` leaves the history in place (and records itself in it).
//! - A ConfigMap that does not parse as a revision is skipped by readers, not fatal.

use serde_json::{json, Value};

use super::client::{ApiClient, ApplyParams, RequestError};
use super::resource::Resource;
use super::revision::{Cause, History, Revision};
use crate::render::ownership::{
    APPLYSET_PARENT_NAMESPACE, ENVIRONMENT_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};

pub(crate) const REVISION_LABEL: &str = "homelab.dev/revision";
pub(crate) const OUTCOME_LABEL: &str = "homelab.dev/outcome";
pub(crate) const COMMIT_LABEL: &str = "homelab.dev/commit";
/// The ConfigMap key holding the record.
pub(crate) const RECORD_KEY: &str = "revision.json";
/// Marks a ConfigMap as a revision (besides the environment label every member has).
pub(crate) const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
const COMPONENT_VALUE: &str = "homelab-revision";

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("Failed to read the revisions of environment `{env}` from kube-system")]
    List {
        env: String,
        #[source]
        source: RequestError,
    },
    #[error("Failed to record revision {revision} of environment `{env}` in kube-system/{name}")]
    Write {
        env: String,
        revision: u64,
        name: String,
        #[source]
        source: RequestError,
    },
}

fn configmaps() -> Resource {
    Resource {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        namespaced: true,
    }
}

/// The ConfigMap name of `revision`'s slot.
pub(crate) fn slot_name(env: &str, revision: u64, keep: u32) -> String {
    format!(
        "homelab-{env}-revision-{}",
        revision % u64::from(keep.max(1))
    )
}

fn selector(env: &str) -> String {
    format!("{COMPONENT_LABEL}={COMPONENT_VALUE},{ENVIRONMENT_LABEL}={env}")
}

/// The ConfigMap recording `revision`.
pub(crate) fn body(revision: &Revision, keep: u32) -> Value {
    let record = serde_json::to_string_pretty(revision).unwrap_or_default();
    let mut labels = json!({
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        COMPONENT_LABEL: COMPONENT_VALUE,
        ENVIRONMENT_LABEL: revision.environment,
        REVISION_LABEL: revision.revision.to_string(),
        OUTCOME_LABEL: serde_json::to_value(revision.outcome).unwrap_or_default(),
    });
    if let Some(commit) = &revision.source.commit {
        labels[COMMIT_LABEL] = Value::String(commit.chars().take(40).collect());
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": slot_name(&revision.environment, revision.revision, keep),
            "namespace": APPLYSET_PARENT_NAMESPACE,
            "labels": labels,
        },
        "data": { RECORD_KEY: record },
    })
}

/// The revision a listed ConfigMap holds, when it holds one.
fn parse(item: &Value) -> Option<(String, Revision)> {
    let name = item.pointer("/metadata/name")?.as_str()?.to_string();
    let text = item.pointer("/data")?.get(RECORD_KEY)?.as_str()?;
    Some((name, serde_json::from_str(text).ok()?))
}

/// Lists the environment's revisions, with the ConfigMap each lives in.
async fn list_named(client: &ApiClient, env: &str) -> Result<Vec<(String, Revision)>, StoreError> {
    let path = configmaps().collection_path(Some(APPLYSET_PARENT_NAMESPACE));
    let items = client
        .list(&path, Some(&selector(env)), None)
        .await
        .map_err(|source| StoreError::List {
            env: env.to_string(),
            source,
        })?;
    Ok(items
        .iter()
        .filter_map(parse)
        .filter(|(_, r)| r.environment == env)
        .collect())
}

/// The environment's history (an empty one when nothing was recorded yet).
pub(crate) async fn read(client: &ApiClient, env: &str) -> Result<History, StoreError> {
    Ok(History::new(
        list_named(client, env)
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect(),
    ))
}

/// Numbers `revision` after the latest recorded one, stores it in its slot, and drops
/// revisions that fell out of the last `keep`. Returns the number given.
pub(crate) async fn record(
    client: &ApiClient,
    mut revision: Revision,
    keep: u32,
) -> Result<u64, StoreError> {
    let env = revision.environment.clone();
    let listed = list_named(client, &env).await?;
    revision.revision = listed.iter().map(|(_, r)| r.revision).max().unwrap_or(0) + 1;
    if revision.cause == Cause::Destroy {
        // Which releases a destroy of the whole environment removed is known only from
        // the history, which this listing has just read.
        let before = History::new(listed.iter().map(|(_, r)| r.clone()).collect());
        revision.releases = Revision::destroyed(&before, &revision.selected);
    }
    let body = body(&revision, keep);
    let name = slot_name(&env, revision.revision, keep);
    let path = configmaps().object_path(Some(APPLYSET_PARENT_NAMESPACE), &name);
    let params = ApplyParams {
        dry_run: false,
        force: true,
    };
    client
        .apply(&path, &body, params)
        .await
        .map_err(|source| StoreError::Write {
            env: env.clone(),
            revision: revision.revision,
            name: name.clone(),
            source,
        })?;
    let oldest_kept = revision.revision.saturating_sub(u64::from(keep.max(1)) - 1);
    for (stale, r) in &listed {
        if r.revision < oldest_kept && *stale != name {
            let path = configmaps().object_path(Some(APPLYSET_PARENT_NAMESPACE), stale);
            // A stale slot left behind is only clutter; the next run tries again.
            let _ = client.delete(&path, false).await;
        }
    }
    Ok(revision.revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::revision::{Outcome, Source};

    #[test]
    fn slots_ring_and_the_body_is_labelled_for_kubectl() {
        assert_eq!(slot_name("dev", 12, 10), "homelab-dev-revision-2");
        assert_eq!(slot_name("dev", 3, 0), "homelab-dev-revision-0");
        let r = Revision {
            revision: 12,
            environment: "dev".into(),
            time: "2026-01-01T00:00:00Z".into(),
            source: Source {
                commit: Some("ab".repeat(20)),
                dirty: false,
            },
            user: "ayumi@laptop".into(),
            homelab: "0.1.0".into(),
            cause: Cause::Apply,
            restores: None,
            selected: vec![],
            outcome: Outcome::Succeeded,
            releases: Default::default(),
        };
        let b = body(&r, 10);
        assert_eq!(b["metadata"]["labels"][REVISION_LABEL], "12");
        assert_eq!(b["metadata"]["labels"][OUTCOME_LABEL], "succeeded");
        assert_eq!(b["metadata"]["labels"][COMMIT_LABEL], "ab".repeat(20));
        let (name, back) = parse(&b).unwrap();
        assert_eq!((name.as_str(), back), ("homelab-dev-revision-2", r));
    }
}
