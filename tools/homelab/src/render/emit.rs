//! Printing JSON-shaped values as block YAML that every reader takes the same way.
//!
//! Kubernetes tools read YAML with go-yaml's YAML 1.1 rules, where `yes`, `on` or `n`
//! are booleans and `0755` is octal; YAML 1.2 writers leave those plain. So strings are
//! printed plain only when they start with a letter (or `/`) and are not one of 1.1's
//! special words; everything else is double-quoted, and multi-line text becomes a
//! literal block. Output is a pure function of the value: key order is the value's own.

use serde_json::Value;

use super::yaml_scalar::double_quoted;

/// The YAML text of `value`, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_list(&mut out, items, 0),
        other => {
            out.push_str(&inline(other, 2));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        out.push_str(&pad);
        out.push_str(&scalar_string(key, indent, true));
        out.push(':');
        write_value_after_key(out, value, indent);
    }
}

fn write_value_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(out, items, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other, indent + 2));
            out.push('\n');
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        out.push_str(&pad);
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                let mut nested = String::new();
                write_map(&mut nested, map, indent + 2);
                // The first key goes on the dash's line.
                out.push_str(&nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                write_list(&mut nested, inner, indent + 2);
                out.push_str(&nested[indent + 2..]);
            }
            other => {
                out.push_str(&inline(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar (or empty collection) on the current line; `indent` is where a literal
/// block's lines start.
fn inline(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s, indent, false),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn scalar_string(s: &str, indent: usize, is_key: bool) -> String {
    if !is_key && s.contains('\n') && literal_ok(s) {
        return literal_block(s, indent);
    }
    if plain_ok(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// Words YAML 1.1 (go-yaml v2, hence kubectl) or 1.2 read as something other than text.
const SPECIAL_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/') || s.ends_with([' ', ':']) {
        return false;
    }
    if SPECIAL_WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    let allowed = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ._/-+@=:()".contains(c));
    allowed && !s.contains(": ") && !s.contains(" #")
}

/// Literal blocks cannot hold control characters or carriage returns, a block of only
/// newlines is clearer quoted, and text whose first line starts with a space would need
/// an indentation indicator: those are double-quoted instead.
fn literal_ok(s: &str) -> bool {
    let first_line = s.lines().find(|l| !l.is_empty()).unwrap_or("");
    !s.trim().is_empty()
        && !first_line.starts_with([' ', '\t'])
        && !s.chars().any(|c| {
            (c.is_control() && c != '\n')
                || c == '\u{feff}'
                || c == '\u{85}'
                || c == '\u{2028}'
                || c == '\u{2029}'
        })
        && !s.lines().any(|l| l.ends_with([' ', '\t']))
}

fn literal_block(s: &str, indent: usize) -> String {
    let chomp = if s.ends_with("\n\n") {
        "+"
    } else if s.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let pad = " ".repeat(indent);
    let body = s.strip_suffix('\n').unwrap_or(s);
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_words_and_numbers_are_quoted() {
        let v = json!({"a": "yes", "b": "0755", "c": "1.5", "d": "on", "e": "plain text", "f": "ghcr.io/x:1.0", "g": ""});
        assert_eq!(
            to_yaml(&v),
            "a: \"yes\"\nb: \"0755\"\nc: \"1.5\"\nd: \"on\"\ne: plain text\nf: ghcr.io/x:1.0\ng: \"\"\n"
        );
    }

    #[test]
    fn nested_shapes() {
        let v = json!({"m": {"k": [1, {"x": "y", "z": [true]}, [2, 3]], "e": {}, "l": []}, "s": "a\nb\n"});
        assert_eq!(
            to_yaml(&v),
            "m:\n  k:\n  - 1\n  - x: \"y\"\n    z:\n    - true\n  - - 2\n    - 3\n  e: {}\n  l: []\ns: |\n  a\n  b\n"
        );
    }

    fn tree() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            "[ a-z0-9:#\\-\n]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z0-9 :\\-]{0,6}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the value, reading the output back gives the same value.
        #[test]
        fn round_trips(value in tree()) {
            let text = to_yaml(&value);
            let back = super::super::yaml::parse_documents(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            let back = back.into_iter().next().unwrap_or(Value::Null);
            prop_assert_eq!(back, value, "{}", text);
        }
    }
}
