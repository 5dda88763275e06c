//! `secrets set` and `secrets unset`, as sops's `set` and `unset`: change one value
//! of an encrypted file in place, for scripts that rotate a token. Every other value
//! keeps its ciphertext, so the file's diff is that value and the MAC.
//!
//! The value is JSON (`'"s3cret"'`, `42`, `{"user": "a"}`), as sops takes it; maps
//! missing on the way are created, and a list index may be one past the end to
//! append.

use std::path::Path;

use zeroize::Zeroizing;

use crate::document;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::keys::KeySources;
use crate::ops;
use crate::tree::{Item, Key, SecretBranches, Value};
use crate::tree_path::{parse_extract, Step};

/// What `set` or `unset` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The file was rewritten.
    Saved,
    /// The value was already that (or, for `unset`, absent): the file is untouched.
    Unchanged,
}

/// Sets the value at `index` (`["a"]["b"]`) of the first document to the JSON
/// `value`.
pub fn set(path: &Path, index: &str, value: &str, keys: &KeySources) -> Result<Change> {
    let value = Zeroizing::new(parse_value(value)?);
    change(path, index, keys, |items, steps| {
        put(items, steps, (*value).clone(), index)
    })
}

/// Removes the key or list item at `index`; `Unchanged` when it is not there.
pub fn unset(path: &Path, index: &str, keys: &KeySources) -> Result<Change> {
    change(path, index, keys, |items, steps| Ok(remove(items, steps)))
}

/// Decrypts `path`, applies `edit` to its first document and re-encrypts what changed.
fn change(
    path: &Path,
    index: &str,
    keys: &KeySources,
    edit: impl FnOnce(&mut Vec<Item>, &[Step]) -> Result<bool>,
) -> Result<Change> {
    let steps = parse_extract(index)?;
    if steps.is_empty() {
        return Err(Error::Extract(format!(
            "`{index}` names no value; write a path such as '[\"db\"][\"password\"]'"
        )));
    }
    let format = Format::from_path(path);
    let text = ops::read(path)?;
    let (doc, plain, stash, key) = ops::decrypt_branches(&text, format, keys)?;
    let original = SecretBranches(plain);
    let mut edited = SecretBranches(original.0.clone());
    if edited.0.is_empty() {
        edited.0.push(Vec::new());
    }
    if !edit(&mut edited.0[0], &steps)? {
        return Ok(Change::Unchanged);
    }
    let edited_text = Zeroizing::new(document::write_plain(&edited.0, format)?);
    match ops::reencrypt(&doc, &original.0, &edited_text, &key, &stash)? {
        None => Ok(Change::Unchanged),
        Some(out) => {
            ops::write_atomic(path, &out)?;
            Ok(Change::Saved)
        }
    }
}

/// Puts `value` at `steps` under `items`; whether anything changed.
fn put(items: &mut Vec<Item>, steps: &[Step], value: Value, index: &str) -> Result<bool> {
    let (first, rest) = steps.split_first().expect("at least one step");
    let Step::Key(name) = first else {
        return Err(not_a(index, "list", "mapping"));
    };
    let slot = match items
        .iter_mut()
        .position(|i| matches!(&i.key, Key::Str(k) if k == name))
    {
        Some(at) => &mut items[at].value,
        None => {
            // A new key: whatever is put under it is a change.
            items.push(Item::pair(name.clone(), Value::Null));
            let slot = &mut items.last_mut().expect("just pushed").value;
            put_value(slot, rest, value, index)?;
            return Ok(true);
        }
    };
    put_value(slot, rest, value, index)
}

fn put_value(slot: &mut Value, steps: &[Step], value: Value, index: &str) -> Result<bool> {
    let Some((first, rest)) = steps.split_first() else {
        let changed = *slot != value;
        *slot = value;
        return Ok(changed);
    };
    // An empty (null) value on the way becomes what the next step needs.
    if matches!(slot, Value::Null) {
        *slot = match first {
            Step::Key(_) => Value::Map(Vec::new()),
            Step::Index(_) => Value::Seq(Vec::new()),
        };
    }
    match (first, slot) {
        (Step::Key(_), Value::Map(items)) => put(items, steps, value, index),
        (Step::Index(i), Value::Seq(values)) => match values.len().cmp(i) {
            std::cmp::Ordering::Greater => put_value(&mut values[*i], rest, value, index),
            std::cmp::Ordering::Equal => {
                let mut fresh = Value::Null;
                put_value(&mut fresh, rest, value, index)?;
                values.push(fresh);
                Ok(true)
            }
            std::cmp::Ordering::Less => Err(Error::Extract(format!(
                "`{index}`: index {i} is past the end of a list of {} (use {} to append)",
                values.len(),
                values.len()
            ))),
        },
        (Step::Key(_), _) => Err(not_a(index, "key", "mapping")),
        (Step::Index(_), _) => Err(not_a(index, "index", "list")),
    }
}

