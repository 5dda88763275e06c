//! Bringing `generated/` in line with a plan, or reporting how it differs.
//!
//! # Guarantees
//!
//! - Each file is written to a temporary file in its own folder and renamed over the
//!   old one, so a reader (or a crash) sees the old or the new file, never a mix.
//! - Files under `generated/hosts/` that the plan no longer contains (a host lost its
//!   dns role, say) are removed: that folder is written only by this tool.
//! - Unchanged files are not touched, so their modification times stay.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use similar::TextDiff;
use thiserror::Error;

use super::{GeneratedFile, GENERATED_DIR};

/// How one path on disk differs from the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The plan has the file; the tree does not.
    Missing { path: PathBuf, diff: String },
    /// The file's contents differ from the plan's.
    Changed { path: PathBuf, diff: String },
    /// The tree has a file under `generated/hosts/` the plan does not.
    Obsolete { path: PathBuf, diff: String },
}

impl Drift {
    pub fn path(&self) -> &Path {
        match self {
            Drift::Missing { path, .. }
            | Drift::Changed { path, .. }
            | Drift::Obsolete { path, .. } => path,
        }
    }

    /// A unified diff from the file on disk to the planned one.
    pub fn diff(&self) -> &str {
        match self {
            Drift::Missing { diff, .. }
            | Drift::Changed { diff, .. }
            | Drift::Obsolete { diff, .. } => diff,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Drift::Missing { .. } => "missing",
            Drift::Changed { .. } => "stale",
            Drift::Obsolete { .. } => "obsolete",
        }
    }
}

#[derive(Debug, Error)]
pub enum FilesError {
    #[error("Failed to read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Failed to write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Failed to remove the obsolete file {}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// How the tree under `root` differs from `plan`, sorted by path. Empty when fresh.
pub fn check(root: &Path, plan: &[GeneratedFile]) -> Result<Vec<Drift>, FilesError> {
    let mut drift = Vec::new();
    for file in plan {
        match read_if_exists(&root.join(&file.path))? {
            None => drift.push(Drift::Missing {
                path: file.path.clone(),
                diff: unified(&file.path, "", &file.contents),
            }),
            Some(old) if old != file.contents => drift.push(Drift::Changed {
                path: file.path.clone(),
                diff: unified(&file.path, &old, &file.contents),
            }),
            Some(_) => {}
        }
    }
    for path in obsolete(root, plan)? {
        let old = read_if_exists(&root.join(&path))?.unwrap_or_default();
        drift.push(Drift::Obsolete {
            diff: unified(&path, &old, ""),
            path,
        });
    }
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

/// Writes what differs from `plan` and removes obsolete files; returns what changed.
pub fn write(root: &Path, plan: &[GeneratedFile]) -> Result<Vec<Drift>, FilesError> {
    let drift = check(root, plan)?;
    for d in &drift {
        let full = root.join(d.path());
        match d {
            Drift::Missing { path, .. } | Drift::Changed { path, .. } => {
                let file = plan.iter().find(|f| &f.path == path);
                if let Some(file) = file {
                    write_atomically(&full, &file.contents)?;
                }
            }
            Drift::Obsolete { .. } => {
                fs::remove_file(&full).map_err(|source| FilesError::Remove {
                    path: full.clone(),
                    source,
                })?;
                if let Some(dir) = full.parent() {
                    // Only succeeds when the host's folder is now empty.
                    let _ = fs::remove_dir(dir);
                }
            }
        }
    }
    Ok(drift)
}

/// The workspace's one atomic writer (`homelab_secrets::atomic`).
fn write_atomically(path: &Path, contents: &str) -> Result<(), FilesError> {
    homelab_secrets::atomic::write(path, contents.as_bytes()).map_err(|source| FilesError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn read_if_exists(path: &Path) -> Result<Option<String>, FilesError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FilesError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Files under `generated/hosts/<host>/` that the plan does not contain.
fn obsolete(root: &Path, plan: &[GeneratedFile]) -> Result<Vec<PathBuf>, FilesError> {
    let hosts = Path::new(GENERATED_DIR).join("hosts");
    let mut out = Vec::new();
    for host_dir in list_dir(&root.join(&hosts))? {
        let Some(host) = host_dir.file_name() else {
            continue;
        };
        if !host_dir.is_dir() {
            continue;
        }
        for file in list_dir(&host_dir)? {
            let Some(name) = file.file_name() else {
                continue;
            };
            let rel = hosts.join(host).join(name);
            if file.is_file() && !plan.iter().any(|f| f.path == rel) {
                out.push(rel);
            }
        }
    }
    Ok(out)
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, FilesError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(FilesError::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| FilesError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

fn unified(path: &Path, old: &str, new: &str) -> String {
    let name = path.display().to_string();
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: PathBuf::from(path),
            contents: contents.to_string(),
        }
    }

    #[test]
    fn write_is_idempotent_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plan = [file("generated/hosts/a/Corefile", "one\n")];
        assert_eq!(write(dir.path(), &plan).expect("write").len(), 1);
        assert!(write(dir.path(), &plan).expect("write again").is_empty());
        let names: Vec<_> = fs::read_dir(dir.path().join("generated/hosts/a"))
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["Corefile"]);
    }

    #[test]
    fn files_outside_generated_hosts_are_never_obsolete() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("generated")).expect("mkdir");
        fs::write(dir.path().join("generated/README.md"), "kept\n").expect("write");
        assert!(check(dir.path(), &[]).expect("check").is_empty());
    }
}
