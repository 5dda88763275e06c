//! The typed form of `releases/environments.toml`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentsFile {
    pub environments: IndexMap<String, Environment>,
}

/// One cluster the releases are applied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The only kube context `apply` accepts for this environment.
    pub context: String,
    /// The SOPS file, relative to the repository root, that `[[secrets]]` paths point into.
    pub secrets: String,
    /// How many revisions of this environment the cluster keeps for `homelab history`
    /// and `rollback` (1 to 100); 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_revisions: Option<u32>,
    /// API versions the cluster serves that no release of the lab installs (a CRD
    /// installed by hand, an operator outside the lab), as `group/version[/Kind]`: Helm
    /// sees them in `.Capabilities.APIVersions` with the built-in ones and the CRDs the
    /// environment renders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_versions: Vec<String>,
}

/// The most revisions an environment may keep: each is a ConfigMap of up to a few
/// hundred kilobytes in kube-system.
pub(crate) const MAX_KEEP_REVISIONS: u32 = 100;

impl Environment {
    /// Revisions kept in the cluster.
    pub fn keep_revisions(&self) -> u32 {
        self.keep_revisions.unwrap_or(10)
    }
}
