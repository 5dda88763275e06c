//! `homelab import helmfile`: a Helmfile + helm-secrets lab turned into release folders.
//!
//! Reading ([`plan`]) is separate from writing ([`write`]), so `--dry-run` is the same
//! code minus the last step. The Helmfile tree is untrusted input: its paths stay inside
//! its folder, its templates are evaluated by a small interpreter that runs nothing, and
//! its secrets are never decrypted.
//!
//! # Guarantees
//! - Every value of the Helmfile lands in a release file, or in the report (a note when
//!   it is left out on purpose, a step when a person must act).
//! - No SOPS ciphertext is copied into a release folder; an environment's helm-secrets
//!   file is copied whole to `secrets/<env>.yaml` (still encrypted) when there is one.
//! - Nothing is written outside `releases/` and `secrets/` of the lab; an existing
//!   release folder is replaced only with `force`, and then whole, by rename.

mod combine;
mod glob;
mod gotmpl;
mod helmfile;
mod release;
mod report;
mod secrets;
mod set_key;
mod tree;
mod write;

use std::path::{Path, PathBuf};

pub(crate) use report::{Located, Report};
pub(crate) use write::write;
pub(crate) use write::WriteError;

/// One file the import writes, relative to the lab root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: String,
    pub content: Vec<u8>,
}

impl PlannedFile {
    fn new(path: String, content: String) -> PlannedFile {
        PlannedFile {
            path,
            content: content.into_bytes(),
        }
    }
}

/// One entry of `releases/environments.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedEnvironment {
    pub name: String,
    pub context: String,
    /// The environment's helm-secrets file, copied whole to `secrets/<env>.yaml`.
    pub secrets_from: Option<PathBuf>,
}

/// What an import would write, and its report.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub report: Report,
    /// Release folders' files.
    pub files: Vec<PlannedFile>,
    /// `releases/<name>` for every imported release.
    pub release_dirs: Vec<String>,
    pub(crate) environments: Vec<PlannedEnvironment>,
}

/// Why a Helmfile could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("Cannot read the Helmfile `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads the Helmfile at `path` (a file, or a folder holding `helmfile.yaml`).
pub fn plan(path: &Path) -> Result<Plan, ImportError> {
    let (dir, file) = if path.is_dir() {
        (path.to_path_buf(), "helmfile.yaml".to_string())
    } else {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (dir.to_path_buf(), name)
    };
    let read_error = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let tree = tree::Tree::new(&dir).map_err(read_error)?;
    std::fs::metadata(tree.path(&file)).map_err(read_error)?;
    let mut plan = Plan::default();
    let report = &mut plan.report;
    let envs: Vec<String> = helmfile::environment_names(&tree, &file)
        .into_iter()
        .filter(|e| {
            let ok = crate::names::check_dns_label(e).is_ok();
            if !ok {
                report.step(&file, 1, format!("environment `{e}` is not imported: homelab environment names are lowercase letters, digits and '-'"));
            }
            ok
        })
        .collect();
    let states: Vec<helmfile::EnvState> = envs
        .iter()
        .map(|e| helmfile::load(&tree, &file, e, report))
        .collect();
    let mut names: Vec<String> = Vec::new();
    let mut forms: Vec<Vec<(String, release::EnvRelease)>> = Vec::new();
    for state in &states {
        let mut seen = Vec::new();
        for entry in &state.releases {
            let Some(form) = release::read(&tree, entry, state, report) else {
                continue;
            };
            if seen.contains(&form.name) {
                report.step(
                    &entry.file,
                    entry.line,
                    format!(
                        "a second release named `{}`; homelab release names are unique: rename one",
                        form.name
                    ),
                );
                continue;
            }
            seen.push(form.name.clone());
            match names.iter().position(|n| n == &form.name) {
                Some(i) => forms[i].push((state.name.clone(), form)),
                None => {
                    names.push(form.name.clone());
                    forms.push(vec![(state.name.clone(), form)]);
                }
            }
        }
    }
    for release_forms in &forms {
        plan.files
            .extend(combine::combine(&tree, release_forms, &envs, report));
        plan.release_dirs
            .push(format!("releases/{}", release_forms[0].1.name));
    }
    for state in &states {
        plan.environments
            .push(environment(&tree, &file, state, report));
    }
    report.environments = envs;
    report.finish();
    Ok(plan)
}

/// The environment's kube context and the helm-secrets file that becomes its SOPS file.
fn environment(
    tree: &tree::Tree,
    file: &str,
    state: &helmfile::EnvState,
    report: &mut Report,
) -> PlannedEnvironment {
    let context = state.kube_context.clone().or_else(|| {
        state
            .helm_defaults
            .get("kubeContext")
            .and_then(|c| c.as_str())
            .map(str::to_string)
    });
    let context = context.unwrap_or_else(|| {
        report.note(file, 1, format!("environment `{}` names no kubeContext: bound to the context `{}`; change it in releases/environments.toml", state.name, state.name));
        state.name.clone()
    });
    let secrets = match state.secrets_files.as_slice() {
        [] => None,
        [one] => Some(tree.path(one)),
        many => {
            report.step(file, 1, format!("environment `{}` has {} helm-secrets files; homelab reads one per environment: merge them into `secrets/{}.yaml` (`homelab secrets edit`)", state.name, many.len(), state.name));
            None
        }
    };
    PlannedEnvironment {
        name: state.name.clone(),
        context,
        secrets_from: secrets,
    }
}
