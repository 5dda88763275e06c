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
    /// API versions the cluster serves that no release of the lab installs (a CRD
    /// installed by hand, an operator outside the lab), as `group/version[/Kind]`: Helm
    /// sees them in `.Capabilities.APIVersions` with the built-in ones and the CRDs the
    /// environment renders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_versions: Vec<String>,
}
