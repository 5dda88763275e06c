//! Deleting pruned members and waiting until they are really gone: a member deleted
//! with foreground propagation, or held by finalizers (a PVC in use, a namespace
//! being emptied), stays on the server, terminating, and is not counted as deleted
//! until it has gone. Waiting lists each kind once per poll round
//! ([`super::wait::wait_gone`]), so deleting N members of k kinds costs N deletes plus
//! k lists a round.

use std::time::Duration;

use super::client::ApiClient;
use super::prune::Candidate;
use super::wait::{wait_gone, GoneTarget};

/// Deletes the candidates of `batch` not kept, then (unless `dry_run`) waits up to
/// `timeout` for them to be gone. One result per candidate of `batch`, in order: the
/// error names what still holds an object at the deadline.
pub(crate) async fn delete_and_wait(
    client: &ApiClient,
    batch: &[&Candidate],
    dry_run: bool,
    timeout: Duration,
    label_selector: &str,
    stop: impl Fn() -> bool,
) -> Vec<Result<(), String>> {
    let deletes = futures::future::join_all(batch.iter().map(|c| async move {
        if c.kept.is_some() {
            return Ok(false);
        }
        let path = c.resource.object_path(c.namespace.as_deref(), &c.name);
        client
            .delete_propagating(&path, dry_run, "Foreground")
            .await
            .map_err(|e| e.to_string())
    }))
    .await;
    let targets: Vec<GoneTarget> = batch
        .iter()
        .zip(&deletes)
        .enumerate()
        .filter(|(_, (_, deleted))| matches!(deleted, Ok(true)) && !dry_run)
        .map(|(id, (c, _))| GoneTarget {
            id,
            resource: c.resource.clone(),
            namespace: c.namespace.clone(),
            name: c.name.clone(),
        })
        .collect();
    let still = if targets.is_empty() {
        Vec::new()
    } else {
        wait_gone(client, &targets, label_selector, timeout, stop).await
    };
    let mut results: Vec<Result<(), String>> = deletes.into_iter().map(|d| d.map(|_| ())).collect();
    for (id, why) in still {
        results[id] = Err(format!(
            "deleted, but still on the server after {timeout:?}: {why}"
        ));
    }
    results
}