fn not_a(index: &str, step: &str, wanted: &str) -> Error {
    Error::Extract(format!(
        "`{index}`: a {step} step meets a value that is not a {wanted}"
    ))
}

/// Removes what `steps` names under `items`; whether it was there.
fn remove(items: &mut Vec<Item>, steps: &[Step]) -> bool {
    let Some((Step::Key(name), rest)) = steps.split_first() else {
        return false;
    };
    let Some(at) = items
        .iter()
        .position(|i| matches!(&i.key, Key::Str(k) if k == name))
    else {
        return false;
    };
    if rest.is_empty() {
        items.remove(at);
        return true;
    }
    remove_in(&mut items[at].value, rest)
}

fn remove_in(value: &mut Value, steps: &[Step]) -> bool {
    match (steps.first(), value) {
        (Some(Step::Key(_)), Value::Map(items)) => remove(items, steps),
        (Some(Step::Index(i)), Value::Seq(values)) if *i < values.len() => {
            if steps.len() == 1 {
                values.remove(*i);
                true
            } else {
                remove_in(&mut values[*i], &steps[1..])
            }
        }
        _ => false,
    }
}

/// The JSON `text` as a document value, read as sops reads JSON (numbers are
/// float64, as its `set` parses them).
fn parse_value(text: &str) -> Result<Value> {
    let wrapped = Zeroizing::new(format!("{{\"value\": {text}\n}}"));
    let mut items = crate::format::json::read(&wrapped).map_err(|e| {
        Error::Extract(format!(
            "The value must be JSON (a string is quoted: '\"text\"'): {e}"
        ))
    })?;
    match items.len() {
        1 => Ok(std::mem::replace(&mut items[0].value, Value::Null)),
        _ => Err(Error::Extract(
            "The value must be one JSON value (a string is quoted: '\"text\"')".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Vec<Item> {
        vec![
            Item::pair("hosts", Value::Seq(vec![Value::Str("a".into())])),
            Item::comment(" kept"),
            Item::pair("token", Value::Str("t".into())),
        ]
    }

    fn at(index: &str) -> Vec<Step> {
        parse_extract(index).unwrap()
    }

    #[test]
    fn lists_take_an_index_inside_or_one_past_the_end() {
        let mut items = doc();
        let b = Value::Str("b".into());
        assert!(put(&mut items, &at(r#"["hosts"][1]"#), b.clone(), "i").unwrap());
        assert!(put(&mut items, &at(r#"["hosts"][0]"#), b.clone(), "i").unwrap());
        assert_eq!(
            items[0].value,
            Value::Seq(vec![b.clone(), b.clone()]),
            "replaced, then appended"
        );
        let err = put(&mut items, &at(r#"["hosts"][5]"#), b, "i").unwrap_err();
        assert!(
            err.to_string()
                .contains("index 5 is past the end of a list of 2"),
            "{err}"
        );
    }

    #[test]
    fn unset_removes_keys_and_items_and_keeps_comments() {
        let mut items = doc();
        assert!(remove(&mut items, &at(r#"["hosts"][0]"#)));
        assert_eq!(items[0].value, Value::Seq(vec![]));
        assert!(remove(&mut items, &at(r#"["token"]"#)));
        assert!(!remove(&mut items, &at(r#"["token"]"#)), "already gone");
        assert!(!remove(&mut items, &at(r#"["hosts"][3]"#)));
        assert_eq!(items.len(), 2);
        assert_eq!(items[1], Item::comment(" kept"));
    }

    #[test]
    fn values_are_json() {
        assert_eq!(
            parse_value(r#""s3cret""#).unwrap(),
            Value::Str("s3cret".into())
        );
        assert_eq!(parse_value("true").unwrap(), Value::Bool(true));
        assert!(matches!(parse_value("[1, 2]"), Ok(Value::Seq(v)) if v.len() == 2));
        assert!(parse_value("s3cret").is_err());
        assert!(parse_value("1, 2").is_err());
    }
}
