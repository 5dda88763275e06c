//! helm-secrets files are SOPS files. Their keys are plaintext, so the import learns
//! which chart values are secret without decrypting anything, and never copies the
//! ciphertext into a release. Known charts get a `[[secrets]]` Secret and their
//! existing-secret option; the values themselves must be moved into the environment's
//! SOPS file by a person holding the key.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::set_key::{self, Step};
use crate::release::model::SecretRef;

/// The dotted paths of every leaf of a SOPS file, without decrypting it.
pub(super) fn sops_key_paths(text: &str) -> Result<BTreeSet<String>, String> {
    let doc = super::helmfile::parse_yaml(text).map_err(|(_, m)| format!("is not YAML: {m}"))?;
    let Value::Object(mut map) = doc else {
        return Err("is not a SOPS file (not a map)".into());
    };
    if map.remove("sops").is_none_or(|m| !m.is_object()) {
        return Err(
            "is not a SOPS file (no `sops` metadata); encrypt it with `homelab secrets encrypt -i`"
                .into(),
        );
    }
    let mut out = BTreeSet::new();
    leaves(&Value::Object(map), String::new(), &mut out);
    Ok(out)
}

fn leaves(value: &Value, prefix: String, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(v, path, out);
            }
        }
        _ => {
            out.insert(prefix);
        }
    }
}

/// A chart whose secret values have an existing-secret option.
struct KnownChart {
    chart: &'static str,
    /// The option naming the Secret.
    secret_option: &'static str,
    /// (value path, Secret key, option naming the key or "" when the chart fixes the key).
    values: &'static [(&'static str, &'static str, &'static str)],
}

const KNOWN: &[KnownChart] = &[
    KnownChart {
        chart: "grafana",
        secret_option: "admin.existingSecret",
        values: &[
            ("adminUser", "admin-user", "admin.userKey"),
            ("adminPassword", "admin-password", "admin.passwordKey"),
        ],
    },
    KnownChart {
        chart: "minio",
        secret_option: "existingSecret",
        values: &[
            ("rootUser", "rootUser", ""),
            ("rootPassword", "rootPassword", ""),
        ],
    },
];

/// What the secret values of one release become.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SecretMapping {
    pub secret: Option<SecretRef>,
    /// The chart options that point at the Secret, as a values layer.
    pub values: Option<Value>,
    /// (value path, data path in the environment's SOPS file) to move by hand.
    pub moves: Vec<(String, String)>,
    /// Value paths no known option covers.
    pub unmapped: Vec<String>,
}

/// Maps the secret value paths of `release` (chart `chart`) onto our design.
pub(super) fn map_secrets(release: &str, chart: &str, paths: &BTreeSet<String>) -> SecretMapping {
    let mut mapping = SecretMapping::default();
    let known = KNOWN.iter().find(|k| k.chart == chart);
    let name = format!("{release}-secrets");
    let mut data = IndexMap::new();
    let mut options = Value::Object(Map::new());
    for path in paths {
        let Some((_, key, key_option)) = known.and_then(|k| k.values.iter().find(|v| v.0 == path))
        else {
            mapping.unmapped.push(path.clone());
            continue;
        };
        let data_path = format!("{release}.{path}");
        data.insert((*key).to_string(), data_path.clone());
        mapping.moves.push((path.clone(), data_path));
        if !key_option.is_empty() {
            set_path(&mut options, key_option, json!(key));
        }
    }
    if let (Some(known), false) = (known, data.is_empty()) {
        set_path(&mut options, known.secret_option, json!(name));
        mapping.secret = Some(SecretRef { name, data });
        mapping.values = Some(options);
    }
    mapping
}

/// Sets a chart option from the known-chart table (plain dotted keys) in a values map,
/// through the same setter as `set` entries.
fn set_path(values: &mut Value, option: &str, value: Value) {
    let steps: Vec<Step> = option
        .split('.')
        .map(|k| Step::Key(k.to_string()))
        .collect();
    set_key::set(values, &steps, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_without_decrypting() {
        let text = "adminPassword: ENC[AES256_GCM,data:x]\ndb:\n  pass: ENC[AES256_GCM,data:y]\nsops:\n  version: 3.11.0\n";
        let paths = sops_key_paths(text).unwrap();
        assert_eq!(
            paths,
            ["adminPassword".to_string(), "db.pass".to_string()].into()
        );
        assert!(sops_key_paths("a: 1\n")
            .unwrap_err()
            .contains("not a SOPS file"));
    }

    #[test]
    fn grafana_maps_to_its_existing_secret() {
        let paths = ["adminPassword".to_string(), "smtp.password".to_string()].into();
        let m = map_secrets("grafana", "grafana", &paths);
        assert_eq!(
            m.secret.unwrap().data["admin-password"],
            "grafana.adminPassword"
        );
        assert_eq!(
            m.values.unwrap(),
            json!({"admin": {"existingSecret": "grafana-secrets", "passwordKey": "admin-password"}})
        );
        assert_eq!(m.unmapped, vec!["smtp.password".to_string()]);
    }
}
