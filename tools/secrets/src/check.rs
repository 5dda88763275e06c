//! `secrets check`: without any key, every file is a valid SOPS file and no
//! value is in plaintext unless the file's own rule allows it.

use std::path::{Path, PathBuf};

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

/// Checks one file's text.
pub fn check_text(text: &str, format: Format, shown: &str) -> Result<()> {
    let doc = EncryptedDocument::parse(text, format)?;
    cipher::parse(&doc.metadata.mac)
        .map_err(|_| Error::Metadata("`sops.mac` is not a valid SOPS ciphertext".into()))?;
    for branch in &doc.branches {
        items(branch, &mut Vec::new(), "", &doc.metadata.rules, shown)?;
    }
    Ok(())
}

fn items(
    list: &[Item],
    path: &mut Vec<String>,
    shown: &str,
    rules: &Rules,
    file: &str,
) -> Result<()> {
    for item in list {
        if let Key::Str(k) = &item.key {
            let child = if shown.is_empty() {
                k.clone()
            } else {
                format!("{shown}.{k}")
            };
            path.push(k.clone());
            value(&item.value, path, &child, rules, file)?;
            path.pop();
        }
    }
    Ok(())
}

fn value(v: &Value, path: &mut Vec<String>, shown: &str, rules: &Rules, file: &str) -> Result<()> {
    match v {
        Value::Map(m) => items(m, path, shown, rules, file),
        Value::Seq(values) => {
            for (i, v) in values.iter().enumerate() {
                value(v, path, &format!("{shown}[{i}]"), rules, file)?;
            }
            Ok(())
        }
        Value::Null | Value::Comment(_) => Ok(()),
        Value::Str(s) if s.is_empty() => Ok(()),
        leaf if rules.should_encrypt(path) => {
            match leaf {
                Value::Str(s) if cipher::looks_encrypted(s) => cipher::parse(s)
                    .map(|_| ())
                    .map_err(|e| Error::BadCiphertext {
                        path: shown.to_string(),
                        reason: match e {
                            cipher::OpenError::Malformed(m) => m,
                            other => format!("{other:?}"),
                        },
                    }),
                _ => Err(Error::Plaintext {
                    path: file.to_string(),
                    value_path: shown.to_string(),
                }),
            }
        }
        _ => Ok(()),
    }
}

/// Checks every file under `paths`.
pub fn check(paths: &[PathBuf]) -> Result<Vec<Finding>> {
    Ok(collect(paths)?
        .into_iter()
        .map(|path| {
            let problem = std::fs::read_to_string(&path)
                .map_err(|source| Error::Io {
                    action: "read",
                    path: path.clone(),
                    source,
                })
                .and_then(|text| {
                    check_text(&text, Format::from_path(&path), &path.display().to_string())
                })
                .err();
            Finding { path, problem }
        })
        .collect())
}
