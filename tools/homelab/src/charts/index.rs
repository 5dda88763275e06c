//! A Helm repository's `index.yaml`: which versions exist, where their archives are and
//! their digests.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct RepoIndex {
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<IndexEntry>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexEntry {
    pub version: String,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("{repository}/index.yaml is not a valid repository index: {message}")]
    Parse { repository: String, message: String },
    #[error("Chart `{chart}` is not in {repository}; it has: {available}")]
    NoChart {
        repository: String,
        chart: String,
        available: String,
    },
    #[error(
        "Chart `{chart}` has no version {version} in {repository}; newest versions: {available}"
    )]
    NoVersion {
        repository: String,
        chart: String,
        version: String,
        available: String,
    },
    #[error("Chart `{chart}` {version} in {repository} lists no archive URL")]
    NoUrl {
        repository: String,
        chart: String,
        version: String,
    },
}

impl RepoIndex {
    pub fn parse(repository: &str, bytes: &[u8]) -> Result<Self, IndexError> {
        serde_norway::from_slice(bytes).map_err(|e| IndexError::Parse {
            repository: repository.to_string(),
            message: e.to_string(),
        })
    }

    /// The entry for exactly `chart` `version`.
    pub fn find(
        &self,
        repository: &str,
        chart: &str,
        version: &str,
    ) -> Result<&IndexEntry, IndexError> {
        let entries = self.entries.get(chart).ok_or_else(|| IndexError::NoChart {
            repository: repository.into(),
            chart: chart.into(),
            available: self
                .entries
                .keys()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        entries
            .iter()
            .find(|e| e.version == version || e.version == format!("v{version}"))
            .ok_or_else(|| IndexError::NoVersion {
                repository: repository.into(),
                chart: chart.into(),
                version: version.into(),
                available: self.newest(chart, 5).join(", "),
            })
    }

    /// Up to `n` versions of `chart`, newest first, stable releases before pre-releases.
    pub fn newest(&self, chart: &str, n: usize) -> Vec<String> {
        let mut versions: Vec<(semver::Version, String)> = self
            .entries
            .get(chart)
            .into_iter()
            .flatten()
            .filter_map(|e| {
                semver::Version::parse(e.version.trim_start_matches('v'))
                    .ok()
                    .map(|v| (v, e.version.clone()))
            })
            .collect();
        versions.sort_by(|a, b| {
            (a.0.pre.is_empty(), &a.0)
                .cmp(&(b.0.pre.is_empty(), &b.0))
                .reverse()
        });
        versions.into_iter().take(n).map(|(_, s)| s).collect()
    }
}

impl IndexEntry {
    /// The archive URL, resolved against the repository URL when relative.
    pub fn archive_url(&self, repository: &str, chart: &str) -> Result<String, IndexError> {
        let url = self.urls.first().ok_or_else(|| IndexError::NoUrl {
            repository: repository.into(),
            chart: chart.into(),
            version: self.version.clone(),
        })?;
        if url.contains("://") {
            Ok(url.clone())
        } else {
            Ok(format!(
                "{}/{}",
                repository.trim_end_matches('/'),
                url.trim_start_matches('/')
            ))
        }
    }
}

/// The index URL of a repository.
pub(crate) fn index_url(repository: &str) -> String {
    format!("{}/index.yaml", repository.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: v1\nentries:\n  web:\n  - version: 1.0.0\n    urls: [web-1.0.0.tgz]\n    digest: abc\n  - version: 1.1.0-rc.1\n    urls: [https://x/web-1.1.0-rc.1.tgz]\n  - version: 0.9.0\n    urls: [web-0.9.0.tgz]\n";

    #[test]
    fn finds_exact_versions_and_resolves_urls() {
        let index = RepoIndex::parse("http://repo/charts/", INDEX.as_bytes()).unwrap();
        let entry = index.find("http://repo/charts/", "web", "1.0.0").unwrap();
        assert_eq!(
            entry.archive_url("http://repo/charts/", "web").unwrap(),
            "http://repo/charts/web-1.0.0.tgz"
        );
        assert_eq!(index.newest("web", 5), ["1.0.0", "0.9.0", "1.1.0-rc.1"]);
        let err = index
            .find("http://repo/charts", "web", "2.0.0")
            .unwrap_err();
        assert_eq!(err.to_string(), "Chart `web` has no version 2.0.0 in http://repo/charts; newest versions: 1.0.0, 0.9.0, 1.1.0-rc.1");
    }
}
