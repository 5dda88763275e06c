//! The whole lab loaded and validated: inventory, environments and releases.

pub mod host_inputs;
pub(crate) mod hosts;
mod release_files;
mod secret_paths;

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::environment::{self, EnvironmentsFile};
use crate::inventory::{self, Inventory, InventorySource, LoadedInventory};
use crate::paths;
use crate::release::{self, LoadedRelease};
use crate::toml_file::TomlFile;
use host_inputs::{HostInputs, InputsError};

/// Where the inventory lives, relative to the repository root.
pub(crate) const INVENTORY_PATH: &str = "hosts/inventory.nix";

/// How to load a lab.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read the inventory from this JSON file instead of evaluating `hosts/inventory.nix`.
    pub inventory_json: Option<PathBuf>,
}

/// A valid lab. Holding one means every rule of `homelab check` passed.
#[derive(Debug, Clone)]
pub struct Lab {
    pub root: PathBuf,
    pub inventory: LoadedInventory,
    pub environments: TomlFile<EnvironmentsFile>,
    /// In dependency order: each release after the ones it needs.
    pub releases: Vec<LoadedRelease>,
    /// The host inputs the host-side check read (a lab with `flake.nix` and
    /// `nix/host-inputs.json`); see [`Lab::host_inputs`].
    checked_inputs: Option<HostInputs>,
}

impl Lab {
    /// Loads and validates the lab at `root`, reporting every problem found rather than
    /// the first.
    pub fn load(root: &Path, options: &LoadOptions) -> Result<Lab, Diagnostics> {
        let mut problems = Diagnostics::default();
        let mut checked_inputs = None;
        if !root.is_dir() {
            return Err(Diagnostic::in_file(root, "The lab folder does not exist").into());
        }
        for shared in [
            release::RELEASES_DIR,
            environment::ENVIRONMENTS_PATH,
            crate::charts::LOCK_PATH,
        ] {
            if let Err(e) = paths::resolve_in_repository(root, shared, shared) {
                problems.push(Diagnostic::in_file(shared, paths::describe(&e)).with_help(
                    "a repository's files must stay inside it: replace the symlink with the files",
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let source = match &options.inventory_json {
            Some(json) => InventorySource::Json(json.clone()),
            None => InventorySource::Nix(root.join(INVENTORY_PATH)),
        };
        let display = match &options.inventory_json {
            Some(json) => json.clone(),
            None => PathBuf::from(INVENTORY_PATH),
        };
        let inventory = inventory::load(&source, &display)
            .map_err(|d| problems.push(d))
            .ok();
        let environments = environment::load(root).map_err(|d| problems.extend(d)).ok();
        let releases = release::load_all(root).map_err(|d| problems.extend(d)).ok();

        let env_names: Vec<&str> = environments
            .as_ref()
            .map(|e| e.value.environments.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(releases) = &releases {
            if environments.is_some() {
                problems.extend(release::validate(releases, &env_names));
            }
        }
        if let Some(inventory) = &inventory {
            let needs_ingress = releases
                .iter()
                .flatten()
                .any(|r| !r.release().entrypoints.is_empty());
            problems.extend(inventory::validate(inventory, needs_ingress));
            let (host_problems, inputs) = hosts::check(root, &inventory.inventory);
            problems.extend(host_problems);
            checked_inputs = inputs;
        }
        if let Some(releases) = &releases {
            problems.extend(release_files::check(root, releases));
        }
        if let (Some(envs), Some(releases)) = (&environments, &releases) {
            problems.extend(check_secrets_files(root, envs, releases));
            problems.extend(secret_paths::check(root, envs, releases));
        }
        let (Some(inventory), Some(environments), Some(releases)) =
            (inventory, environments, releases)
        else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let releases = release::dependency_order(releases)?;
        Ok(Lab {
            root: root.to_path_buf(),
            inventory,
            environments,
            releases,
            checked_inputs,
        })
    }

    /// The lab's host inputs and their digest: the ones loading checked, or read now
    /// when loading did not (a lab without `flake.nix`).
    ///
    /// # Errors
    /// A list that cannot be read or a file that cannot be hashed.
    pub fn host_inputs(&self) -> Result<Option<HostInputs>, InputsError> {
        match &self.checked_inputs {
            Some(inputs) => Ok(Some(inputs.clone())),
            None => host_inputs::load(&self.root),
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory.inventory
    }

    /// The releases that are part of `env`, in dependency order.
    pub fn releases_in<'a>(&'a self, env: &'a str) -> impl Iterator<Item = &'a LoadedRelease> + 'a {
        self.releases.iter().filter(move |r| {
            let envs = &r.release().environments;
            envs.is_empty() || envs.iter().any(|e| e == env)
        })
    }

    pub fn environment_names(&self) -> impl Iterator<Item = &str> {
        self.environments
            .value
            .environments
            .keys()
            .map(String::as_str)
    }
}

/// Every environment whose releases want Secret objects needs its SOPS file.
fn check_secrets_files(
    root: &Path,
    envs: &TomlFile<EnvironmentsFile>,
    releases: &[LoadedRelease],
) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for (name, env) in &envs.value.environments {
        if let Err(e @ paths::PathError::Outside { .. }) =
            paths::resolve_in_repository(root, &env.secrets, &env.secrets)
        {
            problems.push(
                envs.error_at(&format!("environments.{name}.secrets"), paths::describe(&e))
                    .with_help("keep the secrets file inside the repository"),
            );
            continue;
        }
        let wanted_by = releases.iter().find(|r| {
            let rel = r.release();
            !rel.secrets.is_empty()
                && (rel.environments.is_empty() || rel.environments.contains(name))
        });
        if let Some(release) = wanted_by {
            if !root.join(&env.secrets).is_file() {
                problems.push(
                    envs.error_at(
                        &format!("environments.{name}.secrets"),
                        format!("Secrets file `{}` does not exist", env.secrets),
                    )
                    .with_label(format!(
                        "release `{}` takes Secret data from it",
                        release.name()
                    ))
                    .with_help(format!(
                        "create it with `homelab secrets edit {}`",
                        env.secrets
                    )),
                );
            }
        }
    }
    problems
}
