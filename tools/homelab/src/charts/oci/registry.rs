//! Talking to a registry: manifests, blobs and tag lists over the distribution API,
//! answering one authentication challenge per repository and run.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use homelab_secrets::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::auth::{parse_challenge, Challenge, Credentials};
use super::manifest::{parse_manifest, ChartManifest};
use super::{OciError, OciRef};
use crate::charts::digest;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Manifests and tag lists are small; archives are capped like repository downloads.
const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
const MAX_BLOB: u64 = 256 * 1024 * 1024;

/// A client for the registries of one run: tokens are fetched once per repository.
pub(crate) struct Registry {
    agent: ureq::Agent,
    credentials: Credentials,
    tokens: BTreeMap<String, SecretString>,
}

impl Registry {
    pub(crate) fn new(credentials: Credentials) -> Registry {
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
    pub(crate) fn manifest(
        &mut self,
        at: &OciRef,
        reference: &str,
    ) -> Result<ChartManifest, OciError> {
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
    pub(crate) fn blob(&mut self, at: &OciRef, digest: &str) -> Result<Vec<u8>, OciError> {
        let url = at.url(&format!("blobs/{digest}"));
        self.get(at, &url, None, MAX_BLOB)
    }

    /// The repository's versions that are semver, newest first (tags `_` → `+`).
    pub(crate) fn tags(&mut self, at: &OciRef) -> Result<Vec<String>, OciError> {
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
