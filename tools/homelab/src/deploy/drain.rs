//! Draining a node before a reboot, as `kubectl drain` does: every pod on the node is
//! evicted through the Eviction API, so PodDisruptionBudgets are respected (the server
//! answers 429 while a budget forbids it), retried until the timeout.
//!
//! # Guarantees
//! - Pods are never deleted directly; only evictions are sent.
//! - DaemonSet pods and static (mirror) pods stay: the node's own agents run them.
//! - On timeout the error names the pod that still blocks and the server's reason.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::apply::ApiClient;

/// How long to wait between rounds of evictions.
const ROUND: Duration = Duration::from_millis(250);

/// Evicts the pods of `node` that a drain moves, and waits until they are gone.
pub(crate) async fn drain(
    api: &ApiClient,
    node: &str,
    timeout: Duration,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut reported = std::collections::BTreeSet::new();
    loop {
        let pods = pods_on(api, node).await?;
        if pods.is_empty() {
            return Ok(());
        }
        let mut blocked = None;
        for (namespace, name) in &pods {
            match evict(api, namespace, name).await {
                Ok(()) => {
                    if reported.insert((namespace.clone(), name.clone())) {
                        log(&format!("[{node}] evicted pod {namespace}/{name}"));
                    }
                }
                Err(why) => blocked = Some(format!("pod {namespace}/{name}: {why}")),
            }
        }
        if Instant::now() >= deadline {
            let why = blocked.unwrap_or_else(|| {
                let (namespace, name) = &pods[0];
                format!("pod {namespace}/{name} is still terminating")
            });
            return Err(format!(
                "draining node `{node}` timed out after {}s; blocked by {why}",
                timeout.as_secs_f64()
            ));
        }
        tokio::time::sleep(ROUND).await;
    }
}

/// The (namespace, name) of each pod on `node` a drain evicts.
async fn pods_on(api: &ApiClient, node: &str) -> Result<Vec<(String, String)>, String> {
    let selector = format!("spec.nodeName={node}");
    let pods = api
        .list("/api/v1/pods", None, Some(selector.as_str()))
        .await
        .map_err(|e| format!("listing the pods on node `{node}` failed: {e}"))?;
    Ok(pods.iter().filter(|p| moves(p)).filter_map(key).collect())
}

fn key(pod: &Value) -> Option<(String, String)> {
    let meta = pod.get("metadata")?;
    Some((
        meta.get("namespace")?.as_str()?.to_string(),
        meta.get("name")?.as_str()?.to_string(),
    ))
}

/// Whether a drain moves `pod`: not a DaemonSet's, not a static pod's mirror.
fn moves(pod: &Value) -> bool {
    let meta = &pod["metadata"];
    let daemon = meta["ownerReferences"]
        .as_array()
        .is_some_and(|o| o.iter().any(|r| r["kind"] == "DaemonSet"));
    let mirror = meta["annotations"]
        .get("kubernetes.io/config.mirror")
        .is_some();
    !daemon && !mirror
}

async fn evict(api: &ApiClient, namespace: &str, name: &str) -> Result<(), String> {
    let eviction = json!({
        "apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
    });
    let path = format!("/api/v1/namespaces/{namespace}/pods/{name}/eviction");
    match api.create(&path, &eviction).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_set_and_mirror_pods_stay() {
        let pod = |meta: Value| json!({"metadata": meta});
        assert!(moves(&pod(json!({"name": "web", "namespace": "app"}))));
        assert!(!moves(&pod(json!({
            "name": "vector-x", "ownerReferences": [{"kind": "DaemonSet", "name": "vector"}]
        }))));
        assert!(!moves(&pod(json!({
            "name": "kube-apiserver-cp", "annotations": {"kubernetes.io/config.mirror": "x"}
        }))));
    }
}
