//! The operations behind `homelab secrets …`, as typed requests. No CLI
//! types here; the binary maps its arguments onto these.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::config::{self, CreationRule};
use crate::document::{self, EncryptedDocument, Stash};
use crate::error::{Error, Result};
use crate::format::{json, yaml_write, Format};
use crate::keys::{self, KeySources};
use crate::metadata::{Metadata, SOPS_VERSION};
use crate::secret_tree::SecretTree;
use crate::tree::{Branches, Key, Value};
use crate::tree_path::{parse_extract, Step};

/// The file at `path` as text, the error naming it.
pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `text` to `path` with the workspace's atomic writer ([`crate::atomic`]),
/// keeping the old file's permissions.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    crate::atomic::write(path, text.as_bytes()).map_err(|source| Error::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// Where the creation rule for a new file comes from.
#[derive(Debug, Clone)]
pub enum RuleSource {
    /// Look for `.sops.yaml` from the file's directory upwards.
    Discover,
    /// Use this `.sops.yaml`.
    ConfigFile(PathBuf),
    /// Use this rule (e.g. recipients given on the command line).
    Rule(CreationRule),
}

impl RuleSource {
    fn resolve(&self, file: &Path) -> Result<CreationRule> {
        match self {
            RuleSource::Rule(r) => Ok(r.clone()),
            RuleSource::ConfigFile(c) => config::creation_rule(c, file),
            RuleSource::Discover => {
                let c = config::find_config(file).ok_or_else(|| {
                    Error::Config(format!(
                        "No .sops.yaml found above {} and no recipients given; pass --age RECIPIENT or add a .sops.yaml with creation_rules",
                        file.display()
                    ))
                })?;
                config::creation_rule(&c, file)
            }
        }
    }
}

/// Encrypt a plaintext file.
#[derive(Debug, Clone)]
pub struct EncryptRequest {
    pub path: PathBuf,
    pub rule: RuleSource,
}

fn new_data_key() -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(key.as_mut()).unwrap_or_default();
    key
}

fn metadata_for(rule: &CreationRule, key: &[u8; 32]) -> Result<Metadata> {
    let threshold = if rule.key_groups.len() > 1 && rule.shamir_threshold == 0 {
        rule.key_groups.len()
    } else {
        rule.shamir_threshold
    };
    Ok(Metadata {
        shamir_threshold: threshold,
        key_groups: keys::wrap_groups(key, &rule.key_groups, threshold)?,
        lastmodified: String::new(),
        mac: String::new(),
        rules: rule.rules.clone(),
        version: SOPS_VERSION.to_string(),
    })
}

/// Encrypts plaintext `text` (in `format`) under `rule`.
pub fn encrypt_text(text: &str, format: Format, rule: &CreationRule) -> Result<String> {
    let plain = document::read_plain(text, format)?;
    if plain.is_empty() {
        return Err(Error::Unsupported(
            "the file is empty; it must contain at least one document".into(),
        ));
    }
    if plain[0]
        .iter()
        .any(|i| matches!(&i.key, Key::Str(k) if k == "sops"))
    {
        return Err(Error::Unsupported(
            "the file already has a `sops` block; it is already encrypted".into(),
        ));
    }
    let key = new_data_key();
    let metadata = metadata_for(rule, &key)?;
    EncryptedDocument::encrypt(format, &plain, &key, metadata, None)?.emit()
}

/// Encrypts the file named by the request and returns the encrypted text.
pub fn encrypt(req: &EncryptRequest) -> Result<String> {
    let rule = req.rule.resolve(&req.path)?;
    encrypt_text(&read(&req.path)?, Format::from_path(&req.path), &rule)
}

/// Decrypts encrypted `text` with identities from `keys`.
pub fn decrypt_branches(
    text: &str,
    format: Format,
    keys: &KeySources,
) -> Result<(EncryptedDocument, Branches, Stash, Zeroizing<[u8; 32]>)> {
    let doc = EncryptedDocument::parse(text, format)?;
    let key = keys::recover(
        &doc.metadata.key_groups,
        doc.metadata.shamir_threshold,
        keys,
    )?;
    let (plain, stash) = doc.decrypt(&key)?;
    Ok((doc, plain, stash, key))
}

/// Decrypts a file into a [`SecretTree`] with identities from the
/// environment (as sops finds them).
pub fn decrypt_file(path: impl AsRef<Path>) -> Result<SecretTree> {
    decrypt_file_with(path.as_ref(), &KeySources::from_env())
}

/// [`decrypt_file`] with explicit key sources.
pub fn decrypt_file_with(path: &Path, keys: &KeySources) -> Result<SecretTree> {
    let text = read(path)?;
    let (_, plain, _, _) = decrypt_branches(&text, Format::from_path(path), keys)?;
    Ok(SecretTree::new(plain))
}

/// Decrypt a file to text.
#[derive(Debug, Clone)]
pub struct DecryptRequest {
    pub path: PathBuf,
    /// sops's `--extract` syntax: `["a"]["b"][0]`.
    pub extract: Option<String>,
    pub keys: KeySources,
}

