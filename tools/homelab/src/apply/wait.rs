//! Waiting for a stage's objects to become ready, by polling one LIST per resource
//! (filtered by the ApplySet label) rather than one GET per object, and explaining
//! whatever is still not ready at the deadline from its conditions and recent Events.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::client::ApiClient;
use super::readiness::{readiness, Readiness};
use super::resource::Resource;

/// One object to wait for; `id` is the caller's (the plan index).
#[derive(Debug, Clone)]
pub(crate) struct WaitTarget {
    pub id: usize,
    pub resource: Resource,
    pub namespace: Option<String>,
    pub name: String,
}

/// An object that did not become ready, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReady {
    pub id: usize,
    /// The readiness check's words; `failed` tells a hopeless object from a slow one.
    pub reason: String,
    pub failed: bool,
    /// Recent Events about the object, newest last: `Warning Reason: message`.
    pub events: Vec<String>,
}

const FIRST_POLL: Duration = Duration::from_millis(20);
const MAX_POLL: Duration = Duration::from_secs(1);
/// Events quoted per object in a report.
const EVENTS_SHOWN: usize = 5;

/// Polls until every target is ready, has failed, `timeout` passed or `stop` says so.
/// Calls `ready` for each target as it becomes ready. Returns those that did not.
pub(crate) async fn wait_ready(
    client: &ApiClient,
    targets: &[WaitTarget],
    label_selector: &str,
    timeout: Duration,
    ready: impl Fn(usize),
    stop: impl Fn() -> bool,
) -> Vec<NotReady> {
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<(&WaitTarget, String)> = targets
        .iter()
        .map(|t| (t, "not seen yet".to_string()))
        .collect();
    let mut failed: Vec<(&WaitTarget, String)> = Vec::new();
    let mut interval = FIRST_POLL;
    while !pending.is_empty() {
        let mut by_resource: BTreeMap<String, &Resource> = BTreeMap::new();
        for (t, _) in &pending {
            by_resource.insert(t.resource.collection_path(None), &t.resource);
        }
        let lists = futures::future::join_all(by_resource.keys().map(|path| async move {
            (
                path.clone(),
                client.list(path, Some(label_selector), None).await,
            )
        }))
        .await;
        let lists: BTreeMap<String, Result<Vec<Value>, _>> = lists.into_iter().collect();
        let mut still = Vec::new();
        for (target, previous) in pending {
            let path = target.resource.collection_path(None);
            let reason = match lists.get(&path) {
                Some(Ok(items)) => match find(items, target) {
                    Some(obj) => {
                        match readiness(&target.resource.group, &target.resource.kind, obj) {
                            Readiness::Ready => {
                                ready(target.id);
                                continue;
                            }
                            Readiness::Failed(why) => {
                                failed.push((target, why));
                                continue;
                            }
                            Readiness::Pending(why) => why,
                        }
                    }
                    None => "not found on the server".to_string(),
                },
                // A failed poll keeps the last known reason; the next poll may succeed.
                Some(Err(e)) => format!("{previous} (last poll failed: {e})"),
                None => previous,
            };
            still.push((target, reason));
        }
        pending = still;
        let now = Instant::now();
        if pending.is_empty() || now >= deadline || stop() {
            break;
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        if stop() {
            break;
        }
        interval = (interval * 3 / 2).min(MAX_POLL);
    }
    let mut report = Vec::new();
    for (target, reason, is_failed) in failed.into_iter().map(|(t, r)| (t, r, true)).chain(
        pending
            .into_iter()
            .map(|(t, r)| (t, format!("timed out: {r}"), false)),
    ) {
        report.push(NotReady {
            id: target.id,
            reason,
            failed: is_failed,
            events: recent_events(client, target).await,
        });
    }
    report.sort_by_key(|n| n.id);
    report
}

fn find<'a>(items: &'a [Value], target: &WaitTarget) -> Option<&'a Value> {
    items.iter().find(|o| {
        o.pointer("/metadata/name").and_then(Value::as_str) == Some(target.name.as_str())
            && o.pointer("/metadata/namespace").and_then(Value::as_str)
                == target.namespace.as_deref()
    })
}

