//! A SOPS document: the encrypted tree plus its metadata, and the two walks
//! that turn plaintext into ciphertext and back while computing the MAC
//! exactly as sops does (`sops.go`: `Tree.Encrypt`, `Tree.Decrypt`).
//!
//! # Guarantees
//! Decryption is all-or-nothing: the plaintext tree is returned only after
//! every value decrypted and the MAC matched.

use std::collections::HashMap;

use crate::crypto::cipher::{self, OpenError};
use crate::error::{Error, Result};
use crate::format::{json, yaml_read, yaml_write, Format};
use crate::metadata::{self, Metadata};
use crate::rules::Rules;
use crate::tree::{Branches, Item, Key, Value};
use sha2::{Digest, Sha512};

/// sops's `MACOnlyEncryptedInitialization`: hashed first when
/// `mac_only_encrypted` is set.
const MAC_ONLY_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// IVs of decrypted values, so re-encrypting an unchanged value yields the
/// same ciphertext. Keyed by a hash of (path, type, plaintext): no plaintext
/// is kept.
#[derive(Default)]
pub struct Stash(HashMap<[u8; 64], [u8; 32]>);

impl Stash {
    fn key(aad: &str, datatype: &str, plain: &[u8]) -> [u8; 64] {
        let mut h = Sha512::new();
        h.update(aad.as_bytes());
        h.update([0]);
        h.update(datatype.as_bytes());
        h.update([0]);
        h.update(plain);
        h.finalize().into()
    }
}

/// A parsed SOPS file (values still encrypted).
#[derive(Debug, Clone)]
pub struct EncryptedDocument {
    pub format: Format,
    pub branches: Branches,
    pub metadata: Metadata,
}

/// Reads a plaintext document.
pub fn read_plain(text: &str, format: Format) -> Result<Branches> {
    match format {
        Format::Yaml => yaml_read::read(text, true),
        Format::Json => Ok(vec![json::read(text)?]),
    }
}

/// Writes a plaintext document as sops does.
pub fn write_plain(branches: &[Vec<Item>], format: Format) -> Result<String> {
    match format {
        Format::Yaml => Ok(yaml_write::write(branches)),
        Format::Json => json::write(branches.first().map(Vec::as_slice).unwrap_or_default()),
    }
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

impl EncryptedDocument {
    /// Parses an encrypted file; fails with "not a SOPS file" without metadata.
    pub fn parse(text: &str, format: Format) -> Result<Self> {
        let raw = match format {
            Format::Yaml => yaml_read::read(text, false)?,
            Format::Json => vec![json::read(text)?],
        };
        let first = raw.first().ok_or(Error::NotSops)?;
        let metadata = Metadata::from_branch(first)?;
        let branches = raw.iter().map(|b| metadata::without_sops(b)).collect();
        Ok(EncryptedDocument {
            format,
            branches,
            metadata,
        })
    }

    /// Writes the file, the `sops` block appended to every document.
    pub fn emit(&self) -> Result<String> {
        let sops = Item::pair("sops", self.metadata.to_value(self.format));
        let branches: Branches = self
            .branches
            .iter()
            .map(|b| {
                let mut b = b.clone();
                b.push(sops.clone());
                b
            })
            .collect();
        write_plain(&branches, self.format)
    }

    /// Decrypts every value and checks the MAC.
    pub fn decrypt(&self, key: &[u8; 32]) -> Result<(Branches, Stash)> {
        let mut walk = Walk::new(key, &self.metadata.rules);
        let mut out = Vec::with_capacity(self.branches.len());
        for branch in &self.branches {
            out.push(walk.decrypt_items(branch, &mut Vec::new(), "")?);
        }
        let computed = walk.mac_hex();
        let stored = if self.metadata.mac.is_empty() {
            return Err(Error::MacMismatch);
        } else {
            match cipher::open(key, &self.metadata.mac, &self.metadata.mac_aad()) {
                Ok((Value::Str(s), _)) => s,
                _ => return Err(Error::MacUndecryptable),
            }
        };
        if stored != computed {
            return Err(Error::MacMismatch);
        }
        Ok((out, walk.stash))
    }

    /// Encrypts plaintext branches with `key`, reusing IVs from `stash`, and
    /// sets `lastmodified` and the MAC.
    pub fn encrypt(
        format: Format,
        plain: &[Vec<Item>],
        key: &[u8; 32],
        mut metadata: Metadata,
        stash: Option<&Stash>,
    ) -> Result<Self> {
        let mut walk = Walk::new(key, &metadata.rules);
        if let Some(s) = stash {
            walk.stash.0 = s.0.clone();
        }
        let mut branches = Vec::with_capacity(plain.len());
        for branch in plain {
            branches.push(walk.encrypt_items(branch, &mut Vec::new())?);
        }
        metadata.lastmodified = crate::format::timestamp::now_rfc3339();
        metadata.mac = cipher::seal(
            key,
            &cipher::random_iv(),
            "str",
            walk.mac_hex().as_bytes(),
            &metadata.mac_aad(),
        );
        Ok(EncryptedDocument {
            format,
            branches,
            metadata,
        })
    }
}

struct Walk<'a> {
    key: &'a [u8; 32],
    rules: &'a Rules,
    hash: Sha512,
    stash: Stash,
}

