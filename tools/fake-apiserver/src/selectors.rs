//! Label selectors (`a=b,c!=d,e in (f,g),h notin (i),j,!k`) and field
//! selectors (`metadata.name=x,metadata.namespace!=y`) for LIST and
//! DELETE-collection.

use std::collections::BTreeSet;

use serde_json::Value;

/// A selector that failed to parse; becomes a 400 for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unable to parse selector {selector:?}: {reason}")]
pub struct SelectorError {
    pub selector: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let err = |reason: String| SelectorError {
            selector: s.to_owned(),
            reason,
        };
        let mut reqs = Vec::new();
        for part in split_top_level(s).map_err(err)? {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part).map_err(err)?);
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether an object's `metadata.labels` match.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.contains(x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ')'".into());
                }
            }
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '('".into());
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(valid_key(key.trim())?));
    }
    let end = part
        .find(|c: char| c == '!' || c == '=' || c.is_whitespace() || c == '(')
        .unwrap_or(part.len());
    let key = valid_key(part[..end].trim())?;
    let rest = part[end..].trim_start();
    if rest.is_empty() {
        return Ok(Requirement::Exists(key));
    }
    if let Some(v) = rest.strip_prefix("!=") {
        return Ok(Requirement::NotEq(key, valid_value(v.trim())?));
    }
    if let Some(v) = rest.strip_prefix("==").or_else(|| rest.strip_prefix('=')) {
        return Ok(Requirement::Eq(key, valid_value(v.trim())?));
    }
    if let Some(list) = rest.strip_prefix("notin") {
        return Ok(Requirement::NotIn(key, parse_set(list)?));
    }
    if let Some(list) = rest.strip_prefix("in") {
        return Ok(Requirement::In(key, parse_set(list)?));
    }
    Err(format!(
        "expected one of =, ==, !=, in, notin after {key:?}, found {rest:?}"
    ))
}

fn parse_set(s: &str) -> Result<BTreeSet<String>, String> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesized value list, found {:?}", s.trim()))?;
    inner.split(',').map(|v| valid_value(v.trim())).collect()
}

fn valid_key(k: &str) -> Result<String, String> {
    let ok = !k.is_empty()
        && k.len() <= 316
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(k.to_owned())
    } else {
        Err(format!("invalid label key {k:?}"))
    }
}

fn valid_value(v: &str) -> Result<String, String> {
    let ok = v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(format!("invalid label value {v:?}"))
    }
}

/// A parsed field selector: equality/inequality on dotted paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    reqs: Vec<(String, bool, String)>,
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, negate, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, false, v)
            } else {
                return Err(SelectorError {
                    selector: s.to_owned(),
                    reason: format!("{part:?} is not of the form field=value or field!=value"),
                });
            };
            reqs.push((field.trim().to_owned(), negate, value.trim().to_owned()));
        }
        Ok(FieldSelector { reqs })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(field, negate, value)| {
            let actual = field
                .split('.')
                .try_fold(obj, |v, f| v.get(f))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            (actual == *value) != *negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let _ = LabelSelector::parse(&s).map(|l| l.matches(&json!({})));
            let _ = FieldSelector::parse(&s).map(|f| f.matches(&json!({})));
        }

        #[test]
        fn equality_selects_exactly_the_value(key in "[a-z]{1,8}", value in "[a-z0-9]{1,8}", other in "[a-z0-9]{1,8}") {
            let sel = LabelSelector::parse(&format!("{key}={value}")).unwrap();
            let has = obj(json!({key.clone(): value.clone()}));
            let differs = obj(json!({key.clone(): other.clone()}));
            prop_assert!(sel.matches(&has));
            prop_assert_eq!(sel.matches(&differs), other == value);
            let not = LabelSelector::parse(&format!("{key}!={value}")).unwrap();
            prop_assert!(!not.matches(&has));
        }
    }

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "namespace": "d", "labels": labels}})
    }

    #[test]
    fn all_operators() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        for (sel, want) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("missing!=x", true),
            ("app in (web, db)", true),
            ("app notin (web,db)", false),
            ("tier,app", true),
            ("!tier", false),
            ("!nothing,app=web", true),
            ("app in (db),tier=front", false),
            ("", true),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&o),
                want,
                "{sel}"
            );
        }
    }

    #[test]
    fn malformed_selectors_are_errors() {
        for sel in ["app in web", "app in (web", "a b", "app=we b"] {
            assert!(LabelSelector::parse(sel).is_err(), "{sel}");
        }
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=x").unwrap().matches(&o));
        assert!(
            !FieldSelector::parse("metadata.name=x,metadata.namespace!=d")
                .unwrap()
                .matches(&o)
        );
    }
}
