//! Which values are encrypted: sops's `shouldBeEncrypted`. A value is
//! judged by every key on its path (list indices are not part of it).

use regex::Regex;

use crate::error::{Error, Result};
use crate::tree::{Item, Value};

/// The one suffix/regex rule a file uses (sops allows at most one), plus
/// `mac_only_encrypted`.
#[derive(Debug, Clone)]
pub struct Rules {
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<Regex>,
    pub encrypted_regex: Option<Regex>,
    pub mac_only_encrypted: bool,
}

impl PartialEq for Rules {
    fn eq(&self, other: &Self) -> bool {
        self.unencrypted_suffix == other.unencrypted_suffix
            && self.encrypted_suffix == other.encrypted_suffix
            && self.unencrypted_regex.as_ref().map(Regex::as_str)
                == other.unencrypted_regex.as_ref().map(Regex::as_str)
            && self.encrypted_regex.as_ref().map(Regex::as_str)
                == other.encrypted_regex.as_ref().map(Regex::as_str)
            && self.mac_only_encrypted == other.mac_only_encrypted
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            unencrypted_suffix: Some("_unencrypted".into()),
            encrypted_suffix: None,
            unencrypted_regex: None,
            encrypted_regex: None,
            mac_only_encrypted: false,
        }
    }
}

fn compile(name: &str, re: Option<String>) -> Result<Option<Regex>> {
    re.filter(|r| !r.is_empty())
        .map(|r| {
            Regex::new(&r).map_err(|e| {
                Error::Config(format!("`{name}` is not a valid regular expression: {e}"))
            })
        })
        .transpose()
}

impl Rules {
    /// Builds the rule set; with none given, sops's default
    /// `unencrypted_suffix: _unencrypted` applies.
    pub fn from_fields(
        unencrypted_suffix: Option<String>,
        encrypted_suffix: Option<String>,
        unencrypted_regex: Option<String>,
        encrypted_regex: Option<String>,
        mac_only_encrypted: bool,
    ) -> Result<Rules> {
        let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
        let (us, es) = (nonempty(unencrypted_suffix), nonempty(encrypted_suffix));
        let (ur, er) = (
            compile("unencrypted_regex", unencrypted_regex)?,
            compile("encrypted_regex", encrypted_regex)?,
        );
        let count = [us.is_some(), es.is_some(), ur.is_some(), er.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if count > 1 {
            return Err(Error::Config(
                "Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex or unencrypted_regex; keep one".into(),
            ));
        }
        let mut rules = Rules {
            unencrypted_suffix: us,
            encrypted_suffix: es,
            unencrypted_regex: ur,
            encrypted_regex: er,
            mac_only_encrypted,
        };
        if count == 0 {
            rules.unencrypted_suffix = Some("_unencrypted".into());
        }
        Ok(rules)
    }

    /// sops's `shouldBeEncrypted` for a value at `path`.
    pub fn should_encrypt(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(s) = &self.unencrypted_suffix {
            if path.iter().any(|p| p.ends_with(s.as_str())) {
                encrypted = false;
            }
        }
        if let Some(s) = &self.encrypted_suffix {
            encrypted = path.iter().any(|p| p.ends_with(s.as_str()));
        }
        if let Some(r) = &self.unencrypted_regex {
            if path.iter().any(|p| r.is_match(p)) {
                encrypted = false;
            }
        }
        if let Some(r) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| r.is_match(p));
        }
        encrypted
    }

    /// Appends the rule's metadata field.
    pub fn append_fields(&self, items: &mut Vec<Item>) {
        let fields = [
            ("unencrypted_suffix", self.unencrypted_suffix.clone()),
            ("encrypted_suffix", self.encrypted_suffix.clone()),
            (
                "unencrypted_regex",
                self.unencrypted_regex
                    .as_ref()
                    .map(|r| r.as_str().to_string()),
            ),
            (
                "encrypted_regex",
                self.encrypted_regex
                    .as_ref()
                    .map(|r| r.as_str().to_string()),
            ),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                items.push(Item::pair(name, Value::Str(v)));
            }
        }
    }
}
