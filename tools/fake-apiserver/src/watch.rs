//! Minimal watches (`?watch=true`): a chunked stream of
//! `{"type":"ADDED|MODIFIED|DELETED","object":...}` lines from the store's
//! change log, filtered by namespace and selectors, ending at
//! `timeoutSeconds` (at most 30 minutes) or when the client goes away.
//!
//! # Caveats
//! - Without `resourceVersion` (or with "0") the stream starts with the
//!   current objects as ADDED events; `sendInitialEvents=true` then adds the
//!   `k8s.io/initial-events-end` BOOKMARK.
//! - An object that stops matching a selector is not reported as DELETED.
//! - A resourceVersion older than the kept log answers 410 Expired.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::handlers::Params;
use crate::resources::ResourceType;
use crate::routes::ResourcePath;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::state::Shared;
use crate::status::ApiError;
use crate::store::ObjKey;

const MAX_TIMEOUT: Duration = Duration::from_secs(1800);

struct Filter {
    rt: ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, key: &ObjKey, obj: &Value) -> bool {
        key.group == self.rt.group
            && key.plural == self.rt.plural
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| &key.namespace == ns)
            && self.name.as_ref().is_none_or(|n| &key.name == n)
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }

    fn line(&self, kind: &str, obj: &Value) -> Bytes {
        let mut obj = obj.clone();
        obj["apiVersion"] = json!(self.rt.api_version());
        let mut line = json!({"type": kind, "object": obj}).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

/// Starts a watch; the receiver yields the stream's chunks.
pub fn start(
    shared: Arc<Shared>,
    path: &ResourcePath,
    query: &Params,
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let bad = |e: crate::selectors::SelectorError| ApiError::bad_request(e.to_string());
    let state = shared.lock();
    let rt = state
        .registry()
        .find(&path.group, &path.version, &path.plural)
        .cloned()
        .ok_or_else(ApiError::no_route)?;
    if (path.namespace.is_some() && !rt.namespaced) || path.subresource.is_some() {
        return Err(ApiError::no_route());
    }
    let filter = Filter {
        rt,
        namespace: path.namespace.clone(),
        name: path.name.clone(),
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or("")).map_err(bad)?,
        fields: FieldSelector::parse(query.get("fieldSelector").unwrap_or("")).map_err(bad)?,
    };
    let mut initial = Vec::new();
    let cursor = match query
        .get("resourceVersion")
        .filter(|v| !v.is_empty() && *v != "0")
    {
        None => {
            for (k, o) in state.store.list(
                &filter.rt.group,
                &filter.rt.plural,
                filter.namespace.as_deref(),
            ) {
                if filter.matches(k, o) {
                    initial.push(filter.line("ADDED", o));
                }
            }
            state.store.resource_version()
        }
        Some(v) => {
            let rv: u64 = v
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {v:?}")))?;
            if state.store.changes_since(rv).is_none() {
                return Err(ApiError::new(
                    410,
                    "Expired",
                    format!(
                        "too old resource version: {rv} ({})",
                        state.store.resource_version()
                    ),
                ));
            }
            rv
        }
    };
    if query.get("sendInitialEvents") == Some("true") {
        let bookmark = json!({"kind": filter.rt.kind, "apiVersion": filter.rt.api_version(),
            "metadata": {"resourceVersion": cursor.to_string(),
                "annotations": {"k8s.io/initial-events-end": "true"}}});
        initial.push(filter.line("BOOKMARK", &bookmark));
    }
    drop(state);
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(MAX_TIMEOUT)
        .min(MAX_TIMEOUT);
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(stream(shared, filter, initial, cursor, timeout, tx));
    Ok(rx)
}

async fn stream(
    shared: Arc<Shared>,
    filter: Filter,
    initial: Vec<Bytes>,
    mut cursor: u64,
    timeout: Duration,
    tx: mpsc::Sender<Bytes>,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    for line in initial {
        if tx.send(line).await.is_err() {
            return;
        }
    }
    let mut written = shared.written.subscribe();
    loop {
        let lines: Vec<Bytes> = {
            let state = shared.lock();
            let Some(changes) = state.store.changes_since(cursor) else {
                return;
            };
            let lines = changes
                .filter(|c| filter.matches(&c.key, &c.object))
                .map(|c| filter.line(c.kind, &c.object))
                .collect();
            cursor = state.store.resource_version();
            lines
        };
        for line in lines {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        tokio::select! {
            changed = written.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep_until(deadline) => return,
            _ = tx.closed() => return,
        }
    }
}
