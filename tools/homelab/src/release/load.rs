//! Finding and parsing every `releases/<name>/release.toml`.

use std::path::{Path, PathBuf};

use super::model::Release;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::paths;
use crate::toml_file::TomlFile;

pub(crate) const RELEASES_DIR: &str = "releases";

/// A parsed release and where it lives.
#[derive(Debug, Clone)]
pub struct LoadedRelease {
    /// The release folder, absolute, for reading its values and manifests.
    pub dir: PathBuf,
    /// `release.toml` with spans for diagnostics.
    pub toml: TomlFile<Release>,
}

impl LoadedRelease {
    pub fn release(&self) -> &Release {
        &self.toml.value
    }

    pub fn name(&self) -> &str {
        &self.toml.value.name
    }

    /// The folder relative to the repository root, as diagnostics print it.
    pub fn display_dir(&self) -> &Path {
        self.toml
            .file
            .path()
            .parent()
            .unwrap_or(Path::new(RELEASES_DIR))
    }
}

/// Parses every release folder under `root/releases`, sorted by folder name. Problems
/// in one release do not hide those in others.
pub(crate) fn load_all(root: &Path) -> Result<Vec<LoadedRelease>, Diagnostics> {
    let dir = root.join(RELEASES_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        Diagnostic::in_file(RELEASES_DIR, format!("Failed to read the releases folder: {e}"))
            .with_help("create `releases/<name>/release.toml` for each release, beside `releases/environments.toml`")
    })?;
    let mut problems = Diagnostics::default();
    let mut folders: Vec<(String, PathBuf)> = Vec::new();
    let mut symlinked: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        if kind.is_symlink() && entry.path().is_dir() {
            symlinked.push((name, entry.path()));
        } else if kind.is_dir() {
            folders.push((name, entry.path()));
        }
    }
    folders.sort();
    symlinked.sort();
    for (name, path) in symlinked {
        problems.push(symlinked_folder(&name, &path));
    }

    let mut releases = Vec::with_capacity(folders.len());
    for (folder, path) in folders {
        let display = Path::new(RELEASES_DIR).join(&folder).join("release.toml");
        let text = match read_release_toml(&path, &display) {
            Ok(text) => text,
            Err(e) => {
                problems.push(
                    Diagnostic::in_file(
                        &display,
                        format!("Failed to read release `{folder}`: {e}"),
                    )
                    .with_help(
                        "every folder under releases/ is a release and needs a release.toml",
                    ),
                );
                continue;
            }
        };
        match TomlFile::<Release>::parse(&display, text, "release") {
            Ok(toml) => {
                if toml.value.name != folder {
                    problems.push(
                        toml.error_at(
                            "name",
                            format!("Release `{}` lives in folder `{folder}`", toml.value.name),
                        )
                        .with_label("must match the folder name")
                        .with_help(format!("rename the folder or write `name = \"{folder}\"`")),
                    );
                }
                releases.push(LoadedRelease { dir: path, toml });
            }
            Err(d) => problems.push(d),
        }
    }
    problems.into_result(releases)
}

/// `release.toml`, which must resolve inside its folder.
fn read_release_toml(folder: &Path, display: &Path) -> Result<String, String> {
    let resolved = paths::resolve_inside(folder, "release.toml", &display.to_string_lossy())
        .map_err(|e| paths::describe(&e))?;
    std::fs::read_to_string(resolved.unwrap_or_else(|| folder.join("release.toml")))
        .map_err(|e| e.to_string())
}

/// A release folder must be a folder of the repository: a link could point anywhere, and
/// skipping it would hide a release from review.
fn symlinked_folder(name: &str, path: &Path) -> Diagnostic {
    let target = std::fs::read_link(path)
        .map(|t| format!(" (it points to {})", t.display()))
        .unwrap_or_default();
    Diagnostic::in_file(
        Path::new(RELEASES_DIR).join(name),
        format!("Release folder `{name}` is a symlink{target}"),
    )
    .with_help("move the release's files into releases/ instead of linking to them")
}
