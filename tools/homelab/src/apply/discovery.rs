//! Discovery, cached for the run: one request per group version the desired set uses
//! (kubectl's `--cache-dir` equivalent, but in memory), shared by every task.
//!
//! # Caveats
//! A group version is read once. After CRDs are applied and Established, the executor
//! calls [`Discovery::forget`] for their group versions so the new kinds are seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::OnceCell;

use super::client::{ApiClient, RequestError};
use super::resource::{split_api_version, Resource};

type Cell = Arc<OnceCell<Result<Vec<Resource>, RequestError>>>;

/// Resources by group version, fetched on first use.
pub struct Discovery {
    client: ApiClient,
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
    #[error("Discovery of `{api_version}` failed: {source}")]
    Request {
        api_version: String,
        #[source]
        source: RequestError,
    },
}

impl Discovery {
    pub fn new(client: ApiClient) -> Self {
        Discovery {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cell(&self, api_version: &str) -> Cell {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entry(api_version.to_string()).or_default().clone()
    }

    /// Drops what is known of `api_version`, so the next lookup asks the server again.
    pub fn forget(&self, api_version: &str) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.remove(api_version);
    }

    /// The resource serving `kind` in `api_version`.
    pub async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resource, DiscoveryError> {
        let cell = self.cell(api_version);
        let resources = cell
            .get_or_init(|| async {
                match self.client.resources_of(api_version).await {
                    Ok(Some(list)) => Ok(parse_resource_list(api_version, &list)),
                    Ok(None) => Ok(Vec::new()),
                    Err(e) => Err(e),
                }
            })
            .await
            .as_ref()
            .map_err(|source| DiscoveryError::Request {
                api_version: api_version.to_string(),
                source: source.clone(),
            })?;
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
}

/// The top-level resources (no subresources) of an `APIResourceList`.
pub fn parse_resource_list(api_version: &str, list: &Value) -> Vec<Resource> {
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
}
