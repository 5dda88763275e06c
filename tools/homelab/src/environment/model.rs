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
}
