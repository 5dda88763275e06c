//! The decrypted tree handed to render and apply: values are zeroised when
//! it is dropped and never shown by `Debug`.

use secrecy::SecretString;
use zeroize::Zeroize;

use crate::format::gofmt;
use crate::tree::{Branches, Item, Key, Value};

/// Decrypted documents. Look values up with [`SecretTree::get`].
pub struct SecretTree {
    branches: Branches,
}

impl SecretTree {
    pub(crate) fn new(branches: Branches) -> Self {
        SecretTree { branches }
    }

    /// The value at a dotted path in the first document, e.g.
    /// `vaultwarden.admin_token` or `users[0].password`, as a string
    /// (numbers and booleans as YAML writes them). `None` when the path is
    /// missing or names a map or list.
    pub fn get(&self, dotted: &str) -> Option<SecretString> {
        let value = self.lookup(dotted)?;
        let text = match value {
            Value::Str(s) | Value::Time(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => gofmt::yaml_float(*f),
            Value::Bool(b) => b.to_string(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Value::Null | Value::Comment(_) | Value::Map(_) | Value::Seq(_) => return None,
        };
        Some(SecretString::from(text))
    }

    /// The raw value at a dotted path (maps and lists included).
    pub fn lookup(&self, dotted: &str) -> Option<&Value> {
        let mut items: &[Item] = self.branches.first()?;
        let mut current: Option<&Value> = None;
        for segment in dotted.split('.') {
            let (name, indices) = match segment.find('[') {
                Some(i) => (&segment[..i], &segment[i..]),
                None => (segment, ""),
            };
            if !name.is_empty() {
                if let Some(Value::Map(m)) = current {
                    items = m;
                } else if current.is_some() {
                    return None;
                }
                current = Some(crate::tree::get(items, name)?);
            }
            for index in indices.split('[').filter(|s| !s.is_empty()) {
                let i: usize = index.strip_suffix(']')?.parse().ok()?;
                let Some(Value::Seq(values)) = current else {
                    return None;
                };
                current = values
                    .iter()
                    .filter(|v| !matches!(v, Value::Comment(_)))
                    .nth(i);
            }
        }
        current
    }

    /// Every document's top-level entries.
    pub fn documents(&self) -> &[Vec<Item>] {
        &self.branches
    }

    /// Dotted paths of every scalar leaf in the first document.
    pub fn paths(&self) -> Vec<String> {
        fn walk(prefix: &str, value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Map(items) => {
                    for item in items {
                        if let Key::Str(k) = &item.key {
                            let p = if prefix.is_empty() {
                                k.clone()
                            } else {
                                format!("{prefix}.{k}")
                            };
                            walk(&p, &item.value, out);
                        }
                    }
                }
                Value::Seq(values) => {
                    for (i, v) in values
                        .iter()
                        .filter(|v| !matches!(v, Value::Comment(_)))
                        .enumerate()
                    {
                        walk(&format!("{prefix}[{i}]"), v, out);
                    }
                }
                Value::Comment(_) | Value::Null => {}
                _ => out.push(prefix.to_string()),
            }
        }
        let mut out = Vec::new();
        for item in self.branches.first().map(Vec::as_slice).unwrap_or_default() {
            if let Key::Str(k) = &item.key {
                walk(k, &item.value, &mut out);
            }
        }
        out
    }
}

impl std::fmt::Debug for SecretTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretTree(<redacted>)")
    }
}

impl Drop for SecretTree {
    fn drop(&mut self) {
        for branch in &mut self.branches {
            branch.iter_mut().for_each(Zeroize::zeroize);
        }
    }
}
