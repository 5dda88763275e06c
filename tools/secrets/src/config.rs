//! `.sops.yaml` creation rules: found by walking up from the target file;
//! the first rule whose `path_regex` matches the file's path (relative to
//! the config's directory) — or that has no `path_regex` — applies.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::error::{Error, Result};
use crate::format::yaml_read;
use crate::rules::Rules;
use crate::tree::{get, Value};

/// What a creation rule says about a new file.
#[derive(Debug, Clone, PartialEq)]
pub struct CreationRule {
    /// Recipients per key group (one group unless `key_groups` is used).
    pub key_groups: Vec<Vec<String>>,
    pub shamir_threshold: usize,
    pub rules: Rules,
}

impl CreationRule {
    /// One group of recipients with sops's default rules.
    pub fn recipients(recipients: Vec<String>) -> Self {
        CreationRule {
            key_groups: vec![recipients],
            shamir_threshold: 0,
            rules: Rules::default(),
        }
    }
}

/// Finds `.sops.yaml` (or `.sops.yml`) in the file's directory or above.
pub fn find_config(file: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(file).ok()?;
    let mut dir = abs.parent();
    while let Some(d) = dir {
        for name in [".sops.yaml", ".sops.yml"] {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
}

fn cfg_err(config: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("{}: {msg}", config.display()))
}

fn recipients(value: Option<&Value>, config: &Path, at: &str) -> Result<Vec<String>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Str(s)) => Ok(s
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect()),
        Some(Value::Seq(list)) => list
            .iter()
            .filter(|v| !matches!(v, Value::Comment(_)))
            .map(|v| match v {
                Value::Str(s) => Ok(s.trim().to_string()),
                _ => Err(cfg_err(
                    config,
                    format!("`{at}` entries must be strings (age public keys)"),
                )),
            })
            .collect(),
        Some(_) => Err(cfg_err(
            config,
            format!("`{at}` must be a list or a comma-separated string of age public keys"),
        )),
    }
}

/// Loads the creation rule for `file` from `config`.
pub fn creation_rule(config: &Path, file: &Path) -> Result<CreationRule> {
    let text = std::fs::read_to_string(config).map_err(|source| Error::Io {
        action: "read",
        path: config.to_path_buf(),
        source,
    })?;
    let docs = yaml_read::read(&text, false).map_err(|e| cfg_err(config, e))?;
    let top = docs.into_iter().next().unwrap_or_default();
    let Some(Value::Seq(rules)) = get(&top, "creation_rules") else {
        return Err(cfg_err(
            config,
            "no `creation_rules` list; add one with `path_regex` and `age`",
        ));
    };
    let dir = std::path::absolute(config)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let rel = abs
        .strip_prefix(&dir)
        .unwrap_or(&abs)
        .to_string_lossy()
        .into_owned();
    for (i, rule) in rules
        .iter()
        .filter(|r| !matches!(r, Value::Comment(_)))
        .enumerate()
    {
        let Value::Map(r) = rule else {
            return Err(cfg_err(
                config,
                format!("`creation_rules[{i}]` must be a mapping"),
            ));
        };
        let matched = match get(r, "path_regex") {
            None | Some(Value::Null) => true,
            Some(Value::Str(re)) if re.is_empty() => true,
            Some(Value::Str(re)) => Regex::new(re)
                .map_err(|e| {
                    cfg_err(
                        config,
                        format!("`creation_rules[{i}].path_regex` is invalid: {e}"),
                    )
                })?
                .is_match(&rel),
            Some(_) => {
                return Err(cfg_err(
                    config,
                    format!("`creation_rules[{i}].path_regex` must be a string"),
                ))
            }
        };
        if matched {
            return rule_from(r, config, i);
        }
    }
    Err(cfg_err(
        config,
        format!("no creation rule matches `{rel}`; add a rule whose `path_regex` matches it"),
    ))
}

fn rule_from(r: &[crate::tree::Item], config: &Path, i: usize) -> Result<CreationRule> {
    let text = |name: &str| -> Result<Option<String>> {
        match get(r, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(_) => Err(cfg_err(
                config,
                format!("`creation_rules[{i}].{name}` must be a string"),
            )),
        }
    };
    let mut key_groups = Vec::new();
    if let Some(Value::Seq(groups)) = get(r, "key_groups") {
        for (g, group) in groups
            .iter()
            .filter(|v| !matches!(v, Value::Comment(_)))
            .enumerate()
        {
            let Value::Map(gi) = group else {
                return Err(cfg_err(
                    config,
                    format!("`creation_rules[{i}].key_groups[{g}]` must be a mapping"),
                ));
            };
            key_groups.push(recipients(
                get(gi, "age"),
                config,
                &format!("creation_rules[{i}].key_groups[{g}].age"),
            )?);
        }
    } else {
        let list = recipients(get(r, "age"), config, &format!("creation_rules[{i}].age"))?;
        if !list.is_empty() {
            key_groups.push(list);
        }
    }
    if key_groups.is_empty() || key_groups.iter().any(Vec::is_empty) {
        return Err(cfg_err(
            config,
            format!(
                "`creation_rules[{i}]` names no age recipients; add `age: age1…` or `key_groups`"
            ),
        ));
    }
    let shamir_threshold = match get(r, "shamir_threshold") {
        None | Some(Value::Null) => 0,
        Some(Value::Int(n)) if *n >= 0 => *n as usize,
        Some(_) => {
            return Err(cfg_err(
                config,
                format!("`creation_rules[{i}].shamir_threshold` must be a non-negative integer"),
            ))
        }
    };
    let mac_only = matches!(get(r, "mac_only_encrypted"), Some(Value::Bool(true)));
    let rules = Rules::from_fields(
        text("unencrypted_suffix")?,
        text("encrypted_suffix")?,
        text("unencrypted_regex")?,
        text("encrypted_regex")?,
        mac_only,
    )
    .map_err(|e| cfg_err(config, format!("creation_rules[{i}]: {e}")))?;
    Ok(CreationRule {
        key_groups,
        shamir_threshold,
        rules,
    })
}
