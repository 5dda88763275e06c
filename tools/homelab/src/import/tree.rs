//! The Helmfile's folder as untrusted input: every path a Helmfile names is resolved
//! against the file that names it and must stay inside the folder of the top
//! `helmfile.yaml`, after symlinks are followed.

use std::path::{Component, Path, PathBuf};

use super::report::Located;

/// The folder an import reads from.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    /// Canonical: symlinks resolved, so a prefix check is meaningful.
    root: PathBuf,
}

impl Tree {
    pub(super) fn new(root: &Path) -> std::io::Result<Tree> {
        Ok(Tree {
            root: root.canonicalize()?,
        })
    }

    /// `name` as written in `from` (a path relative to the tree) at `line`, as a path
    /// relative to the tree. Absolute paths, `..` above the tree and symlinks leading out
    /// of it are refused.
    pub(super) fn resolve(&self, from: &str, line: usize, name: &str) -> Result<String, Located> {
        let refuse = |why: &str| Located::new(from, line, format!("`{name}` {why}"));
        if name.is_empty() {
            return Err(refuse("is an empty path"));
        }
        if Path::new(name).is_absolute() {
            return Err(refuse(
                "is an absolute path; use a path inside the Helmfile's folder",
            ));
        }
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let mut parts: Vec<String> = Vec::new();
        for component in base.join(name).components() {
            match component {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(refuse("leads out of the Helmfile's folder"));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("is an absolute path"))
                }
            }
        }
        let relative = parts.join("/");
        let full = self.root.join(&relative);
        if let Ok(real) = full.canonicalize() {
            if !real.starts_with(&self.root) {
                return Err(refuse(
                    "is a symlink that leads out of the Helmfile's folder",
                ));
            }
        }
        Ok(relative)
    }

    /// The full path of a tree-relative path.
    pub(super) fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Reads a tree-relative file named at `from:line`.
    pub(super) fn read(&self, from: &str, line: usize, relative: &str) -> Result<String, Located> {
        std::fs::read_to_string(self.path(relative))
            .map_err(|e| Located::new(from, line, format!("cannot read `{relative}`: {e}")))
    }

    /// Whether a tree-relative path is a folder.
    pub(super) fn is_dir(&self, relative: &str) -> bool {
        self.path(relative).is_dir()
    }

    /// Every file under a tree-relative folder, as (path inside the folder, bytes), sorted.
    /// Symlinks are refused wherever they point, so a chart cannot smuggle a file in.
    pub(super) fn files_under(
        &self,
        from: &str,
        line: usize,
        relative: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, Located> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(sub) = stack.pop() {
            let dir = self.path(relative).join(&sub);
            let entries = std::fs::read_dir(&dir).map_err(|e| {
                Located::new(from, line, format!("cannot read `{}`: {e}", dir.display()))
            })?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let inner = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                let kind = entry
                    .file_type()
                    .map_err(|e| Located::new(from, line, format!("cannot read `{inner}`: {e}")))?;
                if kind.is_symlink() {
                    return Err(Located::new(
                        from,
                        line,
                        format!("the chart `{relative}` holds a symlink, `{inner}`; replace it with the file"),
                    ));
                } else if kind.is_dir() {
                    stack.push(inner);
                } else {
                    let bytes = std::fs::read(entry.path()).map_err(|e| {
                        Located::new(from, line, format!("cannot read `{inner}`: {e}"))
                    })?;
                    out.push((inner, bytes));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("apps")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("apps/out")).unwrap();
        let tree = Tree::new(dir.path()).unwrap();
        assert_eq!(
            tree.resolve("apps/helmfile.yaml", 1, "../values/a.yaml")
                .unwrap(),
            "values/a.yaml"
        );
        for bad in ["../../x", "/etc/passwd", "out/passwd", "out"] {
            let err = tree.resolve("apps/helmfile.yaml", 3, bad).unwrap_err();
            assert_eq!(err.file, "apps/helmfile.yaml");
            assert_eq!(err.line, 3);
        }
    }
}
