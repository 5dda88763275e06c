//! The environments (clusters) releases are applied to, from `releases/environments.toml`.

pub(crate) mod api_versions;
pub(crate) mod model;

use std::path::Path;

pub(crate) use model::MAX_KEEP_REVISIONS;
pub use model::{Environment, EnvironmentsFile};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::names;
use crate::toml_file::TomlFile;

/// Where the environments file lives, relative to the repository root.
pub(crate) const ENVIRONMENTS_PATH: &str = "releases/environments.toml";

/// Reads and checks `releases/environments.toml`.
pub fn load(root: &Path) -> Result<TomlFile<EnvironmentsFile>, Diagnostics> {
    let path = root.join(ENVIRONMENTS_PATH);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::in_file(ENVIRONMENTS_PATH, format!("Failed to read the environments file: {e}")).with_help(
            "create it with one table per cluster:\n[environments.dev]\ncontext = \"kind-homelab\"\nsecrets = \"secrets/dev.yaml\"",
        )
    })?;
    let file: TomlFile<EnvironmentsFile> =
        TomlFile::parse(Path::new(ENVIRONMENTS_PATH), text, "environments file")?;
    let mut problems = Diagnostics::default();
    if file.value.environments.is_empty() {
        problems.push(
            file.error_at("environments", "No environments are defined")
                .with_help("add `[environments.dev]` with `context` and `secrets`"),
        );
    }
    for (name, env) in &file.value.environments {
        if let Err(e) = names::check_dns_label(name) {
            problems.push(file.error_at(
                &format!("environments.{name}"),
                format!("Environment name `{name}` {e}"),
            ));
        }
        if env.context.trim().is_empty() {
            problems.push(file.error_at(
                &format!("environments.{name}.context"),
                format!("Environment `{name}` has an empty kube context"),
            ));
        }
        if let Some(keep) = env
            .keep_revisions
            .filter(|k| !(1..=MAX_KEEP_REVISIONS).contains(k))
        {
            problems.push(
                file.error_at(
                    &format!("environments.{name}.keep_revisions"),
                    format!("Environment `{name}` keeps {keep} revisions; expected 1 to {MAX_KEEP_REVISIONS}"),
                )
                .with_help("remove `keep_revisions` for the default of 10"),
            );
        }
        for (i, version) in env.api_versions.iter().enumerate() {
            if let Err(e) = api_versions::check(version) {
                problems.push(
                    file.error_at(
                        &format!("environments.{name}.api_versions[{i}]"),
                        format!("API version `{}` {e}", version.escape_default()),
                    )
                    .with_help("write it as `group/version` or `group/version/Kind`, e.g. \"monitoring.coreos.com/v1/ServiceMonitor\""),
                );
            }
        }
    }
    problems.into_result(file)
}
