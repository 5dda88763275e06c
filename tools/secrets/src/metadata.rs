//! The `sops:` block: reading it from a document and writing it back in
//! sops's field order (`stores/stores.go`), with the version and the
//! encryption rule in force always present.

use crate::error::{Error, Result};
use crate::format::{timestamp, Format};
use crate::keys::AgeKey;
use crate::rules::Rules;
use crate::tree::{get, Item, Key, Value};

/// The sops version this crate writes (the one it is tested against).
pub const SOPS_VERSION: &str = "3.11.0";

/// Everything in the `sops:` block that age-only files use.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    pub shamir_threshold: usize,
    pub key_groups: Vec<Vec<AgeKey>>,
    /// As written (RFC 3339); the MAC's AAD is its normalised form.
    pub lastmodified: String,
    pub mac: String,
    pub rules: Rules,
    pub version: String,
}

fn meta(msg: impl Into<String>) -> Error {
    Error::Metadata(msg.into())
}

fn string_field(items: &[Item], name: &str) -> Result<Option<String>> {
    match get(items, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(Value::Time(s)) => Ok(Some(s.clone())),
        Some(other) => Err(meta(format!(
            "`sops.{name}` must be a string, found {}",
            kind(other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Str(_) | Value::Time(_) | Value::Bytes(_) | Value::Comment(_) => "a string",
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
    }
}

fn age_keys(value: Option<&Value>, at: &str) -> Result<Vec<AgeKey>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Seq(entries) = value else {
        if matches!(value, Value::Null) {
            return Ok(Vec::new());
        }
        return Err(meta(format!("`{at}` must be a list of {{recipient, enc}}")));
    };
    entries
        .iter()
        .filter(|e| !matches!(e, Value::Comment(_)))
        .enumerate()
        .map(|(i, e)| {
            let Value::Map(items) = e else {
                return Err(meta(format!(
                    "`{at}[{i}]` must be a mapping with `recipient` and `enc`"
                )));
            };
            let field = |name| {
                string_field(items, name)?
                    .ok_or_else(|| meta(format!("`{at}[{i}].{name}` is missing")))
            };
            Ok(AgeKey {
                recipient: field("recipient")?,
                enc: field("enc")?,
            })
        })
        .collect()
}

impl Metadata {
    /// Reads the `sops` entry of a document's top level.
    pub fn from_branch(items: &[Item]) -> Result<Metadata> {
        let Some(Value::Map(m)) = get(items, "sops") else {
            return Err(if get(items, "sops").is_some() {
                meta("`sops` must be a mapping")
            } else {
                Error::NotSops
            });
        };
        let version = string_field(m, "version")?.ok_or_else(|| {
            meta("`sops.version` is missing; every SOPS file records the version that wrote it (e.g. `version: 3.11.0`)")
        })?;
        semver::Version::parse(&version).map_err(|e| {
            meta(format!(
                "`sops.version` is `{version}`, which is not a semantic version ({e})"
            ))
        })?;
        let lastmodified = string_field(m, "lastmodified")?
            .ok_or_else(|| meta("`sops.lastmodified` is missing"))?;
        if timestamp::parse_rfc3339(&lastmodified).is_none() {
            return Err(meta(format!(
                "`sops.lastmodified` is `{lastmodified}`, which is not an RFC 3339 time"
            )));
        }
        let mac = string_field(m, "mac")?.unwrap_or_default();
        let shamir_threshold = match get(m, "shamir_threshold") {
            None | Some(Value::Null) => 0,
            Some(Value::Int(i)) if *i >= 0 => *i as usize,
            Some(Value::Float(f)) if *f >= 0.0 && f.fract() == 0.0 => *f as usize,
            Some(_) => {
                return Err(meta(
                    "`sops.shamir_threshold` must be a non-negative integer",
                ))
            }
        };
        let mut key_groups = Vec::new();
        match get(m, "key_groups") {
            None | Some(Value::Null) => {}
            Some(Value::Seq(groups)) => {
                for (i, g) in groups
                    .iter()
                    .filter(|g| !matches!(g, Value::Comment(_)))
                    .enumerate()
                {
                    let Value::Map(gi) = g else {
                        return Err(meta(format!("`sops.key_groups[{i}]` must be a mapping")));
                    };
                    key_groups.push(age_keys(
                        get(gi, "age"),
                        &format!("sops.key_groups[{i}].age"),
                    )?);
                }
            }
            Some(_) => return Err(meta("`sops.key_groups` must be a list")),
        }
        if key_groups.is_empty() {
            let keys = age_keys(get(m, "age"), "sops.age")?;
            if !keys.is_empty() {
                key_groups.push(keys);
            }
        }
        if key_groups.iter().all(Vec::is_empty) {
            return Err(meta("the file lists no age recipients (`sops.age` or `sops.key_groups`); homelab only supports age keys"));
        }
        let mac_only = matches!(get(m, "mac_only_encrypted"), Some(Value::Bool(true)));
        let rules = Rules::from_fields(
            string_field(m, "unencrypted_suffix")?,
            string_field(m, "encrypted_suffix")?,
            string_field(m, "unencrypted_regex")?,
            string_field(m, "encrypted_regex")?,
            mac_only,
        )?;
        for unsupported in ["unencrypted_comment_regex", "encrypted_comment_regex"] {
            if string_field(m, unsupported)?.is_some_and(|s| !s.is_empty()) {
                return Err(meta(format!(
                    "`sops.{unsupported}` is not supported by homelab"
                )));
            }
        }
        Ok(Metadata {
            shamir_threshold,
            key_groups,
            lastmodified,
            mac,
            rules,
            version,
        })
    }

    /// The AAD the MAC is encrypted with: `lastmodified` as Go prints RFC 3339.
    pub fn mac_aad(&self) -> String {
        let nano = timestamp::parse_rfc3339(&self.lastmodified).unwrap_or_default();
        match (nano.find('.'), nano.rfind(['Z', '+', '-'])) {
            (Some(dot), Some(zone)) if zone > dot => format!("{}{}", &nano[..dot], &nano[zone..]),
            _ => nano,
        }
    }

    /// The `sops` block as a document value, in sops's field order.
    pub fn to_value(&self, format: Format) -> Value {
        let mut items = Vec::new();
        let keys = |keys: &[AgeKey]| {
            Value::Seq(
                keys.iter()
                    .map(|k| {
                        Value::Map(vec![
                            Item::pair("recipient", Value::Str(k.recipient.clone())),
                            Item::pair("enc", Value::Str(k.enc.clone())),
                        ])
                    })
                    .collect(),
            )
        };
        if self.shamir_threshold != 0 {
            let t = self.shamir_threshold as i64;
            items.push(Item::pair(
                "shamir_threshold",
                match format {
                    Format::Json => Value::Float(t as f64),
                    Format::Yaml => Value::Int(t),
                },
            ));
        }
        if self.key_groups.len() > 1 {
            let empty = match format {
                Format::Yaml => Value::Seq(Vec::new()),
                Format::Json => Value::Null,
            };
            let groups = self
                .key_groups
                .iter()
                .map(|g| {
                    Value::Map(vec![
                        Item::pair("hc_vault", empty.clone()),
                        Item::pair("age", keys(g)),
                    ])
                })
                .collect();
            items.push(Item::pair("key_groups", Value::Seq(groups)));
        } else if let Some(g) = self.key_groups.first() {
            items.push(Item::pair("age", keys(g)));
        }
        items.push(Item::pair(
            "lastmodified",
            Value::Str(self.lastmodified.clone()),
        ));
        items.push(Item::pair("mac", Value::Str(self.mac.clone())));
        self.rules.append_fields(&mut items);
        if self.rules.mac_only_encrypted {
            items.push(Item::pair("mac_only_encrypted", Value::Bool(true)));
        }
        items.push(Item::pair("version", Value::Str(self.version.clone())));
        Value::Map(items)
    }
}

/// Splits a document's top level into its data and its `sops` entry.
pub fn without_sops(items: &[Item]) -> Vec<Item> {
    items
        .iter()
        .filter(|i| !matches!(&i.key, Key::Str(k) if k == "sops"))
        .cloned()
        .collect()
}
