//! Finding and parsing every `releases/<name>/release.toml`.

use std::path::{Path, PathBuf};

use super::model::Release;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::toml_file::TomlFile;

pub const RELEASES_DIR: &str = "releases";

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
pub fn load_all(root: &Path) -> Result<Vec<LoadedRelease>, Diagnostics> {
    let dir = root.join(RELEASES_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        Diagnostic::in_file(RELEASES_DIR, format!("Failed to read the releases folder: {e}"))
            .with_help("create `releases/<name>/release.toml` for each release, beside `releases/environments.toml`")
    })?;
    let mut folders: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    folders.sort();

    let mut problems = Diagnostics::default();
    let mut releases = Vec::with_capacity(folders.len());
    for (folder, path) in folders {
        let display = Path::new(RELEASES_DIR).join(&folder).join("release.toml");
        let text = match std::fs::read_to_string(path.join("release.toml")) {
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
