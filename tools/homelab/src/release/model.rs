//! The typed form of `releases/<name>/release.toml`.
//!
//! Field names are snake_case, as they are in templates (`release.entrypoints.web.node_port`).
//! Unknown keys are rejected so a typo never silently drops configuration.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One application released into the cluster: an upstream chart, a local chart, or raw
/// manifests only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// DNS-1123 label; the folder name under `releases/` must match.
    pub name: String,
    /// DNS-1123 label; created by homelab before the release is applied.
    pub namespace: String,
    /// Releases that must be applied (and ready) before this one.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Environments the release is part of; empty means every environment.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Values files relative to the release folder, merged in order. A `.hbs` suffix makes
    /// the file a handlebars template; plain files are taken as they are, so charts that
    /// use Helm's own `tpl` strings keep their `{{ }}`.
    #[serde(default)]
    pub values: Vec<String>,
    /// Raw manifests relative to the release folder (`manifests/*.yaml.hbs`).
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Absent for manifest-only releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartSource>,
    /// Per-environment additions, merged after the base values.
    #[serde(default)]
    pub overlays: IndexMap<String, Overlay>,
    /// Named entry points exposed as NodePorts on every node; the ingress proxy and the
    /// chart values both read them from here.
    #[serde(default)]
    pub entrypoints: IndexMap<String, EntryPoint>,
    /// Secret objects built at apply time from the environment's SOPS file.
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
}

/// Where a release's chart comes from. Written in TOML as one `[chart]` table with either
/// `repository` + `name` + `version` or `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ChartTable", into = "ChartTable")]
pub enum ChartSource {
    /// A chart in an HTTP Helm repository, pinned to an exact version.
    Repository {
        /// The repository URL, the one `helm repo add` takes.
        repository: String,
        /// The chart's name in the repository's `index.yaml`.
        name: String,
        /// An exact semver version; ranges are refused so renders are reproducible.
        version: String,
    },
    /// A chart directory in this repository, relative to the release folder.
    Local { path: String },
}

/// The `[chart]` table as written, before the two shapes are told apart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChartTable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl TryFrom<ChartTable> for ChartSource {
    type Error = String;

    fn try_from(t: ChartTable) -> Result<Self, String> {
        match t {
            ChartTable { repository: Some(repository), name: Some(name), version: Some(version), path: None } => {
                Ok(ChartSource::Repository { repository, name, version })
            }
            ChartTable { repository: None, name: None, version: None, path: Some(path) } => {
                Ok(ChartSource::Local { path })
            }
            ChartTable { path: Some(_), .. } => Err(
                "a chart has either `path` (a local chart) or `repository`, `name` and `version`, not both".into(),
            ),
            t => {
                let missing: Vec<&str> = [("repository", t.repository.is_none()), ("name", t.name.is_none()), ("version", t.version.is_none())]
                    .into_iter()
                    .filter_map(|(k, absent)| absent.then_some(k))
                    .collect();
                Err(format!(
                    "missing `{}` in [chart]: a repository chart needs `repository`, `name` and `version`; a local chart needs `path`",
                    missing.join("`, `")
                ))
            }
        }
    }
}

impl From<ChartSource> for ChartTable {
    fn from(c: ChartSource) -> Self {
        match c {
            ChartSource::Repository {
                repository,
                name,
                version,
            } => ChartTable {
                repository: Some(repository),
                name: Some(name),
                version: Some(version),
                path: None,
            },
            ChartSource::Local { path } => ChartTable {
                path: Some(path),
                ..Default::default()
            },
        }
    }
}

/// What an environment adds to a release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    #[serde(default)]
    pub values: Vec<String>,
}

/// A port reachable on every node, forwarded by the ingress host's proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryPoint {
    /// In the NodePort range 30000–32767, unique across releases.
    pub node_port: u16,
    /// The port the ingress proxy listens on (80 for web, 443 for websecure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<u16>,
}

/// A Secret object whose data comes from the environment's SOPS file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    /// The Secret's name; chart values reference it (`existingSecret`, `secretKeyRef`).
    pub name: String,
    /// Secret key → dotted path in the secrets file (`vaultwarden.admin_token`).
    pub data: IndexMap<String, String>,
}
