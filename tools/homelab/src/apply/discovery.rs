//! Discovery, cached for the run and shared by every task. Aggregated discovery
//! (`/api` and `/apis`, two requests for the whole server, as kubectl 1.30+ does) when
//! the server offers it; otherwise one request per group version the set uses.
//!
//! # Caveats
//! What was read is kept; a failed request is not, so a transient error costs one
//! lookup, not the rest of the run. After CRDs are applied and Established, the executor calls
//! [`Discovery::forget`] for their group versions so the new kinds are seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::client::{ApiClient, RequestError};
use super::resource::{split_api_version, Resource};

/// Only successes are kept: a failed request (a dropped connection, say) is asked
/// again by the next lookup instead of failing every later object of the run.
type Cell = Arc<OnceCell<Vec<Resource>>>;
/// apiVersion → resources, in the server's order of preference; `None` when the server
/// has no aggregated discovery.
type Aggregated = Arc<OnceCell<Option<Vec<(String, Vec<Resource>)>>>>;

/// Resources by group version, fetched on first use.
pub struct Discovery {
    client: ApiClient,
    /// `/api` (core) and `/apis` (groups), each reset on its own.
    core: Mutex<Aggregated>,
    groups: Mutex<Aggregated>,
    cache: Mutex<HashMap<String, Cell>>,
}