/// The latest Events about `target` (best effort: none when they cannot be read).
async fn recent_events(client: &ApiClient, target: &WaitTarget) -> Vec<String> {
    let events = Resource {
        group: String::new(),
        version: "v1".into(),
        kind: "Event".into(),
        plural: "events".into(),
        namespaced: true,
    };
    let namespace = target.namespace.as_deref().unwrap_or("default");
    let selector = format!(
        "involvedObject.name={},involvedObject.kind={}",
        target.name, target.resource.kind
    );
    let Ok(mut items) = client
        .list(
            &events.collection_path(Some(namespace)),
            None,
            Some(&selector),
        )
        .await
    else {
        return Vec::new();
    };
    items.sort_by(|a, b| event_time(a).cmp(event_time(b)));
    let skip = items.len().saturating_sub(EVENTS_SHOWN);
    items
        .iter()
        .skip(skip)
        .map(|e| {
            format!(
                "{} {}: {}",
                e.get("type").and_then(Value::as_str).unwrap_or("Normal"),
                e.get("reason").and_then(Value::as_str).unwrap_or(""),
                e.get("message").and_then(Value::as_str).unwrap_or("")
            )
        })
        .collect()
}

fn event_time(e: &Value) -> &str {
    ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|k| e.get(*k).and_then(Value::as_str))
        .or_else(|| {
            e.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
        })
        .unwrap_or("")
}

/// An object being deleted; `id` is the caller's.
#[derive(Debug, Clone)]
pub(crate) struct GoneTarget {
    pub id: usize,
    pub resource: Resource,
    pub namespace: Option<String>,
    pub name: String,
}

/// Polls until every target is gone from the server, `timeout` passed or `stop` says
/// so. A poll round lists each resource of the pending targets once, by
/// `label_selector` (what deleted objects still carry), so waiting for N objects of k
/// kinds costs k requests a round, whatever N. Returns those still there, each with
/// what holds it: its finalizers, or that its deletion has not started.
pub(crate) async fn wait_gone(
    client: &ApiClient,
    targets: &[GoneTarget],
    label_selector: &str,
    timeout: Duration,
    stop: impl Fn() -> bool,
) -> Vec<(usize, String)> {
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<(&GoneTarget, String)> = targets
        .iter()
        .map(|t| (t, "not seen yet".to_string()))
        .collect();
    let mut interval = FIRST_POLL;
    loop {
        let paths: std::collections::BTreeSet<String> = pending
            .iter()
            .map(|(t, _)| t.resource.collection_path(None))
            .collect();
        let lists = futures::future::join_all(paths.into_iter().map(|path| async move {
            let listed = client.list(&path, Some(label_selector), None).await;
            (path, listed)
        }))
        .await;
        let lists: BTreeMap<String, Result<Vec<Value>, _>> = lists.into_iter().collect();
        pending = pending
            .into_iter()
            .filter_map(
                |(t, previous)| match lists.get(&t.resource.collection_path(None)) {
                    Some(Ok(items)) => live_of(items, t).map(|o| (t, holder(o))),
                    Some(Err(e)) => Some((t, format!("{previous} (last poll failed: {e})"))),
                    None => Some((t, previous)),
                },
            )
            .collect();
        let now = Instant::now();
        if pending.is_empty() || now >= deadline || stop() {
            break;
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = (interval * 3 / 2).min(MAX_POLL);
    }
    pending.into_iter().map(|(t, why)| (t.id, why)).collect()
}

fn live_of<'a>(items: &'a [Value], t: &GoneTarget) -> Option<&'a Value> {
    items.iter().find(|o| {
        o.pointer("/metadata/name").and_then(Value::as_str) == Some(t.name.as_str())
            && o.pointer("/metadata/namespace").and_then(Value::as_str) == t.namespace.as_deref()
    })
}

/// Whether the server is deleting `object` (its `deletionTimestamp` is set).
pub(crate) fn is_terminating(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// The finalizers of `object`.
pub(crate) fn finalizers(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// What keeps a live object from being gone, in words.
fn holder(object: &Value) -> String {
    let finalizers = finalizers(object);
    match (is_terminating(object), finalizers.is_empty()) {
        (false, _) => "its deletion has not started".to_string(),
        (true, true) => "it is still terminating".to_string(),
        (true, false) => format!(
            "it is terminating, held by finalizer(s) {}",
            finalizers.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn what_holds_a_deletion_is_named() {
        let held = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z",
            "finalizers": ["foregroundDeletion", "example.com/x"]}});
        assert_eq!(
            holder(&held),
            "it is terminating, held by finalizer(s) foregroundDeletion, example.com/x"
        );
        assert!(is_terminating(&held));
        let alive = json!({"metadata": {"finalizers": ["a"]}});
        assert!(!is_terminating(&alive));
        assert_eq!(holder(&alive), "its deletion has not started");
    }
}
