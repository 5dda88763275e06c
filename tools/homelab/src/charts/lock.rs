//! `releases.lock`: for each repository chart, the exact archive URL, version and sha256
//! digest. Committed, so every machine renders the same bytes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic;

/// Where the lock file lives, relative to the lab root.
pub(crate) const LOCK_PATH: &str = "releases/releases.lock";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockFile {
    #[serde(default, rename = "chart")]
    pub charts: Vec<LockedChart>,
}

/// One pinned chart archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LockedChart {
    pub release: String,
    pub repository: String,
    pub name: String,
    pub version: String,
    /// The archive URL the repository's index.yaml gave for this version, or for an
    /// OCI registry the manifest pinned by digest (`oci://HOST/PATH/NAME@sha256:…`).
    pub url: String,
    /// `sha256:<hex>` of the archive.
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("Failed to read {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid lock file: {message}. Regenerate it with `homelab charts lock`"
    )]
    Parse { path: String, message: String },
    #[error("Failed to write {path}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl LockFile {
    /// Reads `root/releases/releases.lock`; a missing file is an empty lock.
    pub(crate) fn read(root: &Path) -> Result<LockFile, LockError> {
        let path = root.join(LOCK_PATH);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LockFile::default()),
            Err(source) => {
                return Err(LockError::Read {
                    path: LOCK_PATH.into(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|e| LockError::Parse {
            path: LOCK_PATH.into(),
            message: e.message().to_string(),
        })
    }

    /// Writes the lock atomically, sorted by release.
    pub(crate) fn write(&self, root: &Path) -> Result<(), LockError> {
        let mut sorted = self.clone();
        sorted.charts.sort_by(|a, b| a.release.cmp(&b.release));
        let body = toml::to_string_pretty(&sorted).unwrap_or_default();
        let text = format!(
            "# Written by `homelab charts lock`; do not edit. Each chart archive is verified\n# against this digest before it enters the cache.\n\n{body}"
        );
        atomic::write(&root.join(LOCK_PATH), text.as_bytes()).map_err(|source| LockError::Write {
            path: LOCK_PATH.into(),
            source,
        })
    }

    pub(crate) fn get(&self, release: &str) -> Option<&LockedChart> {
        self.charts.iter().find(|c| c.release == release)
    }

    /// Replaces or adds the entry for `chart.release`.
    pub(crate) fn upsert(&mut self, chart: LockedChart) {
        match self.charts.iter_mut().find(|c| c.release == chart.release) {
            Some(existing) => *existing = chart,
            None => self.charts.push(chart),
        }
    }
}
