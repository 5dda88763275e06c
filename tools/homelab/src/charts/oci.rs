//! Charts in OCI registries, as Helm 3.8+ pushes them: `oci://HOST/PATH` in release.toml
//! plus the chart name is the repository `PATH/NAME` on `HOST`, each version a tag
//! (`+` written `_`), and the tag's manifest names one layer of type
//! `application/vnd.cncf.helm.chart.content.v1.tar+gzip`: the chart archive.
//!
//! The lock pins the manifest by digest (`oci://HOST/PATH/NAME@sha256:…`) and the
//! archive by its layer digest, so a tag moved upstream cannot change what renders.
//!
//! Registries on loopback (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to over
//! plain HTTP, as Docker treats them; every other registry over HTTPS.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use homelab_secrets::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::digest;
use super::oci_auth::{parse_challenge, Challenge, Credentials};

/// The layer media types Helm writes (the second is Helm 3.0–3.7's).
const CHART_LAYER: [&str; 2] = [
    "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
    "application/tar+gzip",
];
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Manifests and tag lists are small; archives are capped like repository downloads.
const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
const MAX_BLOB: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OciError {
    #[error("`{reference}` is not an OCI chart reference: {reason}")]
    Reference { reference: String, reason: String },
    #[error("Failed to reach {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{registry} refused access to {repository} ({status}){}",
        if *.has_credentials { "; the stored credentials were not accepted".to_string() }
        else { format!("; log in first: `helm registry login {registry}` (homelab reads Helm's and Docker's registry logins)") })]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
        has_credentials: bool,
    },
    #[error(
        "Chart `{repository}` has no version {version} in {registry}; newest versions: {available}"
    )]
    NoVersion {
        registry: String,
        repository: String,
        version: String,
        available: String,
    },
    #[error("{url} is not a Helm chart manifest: {reason}")]
    NotAChart { url: String, reason: String },
}

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

    fn url(&self, tail: &str) -> String {
        format!(
            "{}://{}/v2/{}/{tail}",
            self.scheme(),
            self.registry,
            self.repository
        )
    }
}

/// Helm writes a version's `+` as `_` in tags, which cannot hold `+`.
pub fn tag_of(version: &str) -> String {
    version.replace('+', "_")
}

/// A chart's manifest: its own digest and its archive layer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartManifest {
    pub digest: String,
    pub archive: String,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    digest: String,
}

/// Reads a manifest body: the chart layer's digest, or why it is not a chart.
pub fn parse_manifest(body: &[u8]) -> Result<String, String> {
    let manifest: Manifest =
        serde_json::from_slice(body).map_err(|e| format!("not a JSON manifest ({e})"))?;
    if let Some(config) = &manifest.config {
        if config.media_type != HELM_CONFIG && !config.media_type.is_empty() {
            return Err(format!(
                "its config is `{}`, not `{HELM_CONFIG}` (is it a container image?)",
                config.media_type
            ));
        }
    }
    let layer = manifest
        .layers
        .iter()
        .find(|l| CHART_LAYER.contains(&l.media_type.as_str()))
        .ok_or_else(|| format!("no layer of type `{}`", CHART_LAYER[0]))?;
    digest::hex_part(&layer.digest)
        .filter(|_| layer.digest.starts_with("sha256:"))
        .map(|hex| format!("sha256:{hex}"))
        .ok_or_else(|| format!("the chart layer's digest `{}` is not sha256", layer.digest))
}

/// A client for the registries of one run: tokens are fetched once per repository.
pub struct Registry {
    agent: ureq::Agent,
    credentials: Credentials,
    tokens: BTreeMap<String, SecretString>,
}

impl Registry {
    pub fn new(credentials: Credentials) -> Registry {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .timeout_connect(Some(Duration::from_secs(15)))
            .build()
            .into();
        Registry {
            agent,
            credentials,
            tokens: BTreeMap::new(),
        }
    }

    /// The manifest for `reference` (a tag or `sha256:` digest), checked to be a chart
    /// and, when asked for by digest, to hash to that digest.
    pub fn manifest(&mut self, at: &OciRef, reference: &str) -> Result<ChartManifest, OciError> {
        let url = at.url(&format!("manifests/{reference}"));
        let body = match self.get(at, &url, Some(MANIFEST), MAX_MANIFEST) {
            Err(OciError::Status { status: 404, .. }) if !reference.starts_with("sha256:") => {
                let mut tags = self.tags(at).unwrap_or_default();
                tags.truncate(5);
                return Err(OciError::NoVersion {
                    registry: at.registry.clone(),
                    repository: at.repository.clone(),
                    version: reference.replace('_', "+"),
                    available: if tags.is_empty() {
                        "none".into()
                    } else {
                        tags.join(", ")
                    },
                });
            }
            other => other?,
        };
        let actual = digest::sha256(&body);
        if reference.starts_with("sha256:")
            && digest::hex_part(reference) != digest::hex_part(&actual)
        {
            return Err(OciError::NotAChart {
                url,
                reason: format!("its body hashes to {actual}, not the digest it was asked for"),
            });
        }
        let archive = parse_manifest(&body).map_err(|reason| OciError::NotAChart {
            url: url.clone(),
            reason,
        })?;
        Ok(ChartManifest {
            digest: actual,
            archive,
        })
    }

    /// The blob `digest` (the caller verifies it).
    pub fn blob(&mut self, at: &OciRef, digest: &str) -> Result<Vec<u8>, OciError> {
        let url = at.url(&format!("blobs/{digest}"));
        self.get(at, &url, None, MAX_BLOB)
    }

