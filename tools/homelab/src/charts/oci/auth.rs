//! Registry credentials and authentication challenges.
//!
//! Credentials come from where `helm registry login` and `docker login` leave them,
//! so a Helm user has nothing new to set up: `$HELM_REGISTRY_CONFIG` (else
//! `$XDG_CONFIG_HOME/helm/registry/config.json`, else `~/.config/helm/registry/config.json`),
//! then `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`). Only inline
//! `auths` entries are read; credential helpers (`credsStore`) are not run.
//!
//! A registry that wants authentication answers 401 with a `WWW-Authenticate`
//! challenge: `Basic` (send the credentials) or `Bearer realm=…,service=…,scope=…`
//! (trade them, or nothing for public images, for a token at the realm).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use homelab_secrets::{ExposeSecret as _, SecretString};

/// `user:password` per registry host, base64-encoded as in the config files.
#[derive(Default)]
pub struct Credentials {
    by_host: BTreeMap<String, SecretString>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hosts only: the credentials never reach output.
        f.debug_set().entries(self.by_host.keys()).finish()
    }
}

impl Credentials {
    /// The credentials in Helm's and Docker's config files; files that are missing or
    /// unreadable are skipped (an anonymous pull may still work).
    pub fn from_env() -> Credentials {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("HOME");
        let helm = env("HELM_REGISTRY_CONFIG").or_else(|| {
            env("XDG_CONFIG_HOME")
                .or_else(|| home.as_ref().map(|h| h.join(".config")))
                .map(|c| c.join("helm/registry/config.json"))
        });
        let docker = env("DOCKER_CONFIG")
            .or_else(|| home.as_ref().map(|h| h.join(".docker")))
            .map(|d| d.join("config.json"));
        let mut credentials = Credentials::default();
        // Helm's own file wins over Docker's for the same host.
        for path in [docker, helm].into_iter().flatten() {
            credentials.read_file(&path);
        }
        credentials
    }

    fn read_file(&mut self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let Ok(config) = serde_json::from_str::<serde_json::Value>(&text) else {
            return;
        };
        let Some(auths) = config.get("auths").and_then(|a| a.as_object()) else {
            return;
        };
        for (key, entry) in auths {
            let auth = match (
                entry.get("auth"),
                entry.get("username"),
                entry.get("password"),
            ) {
                (Some(serde_json::Value::String(auth)), _, _) if !auth.is_empty() => auth.clone(),
                (
                    _,
                    Some(serde_json::Value::String(user)),
                    Some(serde_json::Value::String(pass)),
                ) => base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")),
                _ => continue,
            };
            self.by_host.insert(host_of(key), SecretString::from(auth));
        }
    }

    /// Adds `user:password` for `host` (tests, and callers with their own source).
    pub fn insert(&mut self, host: &str, user: &str, password: &str) {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.by_host.insert(host_of(host), SecretString::from(auth));
    }

    /// The `Authorization: Basic …` value for `registry`, if any is stored.
    pub fn basic(&self, registry: &str) -> Option<SecretString> {
        let host = host_of(registry);
        let found = self.by_host.get(&host).or_else(|| {
            // Docker Hub serves from registry-1.docker.io but logins are stored under
            // index.docker.io (`https://index.docker.io/v1/`).
            (host == "registry-1.docker.io" || host == "docker.io")
                .then(|| self.by_host.get("index.docker.io"))
                .flatten()
        })?;
        Some(SecretString::from(format!(
            "Basic {}",
            found.expose_secret()
        )))
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`; `ghcr.io` stays.
fn host_of(key: &str) -> String {
    let rest = key.split_once("://").map_or(key, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses `Basic realm="x"` or `Bearer realm="…",service="…",scope="…"`. Quoted values
/// may hold commas (`scope="repository:a:pull,push"`); `None` for anything else.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest)?;
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm").filter(|r| !r.is_empty())?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `key="value",key=token` pairs, keys lowercased.
fn parse_params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((key, value));
        rest = remainder.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_with_commas_in_quotes() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:traefik/helm/traefik:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://ghcr.io/token".into(),
                service: Some("ghcr.io".into()),
                scope: Some("repository:traefik/helm/traefik:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="basic-realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Bearer service=x"), None, "no realm");
        assert_eq!(parse_challenge(r#"Bearer realm="unterminated"#), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    proptest::proptest! {
        /// Any realm, service and scope a registry quotes (commas, spaces, escaped
        /// quotes and backslashes included) come back as they were.
        #[test]
        fn quoted_bearer_parameters_round_trip(
            realm in "[ -~]{1,40}",
            service in "[ -~]{0,20}",
            scope in "[ -~]{0,40}",
        ) {
            let quote = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
            let header = format!(
                "Bearer realm={},service={}, scope={}",
                quote(&realm), quote(&service), quote(&scope)
            );
            proptest::prop_assert_eq!(
                parse_challenge(&header),
                Some(Challenge::Bearer { realm, service: Some(service), scope: Some(scope) })
            );
        }

        #[test]
        fn any_header_parses_or_is_refused(header in "\\PC{0,80}") {
            let _ = parse_challenge(&header);
        }
    }

    #[test]
    fn credentials_from_helm_and_docker_files() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("docker.json");
        std::fs::write(
            &docker,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}, "ghcr.io": {"auth": "ZG9ja2VyOng="}}}"#,
        )
        .unwrap();
        let helm = dir.path().join("helm.json");
        std::fs::write(
            &helm,
            r#"{"auths": {"ghcr.io": {"username": "helm", "password": "y"}}, "credsStore": "desktop"}"#,
        )
        .unwrap();
        let mut credentials = Credentials::default();
        credentials.read_file(&docker);
        credentials.read_file(&helm);
        credentials.read_file(&dir.path().join("missing.json"));
        let basic = |host: &str| {
            credentials
                .basic(host)
                .map(|s| s.expose_secret().to_string())
        };
        assert_eq!(basic("registry-1.docker.io").as_deref(), Some("Basic dTpw"));
        // base64("helm:y"): Helm's entry, read last, wins.
        assert_eq!(basic("GHCR.io").as_deref(), Some("Basic aGVsbTp5"));
        assert_eq!(basic("quay.io"), None);
        assert_eq!(
            format!("{credentials:?}"),
            r#"{"ghcr.io", "index.docker.io"}"#,
            "Debug shows hosts only"
        );
    }
}
