//! The in-memory document model, shaped like sops's `TreeBranch`: maps keep
//! their order and comments are items of their own, so that the MAC (which
//! covers keys, values and their order) and the comment AAD come out exactly
//! as sops computes them.

use zeroize::Zeroize;

/// One value of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null` (or an empty YAML value). Never encrypted, never in the MAC.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A timestamp, kept in Go's RFC 3339 "nano" form, as sops writes it.
    Time(String),
    /// Raw bytes (only produced by decrypting a `type:bytes` value).
    Bytes(Vec<u8>),
    /// A comment inside a sequence (text after the `#`).
    Comment(String),
    Map(Vec<Item>),
    Seq(Vec<Value>),
}

/// A key of a map: a string, or a comment line that sits between entries.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    Str(String),
    Comment(String),
}

/// One entry of a map. Comment entries carry [`Value::Null`].
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub key: Key,
    pub value: Value,
}

impl Item {
    /// A `key: value` entry.
    pub fn pair(key: impl Into<String>, value: Value) -> Self {
        Item {
            key: Key::Str(key.into()),
            value,
        }
    }

    /// A comment line.
    pub fn comment(text: impl Into<String>) -> Self {
        Item {
            key: Key::Comment(text.into()),
            value: Value::Null,
        }
    }
}

/// A whole file: one branch per YAML document (JSON has exactly one).
pub type Branches = Vec<Vec<Item>>;

impl Value {
    /// The entry `key` of a map, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(items) => get(items, key),
            _ => None,
        }
    }
}

/// The entry `key` of a map's items.
pub fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a Value> {
    items.iter().find_map(|i| match &i.key {
        Key::Str(k) if k == key => Some(&i.value),
        _ => None,
    })
}

impl Zeroize for Value {
    fn zeroize(&mut self) {
        match self {
            Value::Str(s) | Value::Time(s) | Value::Comment(s) => s.zeroize(),
            Value::Bytes(b) => b.zeroize(),
            Value::Int(i) => i.zeroize(),
            Value::Float(f) => f.zeroize(),
            Value::Bool(b) => b.zeroize(),
            Value::Map(items) => items.iter_mut().for_each(Zeroize::zeroize),
            Value::Seq(values) => values.iter_mut().for_each(Zeroize::zeroize),
            Value::Null => {}
        }
    }
}

impl Zeroize for Item {
    fn zeroize(&mut self) {
        match &mut self.key {
            Key::Str(s) | Key::Comment(s) => s.zeroize(),
        }
        self.value.zeroize();
    }
}

/// Plaintext branches that are zeroised on drop.
pub struct SecretBranches(pub Branches);

impl Drop for SecretBranches {
    fn drop(&mut self) {
        for b in &mut self.0 {
            b.iter_mut().for_each(zeroize::Zeroize::zeroize);
        }
    }
}