    /// The repository's versions that are semver, newest first (tags `_` → `+`).
    pub fn tags(&mut self, at: &OciRef) -> Result<Vec<String>, OciError> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let url = at.url("tags/list");
        let body = self.get(at, &url, None, MAX_MANIFEST)?;
        let list: Tags = serde_json::from_slice(&body).map_err(|e| OciError::Status {
            url,
            status: 200,
            message: format!("not a tag list ({e})"),
        })?;
        let mut versions: Vec<(semver::Version, String)> = list
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.replace('_', "+"))
            .filter_map(|v| Some((semver::Version::parse(v.trim_start_matches('v')).ok()?, v)))
            .collect();
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(versions.into_iter().map(|(_, v)| v).collect())
    }

    /// GETs `url`, answering one authentication challenge if the registry sends one.
    fn get(
        &mut self,
        at: &OciRef,
        url: &str,
        accept: Option<&str>,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        let key = format!("{}/{}", at.registry, at.repository);
        let first = self.send(url, accept, self.tokens.get(&key))?;
        let response = match first.status().as_u16() {
            401 => {
                let challenge = first
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_challenge);
                let authorization = match challenge {
                    Some(Challenge::Bearer {
                        realm,
                        service,
                        scope,
                    }) => {
                        let scope =
                            scope.unwrap_or_else(|| format!("repository:{}:pull", at.repository));
                        self.token(at, &realm, service.as_deref(), &scope)?
                    }
                    Some(Challenge::Basic) => self
                        .credentials
                        .basic(&at.registry)
                        .ok_or_else(|| self.unauthorized(at, 401))?,
                    None => return Err(self.unauthorized(at, 401)),
                };
                let retry = self.send(url, accept, Some(&authorization))?;
                self.tokens.insert(key, authorization);
                retry
            }
            _ => first,
        };
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(self.unauthorized(at, status));
        }
        let body = read_body(url, response, limit)?;
        if !(200..300).contains(&status) {
            return Err(OciError::Status {
                url: url.to_string(),
                status,
                message: registry_message(&body),
            });
        }
        Ok(body)
    }

    /// Trades the stored credentials (or none: anonymous pulls) for a bearer token.
    fn token(
        &mut self,
        at: &OciRef,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<SecretString, OciError> {
        let mut request = self.agent.get(realm).query("scope", scope);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        let basic = self.credentials.basic(&at.registry);
        if let Some(basic) = &basic {
            request = request.header("Authorization", basic.expose_secret());
        }
        let response = request.call().map_err(|e| OciError::Transport {
            url: realm.to_string(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(self.unauthorized(at, status));
        }
        let body = read_body(realm, response, MAX_MANIFEST)?;
        #[derive(Deserialize)]
        struct Token {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let token = serde_json::from_slice::<Token>(&body)
            .ok()
            .and_then(|t| t.token.or(t.access_token))
            .filter(|t| !t.is_empty() && (200..300).contains(&status))
            .ok_or_else(|| OciError::Status {
                url: realm.to_string(),
                status,
                message: "the token service returned no token".into(),
            })?;
        Ok(SecretString::from(format!("Bearer {token}")))
    }

    fn unauthorized(&self, at: &OciRef, status: u16) -> OciError {
        OciError::Unauthorized {
            registry: at.registry.clone(),
            repository: at.repository.clone(),
            status,
            has_credentials: self.credentials.basic(&at.registry).is_some(),
        }
    }

    fn send(
        &self,
        url: &str,
        accept: Option<&str>,
        authorization: Option<&SecretString>,
    ) -> Result<http::Response<ureq::Body>, OciError> {
        let mut request = self.agent.get(url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        if let Some(auth) = authorization {
            request = request.header("Authorization", auth.expose_secret());
        }
        request.call().map_err(|e| OciError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })
    }
}

fn read_body(
    url: &str,
    response: http::Response<ureq::Body>,
    limit: u64,
) -> Result<Vec<u8>, OciError> {
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| OciError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    if body.len() as u64 > limit {
        return Err(OciError::Transport {
            url: url.to_string(),
            message: format!("the body is larger than {limit} bytes"),
        });
    }
    Ok(body)
}

/// The first message of a registry's `{"errors": [{"code", "message"}]}` body.
fn registry_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("errors")?.get(0)?;
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            Some(format!("{code}: {message}"))
        })
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
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
    }

    #[test]
    fn manifests() {
        let layer = format!("sha256:{}", "b".repeat(64));
        let chart = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{HELM_CONFIG}","digest":"sha256:00"}},
               "layers":[{{"mediaType":"{}","digest":"{layer}"}}]}}"#,
            CHART_LAYER[0]
        );
        assert_eq!(parse_manifest(chart.as_bytes()), Ok(layer));
        let image =
            r#"{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[]}"#;
        assert!(parse_manifest(image.as_bytes())
            .unwrap_err()
            .contains("container image"));
        assert!(parse_manifest(b"{\"layers\":[]}")
            .unwrap_err()
            .contains("no layer"));
        assert!(parse_manifest(b"<html>")
            .unwrap_err()
            .contains("not a JSON manifest"));
        assert_eq!(tag_of("1.0.0+build.1"), "1.0.0_build.1");
    }

    #[test]
    fn registry_errors_are_read() {
        assert_eq!(
            registry_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            ),
            "MANIFEST_UNKNOWN: manifest unknown"
        );
        assert_eq!(registry_message(b"plain"), "plain");
    }
}
