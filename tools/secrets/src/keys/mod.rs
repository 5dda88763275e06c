//! Master keys: wrapping the data key to age recipients (X25519 and SSH),
//! unwrapping it with identities, Shamir key groups, and key generation.

mod sources;

pub use sources::{Attempt, Identities, KeySources};

use std::io::{Read, Write};
use std::str::FromStr;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use crate::crypto::shamir;
use crate::error::{Error, Result};

/// One recipient with the data key (or its share) wrapped to it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

/// The data key could not be recovered: which recipients the file has and
/// what was found where.
#[derive(Debug)]
pub struct NoKeyReport {
    pub groups: Vec<Vec<String>>,
    pub threshold: usize,
    pub attempts: Vec<Attempt>,
}

impl std::fmt::Display for NoKeyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Failed to get the data key: no identity matches a recipient of this file."
        )?;
        if self.groups.len() > 1 {
            writeln!(
                f,
                "The file has {} key groups; {} of them must be unlocked:",
                self.groups.len(),
                self.threshold
            )?;
        } else {
            writeln!(f, "The file's recipients:")?;
        }
        for (i, group) in self.groups.iter().enumerate() {
            for r in group {
                if self.groups.len() > 1 {
                    writeln!(f, "  group {}: {r}", i + 1)?;
                } else {
                    writeln!(f, "  {r}")?;
                }
            }
        }
        writeln!(f, "Places searched for age identities:")?;
        for a in &self.attempts {
            writeln!(f, "  {}: {}", a.location, a.outcome)?;
        }
        write!(
            f,
            "Set SOPS_AGE_KEY_FILE to a file holding one of these recipients' identities."
        )
    }
}

/// Parses an age recipient (`age1…` or `ssh-ed25519 …`/`ssh-rsa …`).
pub fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>> {
    let text = text.trim();
    if text.starts_with("age1") {
        age::x25519::Recipient::from_str(text)
            .map(|r| Box::new(r) as _)
            .map_err(|e| Error::Age(format!("Invalid age recipient `{text}`: {e}")))
    } else if text.starts_with("ssh-") {
        age::ssh::Recipient::from_str(text)
            .map(|r| Box::new(r) as _)
            .map_err(|e| Error::Age(format!("Invalid SSH recipient `{text}`: {e:?}")))
    } else {
        Err(Error::Age(format!(
            "Invalid recipient `{text}`: expected an age public key (`age1…`) or an SSH public key"
        )))
    }
}

/// Wraps `secret` to one recipient as an armored age file.
pub fn wrap(recipient: &str, secret: &[u8]) -> Result<AgeKey> {
    let r = parse_recipient(recipient)?;
    let fail = |e: &dyn std::fmt::Display| {
        Error::Age(format!(
            "Failed to encrypt the data key to {recipient}: {e}"
        ))
    };
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&*r as &dyn age::Recipient))
        .map_err(|e| fail(&e))?;
    let mut buf = Vec::new();
    let armored = ArmoredWriter::wrap_output(&mut buf, Format::AsciiArmor).map_err(|e| fail(&e))?;
    let mut w = encryptor.wrap_output(armored).map_err(|e| fail(&e))?;
    w.write_all(secret).map_err(|e| fail(&e))?;
    w.finish().and_then(|a| a.finish()).map_err(|e| fail(&e))?;
    Ok(AgeKey {
        recipient: recipient.trim().to_string(),
        enc: String::from_utf8_lossy(&buf).into_owned(),
    })
}

fn unwrap_one(key: &AgeKey, ids: &[Box<dyn age::Identity>]) -> Option<Zeroizing<Vec<u8>>> {
    let decryptor = age::Decryptor::new(ArmoredReader::new(key.enc.as_bytes())).ok()?;
    let mut reader = decryptor.decrypt(ids.iter().map(|i| i.as_ref())).ok()?;
    let mut out = Zeroizing::new(Vec::new());
    reader.read_to_end(&mut out).ok()?;
    Some(out)
}

/// Recovers the 32-byte data key from the key groups.
pub fn recover(
    groups: &[Vec<AgeKey>],
    threshold: usize,
    sources: &KeySources,
) -> Result<Zeroizing<[u8; 32]>> {
    let loaded = sources.load();
    let mut parts = Vec::new();
    for group in groups {
        if let Some(part) = group.iter().find_map(|k| unwrap_one(k, &loaded.identities)) {
            parts.push(part);
        }
    }
    let threshold = if groups.len() > 1 {
        threshold.max(1)
    } else {
        1
    };
    let no_key = || {
        Error::NoKey(Box::new(NoKeyReport {
            groups: groups
                .iter()
                .map(|g| g.iter().map(|k| k.recipient.clone()).collect())
                .collect(),
            threshold,
            attempts: loaded.attempts.clone(),
        }))
    };
    let key = if groups.len() > 1 {
        if parts.len() < threshold {
            return Err(no_key());
        }
        let plain: Vec<Vec<u8>> = parts.iter().map(|p| p.to_vec()).collect();
        Zeroizing::new(
            shamir::combine(&plain)
                .map_err(|e| Error::Metadata(format!("Cannot combine the Shamir shares: {e}")))?,
        )
    } else {
        parts.into_iter().next().ok_or_else(no_key)?
    };
    let key: [u8; 32] = key.as_slice().try_into().map_err(|_| {
        Error::Metadata(format!("The data key is {} bytes, expected 32", key.len()))
    })?;
    Ok(Zeroizing::new(key))
}

/// Wraps the data key to every recipient, splitting it first when there is
/// more than one group.
pub fn wrap_groups(
    data_key: &[u8; 32],
    groups: &[Vec<String>],
    threshold: usize,
) -> Result<Vec<Vec<AgeKey>>> {
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        return Err(Error::Config(
            "No age recipients: give at least one recipient in each key group".into(),
        ));
    }
    let parts: Vec<Zeroizing<Vec<u8>>> = if groups.len() == 1 {
        vec![Zeroizing::new(data_key.to_vec())]
    } else {
        shamir::split(data_key, groups.len(), threshold)
            .map_err(|e| {
                Error::Config(format!(
                    "Cannot split the data key into {} shares with threshold {threshold}: {e}",
                    groups.len()
                ))
            })?
            .into_iter()
            .map(Zeroizing::new)
            .collect()
    };
    groups
        .iter()
        .zip(parts.iter())
        .map(|(group, part)| group.iter().map(|r| wrap(r, part)).collect())
        .collect()
}

/// A new age identity, as `age-keygen` writes it, and its public key.
pub fn generate_identity() -> (Zeroizing<String>, String) {
    use secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = Zeroizing::new(format!(
        "# created: {}\n# public key: {}\n{}\n",
        crate::format::timestamp::now_rfc3339(),
        public,
        identity.to_string().expose_secret()
    ));
    (text, public)
}
