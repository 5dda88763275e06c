//! Helm's own record of what it installed: the release Secrets
//! `sh.helm.release.v1.<name>.v<N>` (labels `owner=helm`, `name`, `version`), whose
//! `release` value is base64 of gzip of the release as JSON, with the rendered
//! `manifest` inside. Read with one LIST per run, so adoption costs nothing when no
//! Helm release exists.
//!
//! Cluster responses are untrusted: a Secret that does not decode is skipped with its
//! reason, decompression is bounded, and nothing from it reaches a program.

use std::collections::BTreeMap;
use std::io::Read as _;

use base64::Engine as _;
use serde_json::Value;

use super::client::{ApiClient, RequestError};

/// A decompressed release larger than this is not read (a gzip bomb, not a release).
const MAX_RELEASE_BYTES: u64 = 64 * 1024 * 1024;

/// One Helm release, as its newest release Secret records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmRelease {
    pub namespace: String,
    pub name: String,
    /// The newest revision (`N` of `.v<N>`).
    pub revision: u64,
    /// Every revision's Secret name, oldest first (what `--forget-helm-release` deletes).
    pub secrets: Vec<String>,
    /// The newest revision's objects.
    pub objects: Vec<HelmObject>,
}

impl HelmRelease {
    /// `namespace/name` as `helm list -A` shows it.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// An object of a release's manifest; `namespace` as written there (Helm fills in the
/// release namespace for namespaced objects without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// Every Helm release in the cluster; releases whose newest Secret cannot be read are
/// returned as warnings instead.
///
/// # Errors
/// When the Secrets cannot be listed.
pub(crate) async fn helm_releases(
    client: &ApiClient,
) -> Result<(Vec<HelmRelease>, Vec<String>), RequestError> {
    let secrets = client
        .list("/api/v1/secrets", Some("owner=helm"), None)
        .await?;
    let mut by_release: BTreeMap<(String, String), Vec<(u64, &Value)>> = BTreeMap::new();
    for secret in &secrets {
        let name = secret
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let namespace = secret
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some((release, revision)) = parse_secret_name(name) {
            by_release
                .entry((namespace.to_string(), release.to_string()))
                .or_default()
                .push((revision, secret));
        }
    }
    let mut releases = Vec::new();
    let mut warnings = Vec::new();
    for ((namespace, name), mut revisions) in by_release {
        revisions.sort_by_key(|(n, _)| *n);
        let Some(&(revision, newest)) = revisions.last() else {
            continue;
        };
        let secret_names = revisions
            .iter()
            .filter_map(|(_, s)| s.pointer("/metadata/name").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        match decode_release(newest).and_then(|r| manifest_objects(&r)) {
            Ok(objects) => releases.push(HelmRelease {
                namespace,
                name,
                revision,
                secrets: secret_names,
                objects,
            }),
            Err(why) => warnings.push(format!(
                "Helm release {namespace}/{name} (revision {revision}) cannot be read: {why}"
            )),
        }
    }
    Ok((releases, warnings))
}

/// `sh.helm.release.v1.<name>.v<N>` → (`name`, N).
pub(crate) fn parse_secret_name(secret: &str) -> Option<(&str, u64)> {
    let rest = secret.strip_prefix("sh.helm.release.v1.")?;
    let (name, revision) = rest.rsplit_once(".v")?;
    let revision = revision.parse().ok()?;
    (!name.is_empty()).then_some((name, revision))
}

/// The release JSON of a release Secret: `data.release` is base64 (the API's encoding
/// of Secret data) of base64 (Helm's) of gzip (or, from old Helm, plain) JSON.
fn decode_release(secret: &Value) -> Result<Value, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let outer = secret
        .pointer("/data/release")
        .and_then(Value::as_str)
        .ok_or("it has no `release` value")?;
    let helm_text = b64
        .decode(outer)
        .map_err(|e| format!("`release` is not base64: {e}"))?;
    let packed = b64
        .decode(helm_text.trim_ascii())
        .map_err(|e| format!("the release is not Helm's base64: {e}"))?;
    let json = if packed.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .take(MAX_RELEASE_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the release does not decompress: {e}"))?;
        if out.len() as u64 > MAX_RELEASE_BYTES {
            return Err(format!(
                "the release is larger than {MAX_RELEASE_BYTES} bytes"
            ));
        }
        out
    } else {
        packed
    };
    serde_json::from_slice(&json).map_err(|e| format!("the release is not JSON: {e}"))
}

/// The objects of a release's `manifest` (YAML documents).
fn manifest_objects(release: &Value) -> Result<Vec<HelmObject>, String> {
    let manifest = release
        .get("manifest")
        .and_then(Value::as_str)
        .unwrap_or("");
    let documents = crate::render::yaml::parse_documents(manifest)
        .map_err(|e| format!("its manifest is not YAML: {e}"))?;
    Ok(documents
        .iter()
        .filter_map(|d| {
            let text = |p: &str| d.pointer(p).and_then(Value::as_str).map(str::to_string);
            Some(HelmObject {
                api_version: text("/apiVersion")?,
                kind: text("/kind")?,
                namespace: text("/metadata/namespace"),
                name: text("/metadata/name")?,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use serde_json::json;

    use super::*;

    /// A release Secret as Helm 3 writes it.
    pub(crate) fn release_secret(name: &str, revision: u64, manifest: &str) -> Value {
        let b64 = base64::engine::general_purpose::STANDARD;
        let release = json!({"name": name, "version": revision, "manifest": manifest});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(release.to_string().as_bytes()).unwrap();
        let helm = b64.encode(gz.finish().unwrap());
        json!({"metadata": {"name": format!("sh.helm.release.v1.{name}.v{revision}")},
            "data": {"release": b64.encode(helm)}})
    }

    #[test]
    fn secret_names_give_release_and_revision() {
        assert_eq!(
            parse_secret_name("sh.helm.release.v1.my.app.v12"),
            Some(("my.app", 12))
        );
        assert_eq!(parse_secret_name("sh.helm.release.v1.x.vx"), None);
        assert_eq!(parse_secret_name("other"), None);
    }

    #[test]
    fn a_release_decodes_to_its_manifest_objects() {
        let manifest = "---\n# Source: web/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: other\n";
        let secret = release_secret("web", 3, manifest);
        let objects = decode_release(&secret)
            .and_then(|r| manifest_objects(&r))
            .unwrap();
        assert_eq!(
            objects,
            vec![
                HelmObject {
                    api_version: "v1".into(),
                    kind: "ConfigMap".into(),
                    namespace: None,
                    name: "web".into()
                },
                HelmObject {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: Some("other".into()),
                    name: "web".into()
                }
            ]
        );
    }

    #[test]
    fn undecodable_releases_say_why() {
        let not_b64 = json!({"data": {"release": "%%%"}});
        assert!(decode_release(&not_b64).unwrap_err().contains("not base64"));
        let missing = json!({"data": {}});
        assert!(decode_release(&missing)
            .unwrap_err()
            .contains("no `release`"));
    }
}
