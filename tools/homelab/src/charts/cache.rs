//! The content-addressed chart cache: `<cache>/charts/sha256/<hex>.tgz`, where `<cache>`
//! is `$HOMELAB_CACHE_DIR`, else `$XDG_CACHE_HOME/homelab`, else `~/.cache/homelab`.
//! An archive is stored under its own digest, so a cached file is either right or absent.

use std::path::{Path, PathBuf};

use super::{atomic, digest};

/// Overrides the whole cache folder (tests point it at a temp dir).
pub(crate) const CACHE_ENV: &str = "HOMELAB_CACHE_DIR";

#[derive(Debug, Clone)]
pub struct ChartCache {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("No cache folder: set HOMELAB_CACHE_DIR, XDG_CACHE_HOME or HOME")]
    NoCacheDir,
    #[error("`{0}` is not a sha256 digest")]
    BadDigest(String),
    #[error("Cached chart {path} does not match its digest {expected} (it has {actual}); delete it and run `homelab charts pull`")]
    Corrupt {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("Chart archive {path} is refused")]
    Unsafe {
        path: String,
        #[source]
        source: super::archive::ArchiveError,
    },
    #[error("Failed to access the chart cache at {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl ChartCache {
    /// The cache the environment selects.
    pub fn from_env() -> Result<Self, CacheError> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = var(CACHE_ENV)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("homelab")))
            .or_else(|| var("HOME").map(|h| h.join(".cache/homelab")))
            .ok_or(CacheError::NoCacheDir)?;
        Ok(ChartCache { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        ChartCache { root: root.into() }
    }

    /// Where the archive with `digest` lives (whether or not it is there).
    pub fn path_for(&self, digest: &str) -> Result<PathBuf, CacheError> {
        let hex = digest::hex_part(digest).ok_or_else(|| CacheError::BadDigest(digest.into()))?;
        Ok(self
            .root
            .join("charts")
            .join("sha256")
            .join(format!("{hex}.tgz")))
    }

    /// The cached archive for `digest`, verified and its entries checked
    /// ([`super::archive`]); `Ok(None)` when it is not cached.
    pub fn archive(&self, digest: &str) -> Result<Option<PathBuf>, CacheError> {
        let path = self.path_for(digest)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CacheError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let actual = digest::sha256(&bytes);
        if Some(actual.trim_start_matches("sha256:").to_string()) != digest::hex_part(digest) {
            return Err(CacheError::Corrupt {
                path: path.display().to_string(),
                expected: digest.into(),
                actual,
            });
        }
        super::archive::check(&bytes).map_err(|source| CacheError::Unsafe {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Some(path))
    }

    /// Stores `bytes`, which the caller has verified to have `digest`, once its entries
    /// pass [`super::archive::check`]: a hostile archive never enters the cache.
    pub fn store(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.path_for(digest)?;
        super::archive::check(bytes).map_err(|source| CacheError::Unsafe {
            path: path.display().to_string(),
            source,
        })?;
        atomic::write(&path, bytes).map_err(|source| CacheError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::super::archive::tests::{entry, tgz};
    use super::*;

    #[test]
    fn hostile_archives_never_enter_or_leave_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::at(dir.path());
        let hostile = tgz(&[
            entry("app/Chart.yaml", b'0', b"name: app\n"),
            entry("app/../../../etc/x", b'0', b""),
        ]);
        let digest = digest::sha256(&hostile);
        let err = cache.store(&digest, &hostile).unwrap_err();
        assert!(err.to_string().starts_with("Chart archive "), "{err}");
        assert_eq!(
            std::error::Error::source(&err).unwrap().to_string(),
            "entry `app/../../../etc/x` points outside the chart with `..`"
        );
        assert!(!cache.path_for(&digest).unwrap().exists());
        atomic::write(&cache.path_for(&digest).unwrap(), &hostile).unwrap();
        assert!(matches!(
            cache.archive(&digest),
            Err(CacheError::Unsafe { .. })
        ));
        let fine = tgz(&[entry("app/Chart.yaml", b'0', b"name: app\n")]);
        let digest = digest::sha256(&fine);
        let stored = cache.store(&digest, &fine).unwrap();
        assert_eq!(cache.archive(&digest).unwrap(), Some(stored));
    }
}