impl<'a> Walk<'a> {
    fn new(key: &'a [u8; 32], rules: &'a Rules) -> Self {
        let mut hash = Sha512::new();
        if rules.mac_only_encrypted {
            hash.update(MAC_ONLY_INIT);
        }
        Walk {
            key,
            rules,
            hash,
            stash: Stash::default(),
        }
    }

    fn mac_hex(&self) -> String {
        self.hash
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    fn hash_leaf(&mut self, encrypted: bool, value: &Value) {
        if !self.rules.mac_only_encrypted || encrypted {
            if let Some((_, bytes)) = cipher::plaintext(value) {
                if !matches!(value, Value::Comment(_)) {
                    self.hash.update(&bytes);
                }
            }
        }
    }

    fn seal(&mut self, value: &Value, path: &[String]) -> Value {
        let Some((datatype, bytes)) = cipher::plaintext(value) else {
            return value.clone();
        };
        if bytes.is_empty() && matches!(value, Value::Str(_) | Value::Bytes(_) | Value::Comment(_))
        {
            return Value::Str(String::new());
        }
        let aad = aad(path);
        let stash_key = Stash::key(&aad, datatype, &bytes);
        let iv = self
            .stash
            .0
            .get(&stash_key)
            .copied()
            .unwrap_or_else(cipher::random_iv);
        Value::Str(cipher::seal(self.key, &iv, datatype, &bytes, &aad))
    }

    fn encrypt_items(&mut self, items: &[Item], path: &mut Vec<String>) -> Result<Vec<Item>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.key {
                Key::Comment(c) => {
                    let text = if self.rules.should_encrypt(path) {
                        match self.seal(&Value::Comment(c.clone()), path) {
                            Value::Str(s) => s,
                            _ => c.clone(),
                        }
                    } else {
                        c.clone()
                    };
                    out.push(Item::comment(text));
                }
                Key::Str(k) => {
                    path.push(k.clone());
                    let value = self.encrypt_value(&item.value, path)?;
                    path.pop();
                    out.push(Item::pair(k.clone(), value));
                }
            }
        }
        Ok(out)
    }

    fn encrypt_value(&mut self, value: &Value, path: &mut Vec<String>) -> Result<Value> {
        Ok(match value {
            Value::Map(items) => Value::Map(self.encrypt_items(items, path)?),
            Value::Seq(values) => Value::Seq(
                values
                    .iter()
                    .map(|v| self.encrypt_value(v, path))
                    .collect::<Result<_>>()?,
            ),
            Value::Null => Value::Null,
            Value::Comment(_) => {
                if self.rules.should_encrypt(path) {
                    self.seal(value, path)
                } else {
                    value.clone()
                }
            }
            leaf => {
                let encrypted = self.rules.should_encrypt(path);
                self.hash_leaf(encrypted, leaf);
                if encrypted {
                    self.seal(leaf, path)
                } else {
                    leaf.clone()
                }
            }
        })
    }

    fn open(&mut self, text: &str, path: &[String], shown: &str) -> Result<Value> {
        let aad = aad(path);
        match cipher::open(self.key, text, &aad) {
            Ok((value, iv)) => {
                if let (Some((t, bytes)), Ok(iv)) =
                    (cipher::plaintext(&value), <[u8; 32]>::try_from(iv))
                {
                    self.stash.0.insert(Stash::key(&aad, t, &bytes), iv);
                }
                Ok(value)
            }
            Err(OpenError::Malformed(reason)) => Err(Error::BadCiphertext {
                path: shown.to_string(),
                reason,
            }),
            Err(OpenError::Auth) => Err(Error::ValueAuth {
                path: shown.to_string(),
            }),
            Err(OpenError::BadType(datatype)) => Err(Error::BadPlaintext {
                path: shown.to_string(),
                datatype,
            }),
        }
    }

    /// Decrypts a comment if the rules say it is encrypted; `None` when it
    /// is not (or does not decrypt).
    fn open_comment(&mut self, text: &str, path: &[String]) -> Option<Value> {
        if !self.rules.should_encrypt(path) || !cipher::looks_encrypted(text) {
            return None;
        }
        let aad = aad(path);
        let (value, iv) = cipher::open(self.key, text, &aad).ok()?;
        if let (Some((t, bytes)), Ok(iv)) = (cipher::plaintext(&value), <[u8; 32]>::try_from(iv)) {
            self.stash.0.insert(Stash::key(&aad, t, &bytes), iv);
        }
        Some(value)
    }

    fn decrypt_items(
        &mut self,
        items: &[Item],
        path: &mut Vec<String>,
        shown: &str,
    ) -> Result<Vec<Item>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.key {
                Key::Comment(c) => {
                    // Like sops, a comment that does not decrypt is kept as is.
                    let text = match self.open_comment(c, path) {
                        Some(Value::Comment(t) | Value::Str(t)) => t,
                        _ => c.clone(),
                    };
                    out.push(Item::comment(text));
                }
                Key::Str(k) => {
                    let child = if shown.is_empty() {
                        k.clone()
                    } else {
                        format!("{shown}.{k}")
                    };
                    path.push(k.clone());
                    let value = self.decrypt_value(&item.value, path, &child)?;
                    path.pop();
                    out.push(Item::pair(k.clone(), value));
                }
            }
        }
        Ok(out)
    }

    fn decrypt_value(
        &mut self,
        value: &Value,
        path: &mut Vec<String>,
        shown: &str,
    ) -> Result<Value> {
        Ok(match value {
            Value::Map(items) => Value::Map(self.decrypt_items(items, path, shown)?),
            Value::Seq(values) => Value::Seq(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.decrypt_value(v, path, &format!("{shown}[{i}]")))
                    .collect::<Result<_>>()?,
            ),
            Value::Null => Value::Null,
            Value::Comment(c) => match self.open_comment(c, path) {
                Some(Value::Comment(t)) => Value::Comment(t),
                _ => value.clone(),
            },
            leaf => {
                let encrypted = self.rules.should_encrypt(path);
                let plain = if encrypted {
                    match leaf {
                        Value::Str(s) if s.is_empty() => Value::Str(String::new()),
                        Value::Str(s) => self.open(s, path, shown)?,
                        _ => {
                            return Err(Error::BadCiphertext {
                                path: shown.to_string(),
                                reason: "it is a plaintext value where the file's rules require a ciphertext".into(),
                            })
                        }
                    }
                } else {
                    leaf.clone()
                };
                self.hash_leaf(encrypted, &plain);
                plain
            }
        })
    }
}