/// Why a kind could not be mapped to a resource.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DiscoveryError {
    #[error("The server does not serve `{api_version}` (no such group version); is its CRD or API service installed?")]
    NoGroupVersion { api_version: String },
    #[error(
        "The server serves `{api_version}` but no kind `{kind}` in it; served kinds: {served}"
    )]
    NoKind {
        api_version: String,
        kind: String,
        served: String,
    },
    #[error("The server serves no kind `{kind}` in group `{group}`")]
    NoGroupKind { group: String, kind: String },
    #[error("Discovery of `{api_version}` failed: {source}")]
    Request {
        api_version: String,
        #[source]
        source: RequestError,
    },
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Discovery {
    pub fn new(client: ApiClient) -> Self {
        Discovery {
            client,
            core: Mutex::new(Aggregated::default()),
            groups: Mutex::new(Aggregated::default()),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Drops what is known of `api_version`, so the next lookup asks the server again.
    pub fn forget(&self, api_version: &str) {
        lock(&self.cache).remove(api_version);
        let slot = if api_version.contains('/') {
            &self.groups
        } else {
            &self.core
        };
        *lock(slot) = Aggregated::default();
    }

    async fn aggregated(&self, core: bool) -> Option<Vec<(String, Vec<Resource>)>> {
        let cell = lock(if core { &self.core } else { &self.groups }).clone();
        let path = if core { "/api" } else { "/apis" };
        // A failed request is not remembered as "no aggregated discovery"; this
        // lookup falls back to the group version's own document and the next one
        // asks again.
        cell.get_or_try_init(|| async {
            match self.client.aggregated_discovery(path).await {
                Ok(Some(doc)) => Ok(Some(parse_aggregated(&doc))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
        .ok()
        .cloned()
        .flatten()
    }

    /// The resources of `api_version`, from aggregated discovery or its own document.
    async fn resources(&self, api_version: &str) -> Result<Vec<Resource>, DiscoveryError> {
        if let Some(all) = self.aggregated(!api_version.contains('/')).await {
            return Ok(all
                .into_iter()
                .find(|(v, _)| v == api_version)
                .map(|(_, r)| r)
                .unwrap_or_default());
        }
        let cell = lock(&self.cache)
            .entry(api_version.to_string())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            match self.client.resources_of(api_version).await {
                Ok(Some(list)) => Ok(parse_resource_list(api_version, &list)),
                Ok(None) => Ok(Vec::new()),
                Err(e) => Err(e),
            }
        })
        .await
        .cloned()
        .map_err(|source| DiscoveryError::Request {
            api_version: api_version.to_string(),
            source,
        })
    }

    /// The resource serving `kind` in `api_version`.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resource, DiscoveryError> {
        let resources = self.resources(api_version).await?;
        if resources.is_empty() {
            return Err(DiscoveryError::NoGroupVersion {
                api_version: api_version.to_string(),
            });
        }
        resources
            .iter()
            .find(|r| r.kind == kind)
            .cloned()
            .ok_or_else(|| DiscoveryError::NoKind {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                served: resources
                    .iter()
                    .map(|r| r.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The resource serving `kind` in `group` at the server's preferred version (for
    /// group-kinds known only by name, as an ApplySet parent lists them).
    pub async fn resolve_group_kind(
        &self,
        group: &str,
        kind: &str,
    ) -> Result<Resource, DiscoveryError> {
        let missing = || DiscoveryError::NoGroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        };
        if group.is_empty() {
            return self.resolve("v1", kind).await;
        }
        if let Some(all) = self.aggregated(false).await {
            return all
                .iter()
                .filter(|(v, _)| split_api_version(v).0 == group)
                .find_map(|(_, rs)| rs.iter().find(|r| r.kind == kind).cloned())
                .ok_or_else(missing);
        }
        let doc = self
            .client
            .get(&format!("/apis/{group}"))
            .await
            .map_err(|source| DiscoveryError::Request {
                api_version: group.to_string(),
                source,
            })?
            .ok_or_else(missing)?;
        let preferred = doc
            .pointer("/preferredVersion/groupVersion")
            .and_then(Value::as_str)
            .ok_or_else(missing)?
            .to_string();
        self.resolve(&preferred, kind).await
    }
}

impl Discovery {
    /// Every namespaced resource the server serves, one (the preferred) version per
    /// group, for looking into a namespace as a whole.
    pub async fn namespaced_resources(&self) -> Result<Vec<Resource>, DiscoveryError> {
        let mut versions = vec!["v1".to_string()];
        match self.aggregated(false).await {
            // Aggregated discovery lists each group's versions in preference order.
            Some(all) => {
                let mut seen = std::collections::HashSet::new();
                for (api_version, _) in all {
                    if seen.insert(split_api_version(&api_version).0.to_string()) {
                        versions.push(api_version);
                    }
                }
            }
            None => {
                let groups =
                    self.client
                        .get("/apis")
                        .await
                        .map_err(|source| DiscoveryError::Request {
                            api_version: "/apis".into(),
                            source,
                        })?;
                let groups = groups
                    .as_ref()
                    .and_then(|g| g.get("groups"))
                    .and_then(Value::as_array);
                versions.extend(groups.into_iter().flatten().filter_map(|g| {
                    g.pointer("/preferredVersion/groupVersion")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                }));
            }
        }
        let mut out = Vec::new();
        for api_version in versions {
            out.extend(
                self.resources(&api_version)
                    .await?
                    .into_iter()
                    .filter(|r| r.namespaced),
            );
        }
        Ok(out)
    }
}

/// apiVersion → top-level resources from an `APIGroupDiscoveryList`.
pub(crate) fn parse_aggregated(doc: &Value) -> Vec<(String, Vec<Resource>)> {
    let mut out = Vec::new();
    for group in doc
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = group
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        for version in group
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(v) = version.get("version").and_then(Value::as_str) else {
                continue;
            };
            let resources = version
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some(Resource {
                        group: name.to_string(),
                        version: v.to_string(),
                        kind: r.pointer("/responseKind/kind")?.as_str()?.to_string(),
                        plural: r.get("resource")?.as_str()?.to_string(),
                        namespaced: r.get("scope").and_then(Value::as_str) != Some("Cluster"),
                    })
                })
                .collect();
            let api_version = if name.is_empty() {
                v.to_string()
            } else {
                format!("{name}/{v}")
            };
            out.push((api_version, resources));
        }
    }
    out
}

/// The top-level resources (no subresources) of an `APIResourceList`.
pub(crate) fn parse_resource_list(api_version: &str, list: &Value) -> Vec<Resource> {
    let (group, version) = split_api_version(api_version);
    let Some(items) = list.get("resources").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|r| {
            let plural = r.get("name")?.as_str()?;
            if plural.contains('/') {
                return None;
            }
            Some(Resource {
                group: group.to_string(),
                version: version.to_string(),
                kind: r.get("kind")?.as_str()?.to_string(),
                plural: plural.to_string(),
                namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(true),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subresources_are_skipped() {
        let list = json!({"resources": [
            {"name": "deployments", "namespaced": true, "kind": "Deployment"},
            {"name": "deployments/status", "namespaced": true, "kind": "Deployment"},
        ]});
        let r = parse_resource_list("apps/v1", &list);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].plural, "deployments");
        assert_eq!(r[0].group, "apps");
    }

    #[test]
    fn aggregated_documents() {
        let doc = json!({"kind": "APIGroupDiscoveryList", "items": [
            {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
                {"resource": "deployments", "scope": "Namespaced",
                 "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"}}]}]},
            {"metadata": {}, "versions": [{"version": "v1", "resources": [
                {"resource": "namespaces", "scope": "Cluster",
                 "responseKind": {"group": "", "version": "v1", "kind": "Namespace"}}]}]},
        ]});
        let all = parse_aggregated(&doc);
        assert_eq!(all[0].0, "apps/v1");
        assert_eq!(all[0].1[0].plural, "deployments");
        assert_eq!(all[1].0, "v1");
        assert!(!all[1].1[0].namespaced);
    }
}
