//! The `homelab charts` operations: lock (index or registry → releases.lock), pull
//! (archives → cache, verified against the lock and the index or manifest), update (a
//! release to a new version). HTTP repositories and OCI registries (`oci://`) differ
//! only in where versions, digests and archives come from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::cache::{CacheError, ChartCache};
use super::digest;
use super::fetch::{self, FetchError};
use super::index::{index_url, IndexError, RepoIndex};
use super::lock::{LockError, LockFile, LockedChart};
use super::oci::auth::Credentials;
use super::oci::{self, OciError, OciRef, Registry};

/// A release's repository chart, as release.toml pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoChart {
    pub release: String,
    pub repository: String,
    pub name: String,
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ChartsError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error("chart {chart} is not pinned in releases/releases.lock; run `homelab charts lock` (fetches the repository index), then `homelab charts pull`")]
    NotLocked { release: String, chart: String },
    #[error("releases.lock pins `{release}` to {locked} of {locked_repo}, but release.toml asks for {wanted} of {wanted_repo}; run `homelab charts lock`")]
    Stale {
        release: String,
        locked: String,
        locked_repo: String,
        wanted: String,
        wanted_repo: String,
    },
    #[error("Refusing chart {chart} from {url}: its archive is unsafe to unpack")]
    UnsafeArchive {
        chart: String,
        url: String,
        #[source]
        source: super::archive::ArchiveError,
    },
    #[error("Refusing {url}: its sha256 is {actual}, but {against} says {expected}. The archive changed upstream or in transit; check the repository before running `homelab charts lock` again")]
    DigestMismatch {
        url: String,
        actual: String,
        expected: String,
        against: &'static str,
    },
    #[error("The index entry for `{chart}` {version} has an invalid digest `{digest}`")]
    BadIndexDigest {
        chart: String,
        version: String,
        digest: String,
    },
    #[error("No release `{0}` with a repository chart")]
    UnknownRelease(String),
    #[error("Failed to update {path}: {message}")]
    Update { path: String, message: String },
}

/// Where one run reads charts from: each HTTP repository's index, fetched once, and
/// one registry client (its tokens kept for the run), made on first use.
#[derive(Default)]
struct Indexes {
    indexes: BTreeMap<String, RepoIndex>,
    registry: Option<Registry>,
}

impl Indexes {
    fn registry(&mut self) -> &mut Registry {
        self.registry
            .get_or_insert_with(|| Registry::new(Credentials::from_env()))
    }

    fn get(&mut self, repository: &str) -> Result<&RepoIndex, ChartsError> {
        if !self.indexes.contains_key(repository) {
            let bytes = fetch::get(&index_url(repository))?;
            self.indexes.insert(
                repository.to_string(),
                RepoIndex::parse(repository, &bytes)?,
            );
        }
        Ok(&self.indexes[repository])
    }
}

/// Resolves every chart against its repository index and writes releases.lock with
/// exactly these releases. Returns the lock written.
pub(crate) fn lock(root: &Path, charts: &[RepoChart]) -> Result<LockFile, ChartsError> {
    let mut indexes = Indexes::default();
    let mut lock = LockFile::default();
    for chart in charts {
        lock.charts.push(resolve(&mut indexes, chart)?);
    }
    lock.write(root)?;
    Ok(lock)
}

