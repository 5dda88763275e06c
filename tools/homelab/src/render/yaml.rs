//! YAML in and out: parsing documents into JSON-shaped values (what Kubernetes objects
//! are) and printing them back deterministically.
//!
//! The YAML crate is `serde_norway`, the maintained continuation of `serde_yaml` (same
//! API, libyaml-based), for reading; [`super::emit`] writes. Mapping keys that are
//! not strings (`80: svc`) become their text, as `kubectl` would send them.

use serde_json::{Map, Number, Value};

/// Why a YAML text could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    /// 1-based line within the parsed text, when the parser knows it.
    pub line: Option<usize>,
}

/// Parses every document of `text`; empty documents are skipped.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value =
            <serde_norway::Value as serde::Deserialize>::deserialize(doc).map_err(yaml_error)?;
        let value = to_json(value)?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

/// Parses one document (a values file). An empty file is an empty map.
pub(crate) fn parse_value(text: &str) -> Result<Value, YamlError> {
    let mut docs = parse_documents(text)?;
    match docs.len() {
        0 => Ok(Value::Object(Map::new())),
        1 => Ok(docs.remove(0)),
        n => Err(YamlError {
            message: format!("expected one YAML document, found {n}"),
            line: None,
        }),
    }
}

pub use super::emit::to_yaml;

/// The parser's message without its own position: callers report the line relative to
/// what the user wrote.
fn yaml_error(err: serde_norway::Error) -> YamlError {
    let line = err.location().map(|l| l.line());
    let text = err.to_string();
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    YamlError { message, line }
}

fn to_json(value: serde_norway::Value) -> Result<Value, YamlError> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => number(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(key_text(k)?, to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => to_json(tagged.value)?,
    })
}

fn number(n: &serde_norway::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Value::Number(u.into())
    } else {
        // JSON has no NaN or infinity; keep their YAML spelling as text.
        n.as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()))
    }
}

fn key_text(key: serde_norway::Value) -> Result<String, YamlError> {
    use serde_norway::Value as Y;
    match key {
        Y::String(s) => Ok(s),
        Y::Bool(b) => Ok(b.to_string()),
        Y::Number(n) => Ok(n.to_string()),
        Y::Null => Ok("null".into()),
        Y::Tagged(t) => key_text(t.value),
        Y::Sequence(_) | Y::Mapping(_) => Err(YamlError {
            message: "a mapping key is itself a list or map, which Kubernetes cannot read".into(),
            line: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn non_string_keys_become_text() {
        let docs = parse_documents("data:\n  80: web\n  true: yes\n---\n---\nb: 1.5\n").unwrap();
        assert_eq!(
            docs,
            vec![
                serde_json::json!({"data": {"80": "web", "true": "yes"}}),
                serde_json::json!({"b": 1.5})
            ]
        );
    }

    #[test]
    fn errors_carry_a_line() {
        let err = parse_documents("a: 1\nb: [unclosed\n").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_documents(&text);
        }
    }
}
