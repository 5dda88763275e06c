//! `secrets check`: without any key, every file is a valid SOPS file and no
//! value is in plaintext unless a rule allows it — both the file's own rule
//! and the `.sops.yaml` creation rule that matches it now.

use std::path::{Path, PathBuf};

use crate::config;
use crate::crypto::cipher;
use crate::document::EncryptedDocument;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::rules::Rules;
use crate::tree::{Item, Key, Value};

/// One file's verdict.
#[derive(Debug)]
pub struct Finding {
    pub path: PathBuf,
    pub problem: Option<Error>,
}

/// Files under `paths` (directories are walked for `.yaml`, `.yml`, `.json`).
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
            action: "list",
            path: dir.to_path_buf(),
            source,
        })?;
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The rules a file is judged by: its own, and the creation rule's.
struct Judges<'a> {
    own: &'a Rules,
    creation: Option<(&'a Rules, String)>,
}

impl Judges<'_> {
    /// Who requires the value at `path` to be encrypted, if anyone.
    fn required_by(&self, path: &[String]) -> Option<String> {
        if self.own.should_encrypt(path) {
            return Some("the file's rules require it".into());
        }
        self.creation
            .as_ref()
            .filter(|(rules, _)| rules.should_encrypt(path))
            .map(|(_, by)| by.clone())
    }
}

/// Checks one file's text against its own rules and, when given, a
/// creation rule (with the config file it came from).
pub fn check_text(text: &str, format: Format, creation: Option<(&Rules, &Path)>) -> Result<()> {
    let doc = EncryptedDocument::parse(text, format)?;
    cipher::parse(&doc.metadata.mac)
        .map_err(|_| Error::Metadata("`sops.mac` is not a valid SOPS ciphertext".into()))?;
    let judges = Judges {
        own: &doc.metadata.rules,
        creation: creation.map(|(r, c)| {
            (
                r,
                format!("the creation rule in {} requires it", c.display()),
            )
        }),
    };
    for branch in &doc.branches {
        items(branch, &mut Vec::new(), "", &judges)?;
    }
    Ok(())
}

fn items(list: &[Item], path: &mut Vec<String>, shown: &str, judges: &Judges) -> Result<()> {
    for item in list {
        if let Key::Str(k) = &item.key {
            let child = if shown.is_empty() {
                k.clone()
            } else {
                format!("{shown}.{k}")
            };
            path.push(k.clone());
            value(&item.value, path, &child, judges)?;
            path.pop();
        }
    }
    Ok(())
}

fn value(v: &Value, path: &mut Vec<String>, shown: &str, judges: &Judges) -> Result<()> {
    match v {
        Value::Map(m) => items(m, path, shown, judges),
        Value::Seq(values) => {
            for (i, v) in values.iter().enumerate() {
                value(v, path, &format!("{shown}[{i}]"), judges)?;
            }
            Ok(())
        }
        Value::Null | Value::Comment(_) => Ok(()),
        Value::Str(s) if s.is_empty() => Ok(()),
        leaf => match (judges.required_by(path), leaf) {
            (None, _) => Ok(()),
            (Some(_), Value::Str(s)) if cipher::looks_encrypted(s) => cipher::parse(s)
                .map(|_| ())
                .map_err(|e| Error::BadCiphertext {
                    path: shown.to_string(),
                    reason: match e {
                        cipher::OpenError::Malformed(m) => m,
                        other => format!("{other:?}"),
                    },
                }),
            (Some(by), _) => Err(Error::Plaintext {
                value_path: shown.to_string(),
                by,
            }),
        },
    }
}

/// The creation rule that matches `path` now, with its config file.
fn creation_rule(path: &Path) -> Result<Option<(Rules, PathBuf)>> {
    let Some(config_path) = config::find_config(path) else {
        return Ok(None);
    };
    match config::creation_rule(&config_path, path) {
        Ok(rule) => Ok(Some((rule.rules, config_path))),
        Err(Error::Config(m)) if m.contains("no creation rule matches") => Ok(None),
        Err(e) => Err(e),
    }
}

fn check_file(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let rule = creation_rule(path)?;
    let creation = rule.as_ref().map(|(r, c)| (r, c.as_path()));
    check_text(&text, Format::from_path(path), creation)
}

/// Checks every file under `paths`.
pub fn check(paths: &[PathBuf]) -> Result<Vec<Finding>> {
    Ok(collect(paths)?
        .into_iter()
        .map(|path| {
            let problem = check_file(&path).err();
            Finding { path, problem }
        })
        .collect())
}