fn resolve(indexes: &mut Indexes, chart: &RepoChart) -> Result<LockedChart, ChartsError> {
    if chart.repository.starts_with("oci://") {
        let at = OciRef::parse(&chart.repository, &chart.name)?;
        let manifest = indexes
            .registry()
            .manifest(&at, &oci::tag_of(&chart.version))?;
        return Ok(LockedChart {
            release: chart.release.clone(),
            repository: chart.repository.clone(),
            name: chart.name.clone(),
            version: chart.version.clone(),
            url: at.pinned(&manifest.digest),
            digest: manifest.archive,
        });
    }
    let index = indexes.get(&chart.repository)?;
    let entry = index.find(&chart.repository, &chart.name, &chart.version)?;
    let url = entry.archive_url(&chart.repository, &chart.name)?;
    let digest = match &entry.digest {
        Some(d) => digest::hex_part(d)
            .map(|h| format!("sha256:{h}"))
            .ok_or_else(|| ChartsError::BadIndexDigest {
                chart: chart.name.clone(),
                version: chart.version.clone(),
                digest: d.clone(),
            })?,
        // Indexes without digests: take the archive's own, once, at lock time.
        None => digest::sha256(&fetch::get(&url)?),
    };
    Ok(LockedChart {
        release: chart.release.clone(),
        repository: chart.repository.clone(),
        name: chart.name.clone(),
        version: chart.version.clone(),
        url,
        digest,
    })
}

/// The lock entry for `chart`, refusing one that no longer matches release.toml.
pub(crate) fn locked<'a>(
    lock: &'a LockFile,
    chart: &RepoChart,
) -> Result<&'a LockedChart, ChartsError> {
    let entry = lock
        .get(&chart.release)
        .ok_or_else(|| ChartsError::NotLocked {
            release: chart.release.clone(),
            chart: format!("{} {} from {}", chart.name, chart.version, chart.repository),
        })?;
    if entry.version != chart.version
        || entry.repository != chart.repository
        || entry.name != chart.name
    {
        return Err(ChartsError::Stale {
            release: chart.release.clone(),
            locked: format!("{} {}", entry.name, entry.version),
            locked_repo: entry.repository.clone(),
            wanted: format!("{} {}", chart.name, chart.version),
            wanted_repo: chart.repository.clone(),
        });
    }
    Ok(entry)
}

/// What `pull` did for one chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pulled {
    AlreadyCached(PathBuf),
    Downloaded(PathBuf),
}

/// Downloads every locked chart missing from the cache, verifying each archive against
/// releases.lock and against the repository index before storing it.
pub(crate) fn pull(
    root: &Path,
    charts: &[RepoChart],
    cache: &ChartCache,
) -> Result<Vec<(String, Pulled)>, ChartsError> {
    let lock = LockFile::read(root)?;
    let mut indexes = Indexes::default();
    let mut out = Vec::new();
    for chart in charts {
        let entry = locked(&lock, chart)?;
        if let Some(path) = cache.archive(&entry.digest)? {
            out.push((chart.release.clone(), Pulled::AlreadyCached(path)));
            continue;
        }
        let bytes = match entry.url.starts_with("oci://") {
            true => pull_oci(indexes.registry(), entry)?,
            false => fetch::get(&entry.url)?,
        };
        let actual = digest::sha256(&bytes);
        let mismatch = |expected: String, against| ChartsError::DigestMismatch {
            url: entry.url.clone(),
            actual: actual.clone(),
            expected,
            against,
        };
        if digest::hex_part(&actual) != digest::hex_part(&entry.digest) {
            return Err(mismatch(entry.digest.clone(), "releases.lock"));
        }
        if !entry.url.starts_with("oci://") {
            let index_entry = indexes.get(&chart.repository)?.find(
                &chart.repository,
                &chart.name,
                &chart.version,
            )?;
            if let Some(index_digest) = &index_entry.digest {
                if digest::hex_part(index_digest) != digest::hex_part(&actual) {
                    return Err(mismatch(index_digest.clone(), "the repository index"));
                }
            }
        }
        super::archive::check(&bytes).map_err(|source| ChartsError::UnsafeArchive {
            chart: format!("{} {}", chart.name, chart.version),
            url: entry.url.clone(),
            source,
        })?;
        let path = cache.store(&entry.digest, &bytes)?;
        out.push((chart.release.clone(), Pulled::Downloaded(path)));
    }
    Ok(out)
}