fn extract(branch: &[crate::tree::Item], arg: &str, format: Format) -> Result<Zeroizing<String>> {
    let mut current = Value::Map(branch.to_vec());
    for step in parse_extract(arg)? {
        current = match (step, current) {
            (Step::Key(k), Value::Map(items)) => crate::tree::get(&items, &k)
                .cloned()
                .ok_or_else(|| Error::Extract(format!("--extract: key `{k}` not found")))?,
            (Step::Index(i), Value::Seq(values)) => values
                .into_iter()
                .nth(i)
                .ok_or_else(|| Error::Extract(format!("--extract: index {i} is out of bounds")))?,
            (Step::Index(i), _) => {
                return Err(Error::Extract(format!(
                    "--extract: [{i}] is an index, but that part of the tree is not a list"
                )))
            }
            (Step::Key(k), _) => {
                return Err(Error::Extract(format!(
                    "--extract: [\"{k}\"] is a key, but that part of the tree is not a mapping"
                )))
            }
        };
    }
    let mut current = Zeroizing::new(current);
    Ok(Zeroizing::new(match (&mut *current, format) {
        (Value::Map(items), _) => document::write_plain(&[std::mem::take(items)], format)?,
        (Value::Str(s), _) => std::mem::take(s),
        (v, Format::Yaml) => yaml_write::write_value(v),
        (v, Format::Json) => json::write_one(v)?,
    }))
}

/// Decrypts the file named by the request to text (the whole file, or the
/// `--extract`ed part).
pub fn decrypt(req: &DecryptRequest) -> Result<Zeroizing<String>> {
    let format = Format::from_path(&req.path);
    let (_, plain, _, _) = decrypt_branches(&read(&req.path)?, format, &req.keys)?;
    let plain = SecretTree::new(plain);
    match &req.extract {
        Some(arg) => extract(
            plain
                .documents()
                .first()
                .map(Vec::as_slice)
                .unwrap_or_default(),
            arg,
            format,
        ),
        None => Ok(Zeroizing::new(document::write_plain(
            plain.documents(),
            format,
        )?)),
    }
}

/// Re-encrypts edited plaintext for an already decrypted file: values that
/// did not change keep their ciphertext. `None` when nothing changed.
pub fn reencrypt(
    doc: &EncryptedDocument,
    original: &Branches,
    edited_text: &str,
    key: &[u8; 32],
    stash: &Stash,
) -> Result<Option<String>> {
    let edited = document::read_plain(edited_text, doc.format)?;
    if &edited == original {
        return Ok(None);
    }
    if edited.is_empty() {
        return Err(Error::Unsupported(
            "the edited file is empty; it must contain at least one document".into(),
        ));
    }
    let out =
        EncryptedDocument::encrypt(doc.format, &edited, key, doc.metadata.clone(), Some(stash))?;
    Ok(Some(out.emit()?))
}

/// Result of `updatekeys`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyUpdate {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// The new file text, or `None` when the recipients already match.
    pub text: Option<String>,
}

/// Re-wraps the data key to the recipients the creation rule names now.
pub fn updatekeys(path: &Path, rule: &RuleSource, keys: &KeySources) -> Result<KeyUpdate> {
    let rule = rule.resolve(path)?;
    let text = read(path)?;
    let format = Format::from_path(path);
    let doc = EncryptedDocument::parse(&text, format)?;
    let old: Vec<Vec<String>> = doc
        .metadata
        .key_groups
        .iter()
        .map(|g| g.iter().map(|k| k.recipient.clone()).collect())
        .collect();
    let flat = |g: &Vec<Vec<String>>| g.iter().flatten().cloned().collect::<Vec<_>>();
    let (old_flat, new_flat) = (flat(&old), flat(&rule.key_groups));
    let added: Vec<String> = new_flat
        .iter()
        .filter(|r| !old_flat.contains(r))
        .cloned()
        .collect();
    let removed: Vec<String> = old_flat
        .iter()
        .filter(|r| !new_flat.contains(r))
        .cloned()
        .collect();
    let threshold = if rule.key_groups.len() > 1 && rule.shamir_threshold == 0 {
        rule.key_groups.len()
    } else {
        rule.shamir_threshold
    };
    if old == rule.key_groups && threshold == doc.metadata.shamir_threshold {
        return Ok(KeyUpdate {
            added,
            removed,
            text: None,
        });
    }
    let key = keys::recover(
        &doc.metadata.key_groups,
        doc.metadata.shamir_threshold,
        keys,
    )?;
    doc.decrypt(&key)?;
    let mut updated = doc.clone();
    updated.metadata.shamir_threshold = threshold;
    updated.metadata.key_groups = keys::wrap_groups(&key, &rule.key_groups, threshold)?;
    Ok(KeyUpdate {
        added,
        removed,
        text: Some(updated.emit()?),
    })
}

/// Makes a new data key and re-encrypts every value; returns the new text.
pub fn rotate(path: &Path, keys: &KeySources) -> Result<String> {
    let (doc, plain, _, _) = decrypt_branches(&read(path)?, Format::from_path(path), keys)?;
    let plain = SecretTree::new(plain);
    let groups: Vec<Vec<String>> = doc
        .metadata
        .key_groups
        .iter()
        .map(|g| g.iter().map(|k| k.recipient.clone()).collect())
        .collect();
    let key = new_data_key();
    let mut metadata = doc.metadata.clone();
    metadata.key_groups = keys::wrap_groups(&key, &groups, metadata.shamir_threshold)?;
    EncryptedDocument::encrypt(doc.format, plain.documents(), &key, metadata, None)?.emit()
}

/// Writes a new age identity to `path` (mode 0600, never overwriting) and
/// returns its public key.
pub fn keygen(path: &Path) -> Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let (secret, public) = keys::generate_identity();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            action: "create the directory for",
            path: path.to_path_buf(),
            source,
        })?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Config(format!("{} already exists; refusing to overwrite an identity (choose another path with -o)", path.display()))
            } else {
                Error::Io { action: "create", path: path.to_path_buf(), source }
            }
        })?;
    file.write_all(secret.as_bytes())
        .map_err(|source| Error::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        })?;
    Ok(public)
}
