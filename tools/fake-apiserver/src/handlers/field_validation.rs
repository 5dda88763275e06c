//! `fieldValidation=Strict|Warn|Ignore` on create, update and patch (KEP
//! 2885): unknown fields (dropped either way) and duplicate fields of a JSON
//! body fail the request with BadRequest (Strict), come back as `Warning:
//! 299` headers (Warn, the default) or pass silently (Ignore). An apply of
//! a built-in kind always fails on an unknown field, as server-side apply's
//! typed conversion does.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{ApiResponse, Ctx};
use crate::apply::Schema;
use crate::objects::prune_unknown;
use crate::status::ApiError;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Warn,
    Ignore,
}

fn mode(ctx: &Ctx) -> Result<Mode, ApiError> {
    match ctx.req.query.get("fieldValidation") {
        None | Some("" | "Warn") => Ok(Mode::Warn),
        Some("Strict") => Ok(Mode::Strict),
        Some("Ignore") => Ok(Mode::Ignore),
        Some(other) => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {other}. Must be one of Strict, Warn or Ignore"
        ))),
    }
}

/// Drops unknown fields from `obj` and decides, by the request's mode,
/// whether they and the body's duplicate fields fail it; returns the
/// warnings to send otherwise.
pub(super) fn check(ctx: &Ctx, obj: &mut Value, schema: Schema) -> Result<Vec<String>, ApiError> {
    let mode = mode(ctx)?;
    let mut problems: Vec<String> = duplicates(&ctx.req.body)
        .into_iter()
        .map(|p| format!("duplicate field {p:?}"))
        .collect();
    problems.extend(
        prune_unknown(obj, schema, ctx.rt.builtin)
            .into_iter()
            .map(|p| format!("unknown field {p:?}")),
    );
    match mode {
        Mode::Strict if !problems.is_empty() => Err(ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
            problems.join(", "),
            kind = ctx.rt.kind,
            version = ctx.rt.version,
        ))),
        Mode::Ignore => Ok(Vec::new()),
        _ => Ok(problems),
    }
}

/// An apply configuration of a built-in kind may name no unknown field.
pub(super) fn check_apply(ctx: &Ctx, applied: &Value, schema: Schema) -> Result<(), ApiError> {
    mode(ctx)?;
    if !ctx.rt.builtin {
        return Ok(());
    }
    let unknown = prune_unknown(&mut applied.clone(), schema, true);
    if unknown.is_empty() {
        return Ok(());
    }
    let errors: Vec<String> = unknown
        .iter()
        .map(|p| format!(".{p}: field not declared in schema"))
        .collect();
    let ns = ctx.namespace();
    Err(ApiError::new(
        500,
        "",
        format!(
            "failed to create typed patch object ({ns}/{}; {}, Kind={}): {}",
            ctx.name(),
            ctx.rt.api_version(),
            ctx.rt.kind,
            errors.join("\n")
        ),
    ))
}

/// Adds one `Warning` header per message.
pub(super) fn warn(mut r: ApiResponse, warnings: Vec<String>) -> ApiResponse {
    for w in warnings {
        r.headers
            .push(("Warning".into(), format!("299 - {}", Value::String(w))));
    }
    r
}

/// The paths of keys a JSON body repeats (`metadata.name`); none for a
/// body that is not JSON.
fn duplicates(body: &[u8]) -> Vec<String> {
    let found = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let seed = Tracked {
        path: String::new(),
        found: &found,
    };
    if seed.deserialize(&mut de).is_err() {
        return Vec::new();
    }
    found.into_inner()
}

struct Tracked<'a> {
    path: String,
    found: &'a RefCell<Vec<String>>,
}

impl Tracked<'_> {
    fn child(&self, segment: &str) -> Self {
        let path = if self.path.is_empty() || segment.starts_with('[') {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        Tracked {
            path,
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Tracked<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tracked<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child(&format!("[{}]", out.len())))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let child = self.child(&k);
            let path = child.path.clone();
            let v = map.next_value_seed(child)?;
            if out.insert(k, v).is_some() {
                self.found.borrow_mut().push(path);
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_by_path() {
        let body = br#"{"metadata": {"name": "a", "name": "b"}, "spec": {"ports": [{"port": 1, "port": 2}]}}"#;
        assert_eq!(
            duplicates(body),
            vec!["metadata.name", "spec.ports[0].port"]
        );
        assert!(duplicates(b"not json").is_empty());
    }
}