/// The archive a lock entry pins in a registry. The manifest is fetched by its pinned
/// digest (so it cannot have moved) and must name the locked archive as its chart
/// layer: the registry's counterpart of the index check. The caller verifies the bytes.
fn pull_oci(registry: &mut Registry, entry: &LockedChart) -> Result<Vec<u8>, ChartsError> {
    let (at, manifest_digest) = OciRef::parse_pinned(&entry.url)?;
    let manifest = registry.manifest(&at, &manifest_digest)?;
    if digest::hex_part(&manifest.archive) != digest::hex_part(&entry.digest) {
        return Err(ChartsError::DigestMismatch {
            url: entry.url.clone(),
            actual: manifest.archive,
            expected: entry.digest.clone(),
            against: "releases.lock",
        });
    }
    Ok(registry.blob(&at, &manifest.archive)?)
}

/// Moves `chart` to `version` (or the newest stable version in its index): rewrites the
/// `version` line of release.toml's `[chart]` table, keeping every other byte, and
/// updates its releases.lock entry. Returns the new version.
pub(crate) fn update(
    root: &Path,
    release_toml: &Path,
    chart: &RepoChart,
    version: Option<&str>,
) -> Result<String, ChartsError> {
    let mut indexes = Indexes::default();
    let version = match version {
        Some(v) => v.to_string(),
        None => {
            let newest = match chart.repository.starts_with("oci://") {
                true => {
                    let at = OciRef::parse(&chart.repository, &chart.name)?;
                    indexes.registry().tags(&at)?
                }
                false => indexes
                    .get(&chart.repository)?
                    .newest(&chart.name, usize::MAX),
            };
            newest
                .iter()
                .find(|v| {
                    semver::Version::parse(v.trim_start_matches('v'))
                        .is_ok_and(|s| s.pre.is_empty())
                })
                .cloned()
                .ok_or_else(|| IndexError::NoVersion {
                    repository: chart.repository.clone(),
                    chart: chart.name.clone(),
                    version: "(any stable)".into(),
                    available: newest
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?
        }
    };
    let moved = RepoChart {
        version: version.clone(),
        ..chart.clone()
    };
    let entry = resolve(&mut indexes, &moved)?;
    let update_error = |message: String| ChartsError::Update {
        path: release_toml.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(release_toml).map_err(|e| update_error(e.to_string()))?;
    let rewritten = set_chart_version(&text, &version)
        .ok_or_else(|| update_error("no `version = \"…\"` line in its [chart] table".into()))?;
    super::atomic::write(release_toml, rewritten.as_bytes())
        .map_err(|e| update_error(e.to_string()))?;
    let mut lock = LockFile::read(root)?;
    lock.upsert(entry);
    lock.write(root)?;
    Ok(version)
}

/// `text` with the `version` key of its `[chart]` table set to `version`.
fn set_chart_version(text: &str, version: &str) -> Option<String> {
    let mut in_chart = false;
    let mut done = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_chart = trimmed.starts_with("[chart]");
        }
        let key = trimmed.split('=').next().map(str::trim);
        if in_chart && !done && key == Some("version") && trimmed.contains('=') {
            let indent = &line[..line.len() - trimmed.len()];
            let newline = if line.ends_with('\n') { "\n" } else { "" };
            out.push_str(&format!("{indent}version = \"{version}\"{newline}"));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    done.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_the_chart_version() {
        let text = "name = \"x\"\nversion = \"keep\"\n\n[chart]\nrepository = \"r\"\nname = \"c\"\nversion = \"1.0.0\" # pinned\n\n[overlays.dev]\n";
        let out = set_chart_version(text, "2.0.0").unwrap();
        assert_eq!(
            out,
            text.replace("version = \"1.0.0\" # pinned", "version = \"2.0.0\"")
        );
        assert_eq!(set_chart_version("[chart]\npath = \"c\"\n", "1"), None);
    }
}
