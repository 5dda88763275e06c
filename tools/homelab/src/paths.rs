//! Paths read from the repository stay inside it. A symlink is followed before the check,
//! so `manifests/a.yaml -> /etc/passwd` (or a whole `manifests` folder linked elsewhere)
//! is refused instead of rendered: the repository under review is untrusted, the
//! reviewer's files are not its to read.

use std::path::{Path, PathBuf};

/// A path that leaves the folder it must stay in, or cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PathError {
    #[error("`{shown}` resolves to {}, outside {}", target.display(), within.display())]
    Outside {
        shown: String,
        target: PathBuf,
        within: PathBuf,
    },
    #[error("`{shown}` must be a relative path without `..`")]
    NotRelative { shown: String },
    #[error("Failed to resolve `{shown}`")]
    Resolve {
        shown: String,
        #[source]
        source: std::io::Error,
    },
}

/// `base/relative` with symlinks resolved, when it exists and stays inside `base`
/// (itself resolved). `shown` names the path in errors. `Ok(None)` when it does not exist.
pub(crate) fn resolve_inside(
    base: &Path,
    relative: &str,
    shown: &str,
) -> Result<Option<PathBuf>, PathError> {
    let lexical = Path::new(relative);
    if lexical.is_absolute()
        || lexical
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(PathError::NotRelative {
            shown: shown.into(),
        });
    }
    let resolve = |p: &Path| match std::fs::canonicalize(p) {
        Ok(p) => Ok(Some(p)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PathError::Resolve {
            shown: shown.into(),
            source,
        }),
    };
    let Some(within) = resolve(base)? else {
        return Ok(None);
    };
    let Some(target) = resolve(&base.join(lexical))? else {
        return Ok(None);
    };
    if target.starts_with(&within) {
        Ok(Some(target))
    } else {
        Err(PathError::Outside {
            shown: shown.into(),
            target,
            within: display_base(base),
        })
    }
}

/// [`resolve_inside`] for a path relative to the repository root, which errors name as
/// "the repository".
pub(crate) fn resolve_in_repository(
    root: &Path,
    relative: &str,
    shown: &str,
) -> Result<Option<PathBuf>, PathError> {
    resolve_inside(root, relative, shown).map_err(|e| match e {
        PathError::Outside { shown, target, .. } => PathError::Outside {
            shown,
            target,
            within: PathBuf::from("the repository"),
        },
        other => other,
    })
}

/// A local chart: `base/relative` (which may climb out of `base` with `..`) resolved, and
/// it and every file below it, symlinks followed, inside `root`. Helm reads a chart
/// folder following symlinks, so one link out of the repository would be rendered.
pub(crate) fn resolve_chart(
    root: &Path,
    base: &Path,
    relative: &str,
    shown: &str,
) -> Result<Option<PathBuf>, PathError> {
    if Path::new(relative).is_absolute() {
        return Err(PathError::NotRelative {
            shown: shown.into(),
        });
    }
    let resolve = |p: &Path, shown: &str| match std::fs::canonicalize(p) {
        Ok(p) => Ok(Some(p)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PathError::Resolve {
            shown: shown.into(),
            source,
        }),
    };
    let (Some(within), Some(chart)) =
        (resolve(root, shown)?, resolve(&base.join(relative), shown)?)
    else {
        return Ok(None);
    };
    let mut visited = Vec::new();
    let mut pending = vec![(chart.clone(), shown.to_string())];
    while let Some((path, shown)) = pending.pop() {
        let target = resolve(&path, &shown)?.unwrap_or_else(|| path.clone());
        if !target.starts_with(&within) {
            return Err(PathError::Outside {
                shown,
                target,
                within: PathBuf::from("the repository"),
            });
        }
        if target.is_dir() && !visited.contains(&target) {
            let entries = std::fs::read_dir(&target).map_err(|source| PathError::Resolve {
                shown: shown.clone(),
                source,
            })?;
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name();
                pending.push((entry.path(), format!("{shown}/{}", name.to_string_lossy())));
            }
            visited.push(target);
        }
    }
    Ok(Some(chart))
}

/// Reads `base/relative` as text after [`resolve_inside`]; a missing file is an error here.
pub(crate) fn read_inside(base: &Path, relative: &str, shown: &str) -> Result<String, String> {
    match resolve_inside(base, relative, shown) {
        Ok(Some(path)) => {
            std::fs::read_to_string(&path).map_err(|e| format!("could not read {shown}: {e}"))
        }
        Ok(None) => Err(format!("could not read {shown}: it does not exist")),
        Err(e) => Err(describe(&e)),
    }
}

/// The error with its cause, for callers that report plain text.
pub(crate) fn describe(e: &PathError) -> String {
    match e {
        PathError::Resolve { source, .. } => format!("{e}: {source}"),
        _ => e.to_string(),
    }
}

/// The folder as the user named it: the last two components (`releases/minio`), not the
/// absolute path of a temporary checkout.
fn display_base(base: &Path) -> PathBuf {
    let parts: Vec<_> = base.components().rev().take(2).collect();
    parts.into_iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_leaving_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let release = dir.path().join("releases/app");
        std::fs::create_dir_all(release.join("manifests")).unwrap();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        std::fs::write(release.join("manifests/ok.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink(
            dir.path().join("secret.txt"),
            release.join("manifests/out.yaml"),
        )
        .unwrap();
        std::os::unix::fs::symlink("ok.yaml", release.join("manifests/in.yaml")).unwrap();
        assert!(resolve_inside(&release, "manifests/ok.yaml", "m")
            .unwrap()
            .is_some());
        assert!(resolve_inside(&release, "manifests/in.yaml", "m")
            .unwrap()
            .is_some());
        assert!(resolve_inside(&release, "manifests/none.yaml", "m")
            .unwrap()
            .is_none());
        let err = resolve_inside(
            &release,
            "manifests/out.yaml",
            "releases/app/manifests/out.yaml",
        )
        .unwrap_err();
        let target = std::fs::canonicalize(dir.path().join("secret.txt")).unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "`releases/app/manifests/out.yaml` resolves to {}, outside releases/app",
                target.display()
            )
        );
        assert_eq!(
            resolve_inside(&release, "../x", "../x")
                .unwrap_err()
                .to_string(),
            "`../x` must be a relative path without `..`"
        );
        std::fs::create_dir_all(dir.path().join("charts/c/templates")).unwrap();
        assert!(resolve_chart(dir.path(), &release, "../../charts/c", "c")
            .unwrap()
            .is_some());
        std::os::unix::fs::symlink(
            dir.path().join("secret.txt"),
            dir.path().join("charts/c/templates/x.yaml"),
        )
        .unwrap();
        assert!(resolve_chart(dir.path(), &release, "../../charts/c", "c")
            .unwrap()
            .is_some());
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("passwd"), "x").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("passwd"),
            dir.path().join("charts/c/templates/y.yaml"),
        )
        .unwrap();
        let err = resolve_chart(dir.path(), &release, "../../charts/c", "c").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`c/templates/y.yaml` resolves to {}, outside the repository",
                std::fs::canonicalize(outside.path().join("passwd"))
                    .unwrap()
                    .display()
            )
        );
    }
}
