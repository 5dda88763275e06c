//! Writing a [`Plan`] into a lab: each release folder built beside its final place and
//! renamed in, so a failed import leaves no half folder and `--force` swaps whole
//! folders; `releases/environments.toml` only gains environments it lacks.

use std::path::{Path, PathBuf};

use super::{Plan, PlannedEnvironment};
use crate::environment::{EnvironmentsFile, ENVIRONMENTS_PATH};

/// Why the plan was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    #[error("Release folder(s) already exist: {}; pass --force to replace them", dirs.join(", "))]
    Exists { dirs: Vec<String> },
    #[error("Cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not valid: {message}; fix it before importing", path.display())]
    Environments { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `plan` into the lab at `root`; returns what it wrote, relative to `root`.
pub(crate) fn write(plan: &Plan, root: &Path, force: bool) -> Result<Vec<String>, WriteError> {
    let existing: Vec<String> = plan
        .release_dirs
        .iter()
        .filter(|d| root.join(d).symlink_metadata().is_ok())
        .cloned()
        .collect();
    if !existing.is_empty() && !force {
        return Err(WriteError::Exists { dirs: existing });
    }
    let mut written = Vec::new();
    let env_path = root.join(ENVIRONMENTS_PATH);
    let env_text = match std::fs::read_to_string(&env_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&env_path)(e)),
    };
    let known = match &env_text {
        Some(t) => {
            toml::from_str::<EnvironmentsFile>(t)
                .map_err(|e| WriteError::Environments {
                    path: env_path.clone(),
                    message: e.message().to_string(),
                })?
                .environments
        }
        None => Default::default(),
    };
    for dir in &plan.release_dirs {
        write_release(plan, root, dir)?;
        written.push(format!("{dir}/"));
    }
    let added: Vec<&PlannedEnvironment> = plan
        .environments
        .iter()
        .filter(|e| !known.contains_key(&e.name))
        .collect();
    if !added.is_empty() {
        let mut text = env_text.unwrap_or_default();
        for env in &added {
            text.push_str(&environment_entry(env));
        }
        crate::charts::atomic::write(&env_path, text.as_bytes()).map_err(io(&env_path))?;
        written.push(ENVIRONMENTS_PATH.to_string());
    }
    for env in &plan.environments {
        let Some(from) = &env.secrets_from else {
            continue;
        };
        let relative = format!("secrets/{}.yaml", env.name);
        let to = root.join(&relative);
        if to.exists() {
            continue;
        }
        let bytes = std::fs::read(from).map_err(io(from))?;
        crate::charts::atomic::write(&to, &bytes).map_err(io(&to))?;
        written.push(relative);
    }
    Ok(written)
}

fn environment_entry(env: &PlannedEnvironment) -> String {
    let quoted = |s: &str| toml::Value::String(s.to_string()).to_string();
    format!(
        "\n# Imported by `homelab import helmfile`.\n[environments.{}]\ncontext = {}\nsecrets = {}\n",
        env.name,
        quoted(&env.context),
        quoted(&format!("secrets/{}.yaml", env.name))
    )
}

/// Builds `dir` in a temporary folder beside it, then swaps it in.
fn write_release(plan: &Plan, root: &Path, dir: &str) -> Result<(), WriteError> {
    let target = root.join(dir);
    let parent = target.parent().unwrap_or(root);
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    let prefix = format!("{dir}/");
    for file in plan.files.iter().filter(|f| f.path.starts_with(&prefix)) {
        let path = staging.path().join(&file.path[prefix.len()..]);
        crate::charts::atomic::write(&path, &file.content).map_err(io(&path))?;
    }
    let old = parent.join(format!(".import-old-{}", std::process::id()));
    let had_old = target.symlink_metadata().is_ok();
    if had_old {
        std::fs::rename(&target, &old).map_err(io(&target))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target).map_err(io(&target))?;
    if had_old {
        remove(&old).map_err(io(&old))?;
    }
    Ok(())
}

fn remove(path: &Path) -> std::io::Result<()> {
    if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}
