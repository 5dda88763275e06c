//! Secret objects from release.toml `[[secrets]]`, and the redaction pass.
//!
//! `render` never needs a key: each Secret shows `<redacted>` for every value plus a
//! `homelab.dev/secret-hash` annotation over the values' SOPS ciphertexts (read from the
//! encrypted file without decrypting), so a changed secret changes the render while no
//! hash of a plaintext (a guessing oracle for short passwords) is ever printed. Real data
//! is only put in when the caller supplies a [`SecretSource`] and asks for it (apply).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use homelab_secrets::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::release::model::SecretRef;

pub(crate) const REDACTED: &str = "<redacted>";
pub(crate) const SECRET_HASH_ANNOTATION: &str = "homelab.dev/secret-hash";

/// A plaintext secret value: zeroised on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct SecretValue(SecretString);

impl SecretValue {
    pub fn new(plaintext: impl Into<String>) -> Self {
        SecretValue(SecretString::from(plaintext.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

/// Where plaintexts come from: the SOPS library at apply time, an in-memory map in tests.
pub trait SecretSource: Sync {
    /// The plaintext at dotted `path` (`vaultwarden.admin_token`) in the SOPS `file`.
    fn get(&self, file: &Path, path: &str) -> Result<SecretValue, String>;
}

/// Why a Secret object could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Secret `{secret}` key `{key}`: {message}")]
pub(crate) struct SecretError {
    pub secret: String,
    pub key: String,
    pub message: String,
}

/// The ciphertext of dotted `path` in a SOPS file's text: the `ENC[…]` string.
pub(crate) fn ciphertext_at(file_text: &str, path: &str) -> Result<String, String> {
    let tree = super::yaml::parse_value(file_text)
        .map_err(|e| format!("the secrets file is not YAML or JSON: {e}"))?;
    let mut node = &tree;
    for part in path.split('.') {
        node = node
            .get(part)
            .ok_or_else(|| format!("`{path}` is not in the secrets file (no `{part}`)"))?;
    }
    match node.as_str() {
        Some(s) if s.starts_with("ENC[") => Ok(s.to_string()),
        Some(_) => Err(format!(
            "`{path}` is not encrypted in the secrets file; run `homelab secrets encrypt -i` on it"
        )),
        None => Err(format!(
            "`{path}` is not a single value in the secrets file"
        )),
    }
}

/// Builds the Secret object for `entry` in `namespace`. `file_text` is the environment's
/// SOPS file; `real` supplies plaintexts for apply.
pub(crate) fn build(
    entry: &SecretRef,
    namespace: &str,
    secrets_file: &Path,
    file_text: &str,
    real: Option<&dyn SecretSource>,
) -> Result<Value, SecretError> {
    let mut hasher = Sha256::new();
    let mut data = Map::new();
    for (key, path) in &entry.data {
        let error = |message: String| SecretError {
            secret: entry.name.clone(),
            key: key.clone(),
            message,
        };
        let ciphertext = ciphertext_at(file_text, path).map_err(error)?;
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(ciphertext.as_bytes());
        hasher.update([0]);
        let value = match real {
            Some(source) => {
                let plain = source.get(secrets_file, path).map_err(error)?;
                Value::String(base64::engine::general_purpose::STANDARD.encode(plain.expose()))
            }
            None => Value::String(REDACTED.into()),
        };
        data.insert(key.clone(), value);
    }
    let hash = format!("{:x}", hasher.finalize());
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": entry.name,
            "namespace": namespace,
            "annotations": { SECRET_HASH_ANNOTATION: format!("sha256:{hash}") },
        },
        "type": "Opaque",
        "data": data,
    }))
}

/// Replaces every occurrence of any known plaintext (and its base64 form) in text.
#[derive(Default)]
pub struct Redactor {
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} needles)", self.needles.len())
    }
}

/// Plaintexts shorter than this are not searched for: such values are user names
/// (`admin`, `velero`) that also name releases and objects, and scrubbing them would
/// mangle the output while protecting nothing.
pub const MIN_REDACTED_LEN: usize = 8;

impl Redactor {
    pub fn add(&mut self, plaintext: &str) {
        if plaintext.len() < MIN_REDACTED_LEN {
            return;
        }
        for needle in [
            plaintext.to_string(),
            base64::engine::general_purpose::STANDARD.encode(plaintext),
        ] {
            if !self.needles.contains(&needle) {
                self.needles.push(needle);
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), REDACTED);
            }
        }
        out
    }

    /// Redacts every string (keys included) inside `value`.
    pub fn redact_value(&self, value: &mut Value) {
        if self.needles.is_empty() {
            return;
        }
        match value {
            Value::String(s) => *s = self.redact(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.redact_value(&mut v);
                    map.insert(self.redact(&k), v);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_lookup() {
        let text = "app:\n    token: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\n    plain: hello\nsops:\n    version: 3.11.0\n";
        assert!(ciphertext_at(text, "app.token")
            .unwrap()
            .starts_with("ENC["));
        assert!(ciphertext_at(text, "app.plain")
            .unwrap_err()
            .contains("not encrypted"));
        assert!(ciphertext_at(text, "app.nope")
            .unwrap_err()
            .contains("no `nope`"));
    }

    #[test]
    fn redactor_replaces_plain_and_base64() {
        let mut r = Redactor::default();
        r.add("hunter22");
        let b64 = base64::engine::general_purpose::STANDARD.encode("hunter22");
        assert_eq!(
            r.redact(&format!("pw=hunter22 b={b64}")),
            "pw=<redacted> b=<redacted>"
        );
        assert_eq!(
            format!("{:?}", SecretValue::new("hunter22")),
            "SecretValue(<redacted>)"
        );
    }
}
