//! One apply per environment at a time: a `coordination.k8s.io/v1` Lease
//! `homelab-<env>` in `kube-system` holding `user@host pid N` and a TTL, renewed while
//! the run lasts.
//!
//! # Guarantees
//! - A second run waits up to its lock timeout, then fails naming the holder.
//! - A lease not renewed within its TTL (a killed holder) is taken over, with a warning.
//! - [`LockGuard::release`] deletes the lease unless someone else holds it by then; the
//!   CLI calls it on success, on error and after SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::client::{ApiClient, RequestError};
use super::resource::Resource;
use crate::render::ownership::APPLYSET_PARENT_NAMESPACE;

/// Why the lock was not taken.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum LockError {
    #[error("Environment `{env}` is locked by {holder} (lease kube-system/{name}, renewed {renewed}); gave up after {waited:?}. Wait for that run to finish, or raise --lock-timeout")]
    Held {
        env: String,
        name: String,
        holder: String,
        renewed: String,
        waited: Duration,
    },
    #[error("Taking the lock failed: {0}")]
    Request(#[from] RequestError),
}

/// What the lock tells its caller as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LockNotice {
    Waiting { holder: String },
    TakenOver { holder: String, expired: String },
}

/// How to lock.
#[derive(Debug, Clone)]
pub(crate) struct LockOptions {
    pub identity: String,
    pub ttl: Duration,
    pub timeout: Duration,
}

/// `user@host pid N` for this process.
pub(crate) fn identity() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host} pid {}", std::process::id())
}

fn leases() -> Resource {
    Resource {
        group: "coordination.k8s.io".into(),
        version: "v1".into(),
        kind: "Lease".into(),
        plural: "leases".into(),
        namespaced: true,
    }
}

fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// The lock name for an environment.
pub(crate) fn lease_name(env: &str) -> String {
    format!("homelab-{env}")
}

/// A held lock; renewed in the background until released.
pub(crate) struct LockGuard {
    client: ApiClient,
    path: String,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

fn lease_body(name: &str, identity: &str, ttl: Duration, acquired: &str) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": APPLYSET_PARENT_NAMESPACE},
        "spec": {
            "holderIdentity": identity,
            "leaseDurationSeconds": ttl.as_secs().max(1),
            "acquireTime": acquired,
            "renewTime": now_micro(),
        },
    })
}

/// Whether a lease's holder stopped renewing it: `renewTime + leaseDurationSeconds`
/// lies in the past. A lease without a parsable time counts as expired.
pub(crate) fn expired(lease: &Value) -> bool {
    let spec = &lease["spec"];
    let Some(renewed) = spec["renewTime"]
        .as_str()
        .or(spec["acquireTime"].as_str())
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    else {
        return true;
    };
    let ttl = spec["leaseDurationSeconds"].as_i64().unwrap_or(0);
    renewed + jiff::SignedDuration::from_secs(ttl) < jiff::Timestamp::now()
}

/// Takes the environment's lock, waiting up to `options.timeout`.
pub(crate) async fn acquire(
    client: &ApiClient,
    env: &str,
    options: &LockOptions,
    notice: &(dyn Fn(LockNotice) + Sync),
) -> Result<LockGuard, LockError> {
    let name = lease_name(env);
    let collection = leases().collection_path(Some(APPLYSET_PARENT_NAMESPACE));
    let path = leases().object_path(Some(APPLYSET_PARENT_NAMESPACE), &name);
    let started = Instant::now();
    let mut told = false;
    loop {
        let body = lease_body(&name, &options.identity, options.ttl, &now_micro());
        match client.create(&collection, &body).await {
            Ok(_) => break,
            Err(e) if e.code() == Some(409) => {}
            Err(e) => return Err(e.into()),
        }
        let Some(live) = client.get(&path).await? else {
            continue;
        };
        let holder = live["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if holder == options.identity {
            break;
        }
        if holder.is_empty() || expired(&live) {
            let mut taken = body.clone();
            taken["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"].clone();
            match client.replace(&path, &taken).await {
                Ok(_) => {
                    if !holder.is_empty() {
                        notice(LockNotice::TakenOver {
                            holder,
                            expired: live["spec"]["renewTime"].as_str().unwrap_or("").into(),
                        });
                    }
                    break;
                }
                Err(e) if e.code() == Some(409) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let waited = started.elapsed();
        if waited >= options.timeout {
            return Err(LockError::Held {
                env: env.into(),
                name,
                holder,
                renewed: live["spec"]["renewTime"].as_str().unwrap_or("never").into(),
                waited,
            });
        }
        if !told {
            notice(LockNotice::Waiting {
                holder: holder.clone(),
            });
            told = true;
        }
        let pause = Duration::from_millis(500).min(options.timeout - waited);
        tokio::time::sleep(pause.max(Duration::from_millis(10))).await;
    }
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = tokio::spawn(renew(
        client.clone(),
        path.clone(),
        options.identity.clone(),
        options.ttl,
        lost.clone(),
    ));
    Ok(LockGuard {
        client: client.clone(),
        path,
        lost,
        renewer,
    })
}

/// Renews every third of the TTL; stops (and marks the lock lost) when someone else
/// holds the lease.
async fn renew(
    client: ApiClient,
    path: String,
    identity: String,
    ttl: Duration,
    lost: Arc<AtomicBool>,
) {
    let every = (ttl / 3).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        let Ok(Some(mut live)) = client.get(&path).await else {
            continue;
        };
        if live["spec"]["holderIdentity"].as_str() != Some(identity.as_str()) {
            lost.store(true, Ordering::Relaxed);
            return;
        }
        live["spec"]["renewTime"] = json!(now_micro());
        let _ = client.replace(&path, &live).await;
    }
}

impl LockGuard {
    /// Whether another run took the lease over (this run outlived its TTL unrenewed).
    pub(crate) fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Stops renewing and deletes the lease, unless it was lost to another holder.
    pub(crate) async fn release(self) -> Result<(), RequestError> {
        self.renewer.abort();
        if self.lost() {
            return Ok(());
        }
        self.client.delete(&self.path, false).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry() {
        let old = json!({"spec": {"renewTime": "2020-01-01T00:00:00.000000Z", "leaseDurationSeconds": 30}});
        assert!(expired(&old));
        let fresh = json!({"spec": {"renewTime": now_micro(), "leaseDurationSeconds": 30}});
        assert!(!expired(&fresh));
        assert!(expired(&json!({"spec": {}})));
    }
}
