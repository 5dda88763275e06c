//! Where a chart lives in a registry, and the pinned reference releases.lock keeps.

use super::OciError;
use crate::charts::digest;

/// A chart's repository in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// `path/name`.
    pub repository: String,
}

impl OciRef {
    /// `oci://HOST[/PATH]` (release.toml's `repository`) and the chart's name.
    pub fn parse(repository_url: &str, chart: &str) -> Result<OciRef, OciError> {
        let bad = |reason: &str| OciError::Reference {
            reference: repository_url.to_string(),
            reason: reason.to_string(),
        };
        let rest = repository_url
            .strip_prefix("oci://")
            .ok_or_else(|| bad("it must start with oci://"))?;
        let rest = rest.trim_end_matches('/');
        let (registry, path) = rest.split_once('/').unwrap_or((rest, ""));
        if registry.is_empty() || registry.contains(['@', '?', '#', ' ']) {
            return Err(bad("it names no registry host"));
        }
        if chart.is_empty() || chart.contains(['/', ':', '@']) {
            return Err(bad("the chart name must be one path segment"));
        }
        let valid = |segment: &str| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if !path.split('/').filter(|s| !s.is_empty()).all(valid) || !valid(chart) {
            return Err(bad(
                "repository paths are lowercase letters, digits, `.`, `_` and `-`",
            ));
        }
        let repository = match path.trim_matches('/') {
            "" => chart.to_string(),
            p => format!("{p}/{chart}"),
        };
        Ok(OciRef {
            registry: registry.to_ascii_lowercase(),
            repository,
        })
    }

    /// The lock's immutable reference: `oci://HOST/PATH/NAME@sha256:…`.
    pub fn pinned(&self, manifest_digest: &str) -> String {
        format!(
            "oci://{}/{}@{manifest_digest}",
            self.registry, self.repository
        )
    }

    /// Splits a reference written by [`OciRef::pinned`].
    pub fn parse_pinned(url: &str) -> Result<(OciRef, String), OciError> {
        let bad = |reason: &str| OciError::Reference {
            reference: url.to_string(),
            reason: reason.to_string(),
        };
        let (name, manifest) = url
            .rsplit_once('@')
            .ok_or_else(|| bad("releases.lock pins no manifest digest (`@sha256:…`)"))?;
        let hex = digest::hex_part(manifest)
            .filter(|_| manifest.starts_with("sha256:"))
            .ok_or_else(|| bad("the manifest digest is not `sha256:` and 64 hex digits"))?;
        let (base, chart) = name
            .rsplit_once('/')
            .ok_or_else(|| bad("it names no chart"))?;
        let reference = OciRef::parse(base, chart)?;
        Ok((reference, format!("sha256:{hex}")))
    }

    fn scheme(&self) -> &'static str {
        let host = match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => self.registry.split(':').next().unwrap_or(&self.registry),
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            "http"
        } else {
            "https"
        }
    }

    /// A distribution API URL under this repository: `…/v2/PATH/NAME/TAIL`.
    pub(super) fn url(&self, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme(),
            self.registry,
            self.repository
        )
    }
}

/// Helm writes a version's `+` as `_` in tags, which cannot hold `+`.
pub(crate) fn tag_of(version: &str) -> String {
    version.replace('+', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = OciRef::parse("oci://ghcr.io/traefik/helm/", "traefik").unwrap();
        assert_eq!(r.registry, "ghcr.io");
        assert_eq!(r.repository, "traefik/helm/traefik");
        assert_eq!(
            r.url("manifests/1.0.0"),
            "https://ghcr.io/v2/traefik/helm/traefik/manifests/1.0.0"
        );
        let local = OciRef::parse("oci://127.0.0.1:5000", "webapp").unwrap();
        assert_eq!(
            local.url("tags/list"),
            "http://127.0.0.1:5000/v2/webapp/tags/list"
        );
        assert_eq!(
            OciRef::parse("oci://[::1]:5000/c", "x").unwrap().scheme(),
            "http"
        );
        assert_eq!(
            OciRef::parse("oci://localhost/c", "x").unwrap().scheme(),
            "http"
        );

        let digest = format!("sha256:{}", "a".repeat(64));
        let pinned = r.pinned(&digest);
        assert_eq!(
            pinned,
            format!("oci://ghcr.io/traefik/helm/traefik@{digest}")
        );
        assert_eq!(OciRef::parse_pinned(&pinned).unwrap(), (r, digest));

        for (url, chart) in [
            ("https://ghcr.io/x", "c"),
            ("oci://", "c"),
            ("oci:///path", "c"),
            ("oci://ghcr.io/Upper", "c"),
            ("oci://ghcr.io/x", "a/b"),
            ("oci://ghcr.io/x", ""),
        ] {
            assert!(OciRef::parse(url, chart).is_err(), "{url} {chart}");
        }
        assert!(OciRef::parse_pinned("oci://ghcr.io/x/c@sha256:short").is_err());
        assert!(OciRef::parse_pinned("oci://ghcr.io/x/c:1.0.0").is_err());
        assert_eq!(tag_of("1.0.0+build.1"), "1.0.0_build.1");
    }
}
