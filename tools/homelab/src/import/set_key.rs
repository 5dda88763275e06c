//! The names of Helmfile's `set`/`setString` entries, read as `helm --set` reads them:
//! `a.b` nests maps, `a[0]` indexes a list (padded with nulls, as Helm's strvals does),
//! and `\` escapes the next character, so `example\.org/x` is one key.

use serde_json::{Map, Value};

/// Helm's own limit on a list index in `--set`, so a typo cannot allocate a huge list.
const MAX_INDEX: usize = 65536;

/// One step of a `--set` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// The steps of `name`, or why it cannot be read.
pub(super) fn parse(name: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut key = String::new();
    let mut chars = name.chars();
    // Whether the previous step ended with `]`, after which only `.` or `[` may follow.
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) if !after_index => key.push(escaped),
                Some(_) => return Err("has a key right after `]`; add a `.`".into()),
                None => return Err("ends with a lone `\\`".into()),
            },
            '.' => {
                if !after_index {
                    if key.is_empty() {
                        return Err("has an empty key (`..`, or a `.` at an end)".into());
                    }
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                after_index = false;
            }
            '[' => {
                if !after_index {
                    if key.is_empty() {
                        return Err("has `[` without a key before it".into());
                    }
                    steps.push(Step::Key(std::mem::take(&mut key)));
                }
                let mut digits = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    digits.push(c);
                }
                let index = digits
                    .parse::<usize>()
                    .ok()
                    .filter(|i| closed && *i <= MAX_INDEX)
                    .ok_or_else(|| {
                        let end = if closed { "]" } else { "" };
                        format!("has the list index `[{digits}{end}`; expected a number from 0 to {MAX_INDEX} and a closing `]`")
                    })?;
                steps.push(Step::Index(index));
                after_index = true;
            }
            ']' => return Err("has a `]` without its `[`".into()),
            other if after_index => {
                return Err(format!("has `{other}` right after `]`; add a `.`"))
            }
            other => key.push(other),
        }
    }
    if !after_index {
        if key.is_empty() {
            return Err("has an empty key (`..`, or a `.` at an end)".into());
        }
        steps.push(Step::Key(key));
    }
    Ok(steps)
}

/// Sets `value` at `steps` in `values`, making maps and lists on the way; a step of the
/// other shape replaces what was there, as a later `--set` does in Helm.
pub(super) fn set(values: &mut Value, steps: &[Step], value: Value) {
    let Some((step, rest)) = steps.split_first() else {
        *values = value;
        return;
    };
    let next = match step {
        Step::Key(key) => {
            if !values.is_object() {
                *values = Value::Object(Map::new());
            }
            let Value::Object(map) = values else {
                return;
            };
            map.entry(key.clone()).or_insert(Value::Null)
        }
        Step::Index(index) => {
            if !values.is_array() {
                *values = Value::Array(Vec::new());
            }
            let Value::Array(list) = values else {
                return;
            };
            if list.len() <= *index {
                list.resize(index + 1, Value::Null);
            }
            &mut list[*index]
        }
    };
    set(next, rest, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn apply(pairs: &[(&str, Value)]) -> Value {
        let mut values = json!({});
        for (name, value) in pairs {
            set(&mut values, &parse(name).expect(name), value.clone());
        }
        values
    }

    #[test]
    fn names_read_as_helm_set_reads_them() {
        assert_eq!(
            apply(&[
                ("image.tag", json!("1.2")),
                ("ingress.hosts[0].name", json!("a.example.org")),
                ("ingress.hosts[1]", json!("b")),
                ("podAnnotations.example\\.org/build", json!(42)),
                ("args[2]", json!("-v")),
            ]),
            json!({
                "image": {"tag": "1.2"},
                "ingress": {"hosts": [{"name": "a.example.org"}, "b"]},
                "podAnnotations": {"example.org/build": 42},
                "args": [null, null, "-v"],
            })
        );
        assert_eq!(
            parse("matrix[1][0]").unwrap(),
            [Step::Key("matrix".into()), Step::Index(1), Step::Index(0)]
        );
    }

    #[test]
    fn malformed_names_say_what_is_wrong() {
        for (name, why) in [
            ("a..b", "empty key"),
            (".a", "empty key"),
            ("a.", "empty key"),
            ("a[x]", "list index `[x]`"),
            ("a[1", "list index `[1`"),
            ("a[99999999]", "list index"),
            ("a]", "without its `[`"),
            ("a[0]b", "right after `]`"),
            ("[0]", "without a key"),
            ("a\\", "lone"),
        ] {
            let e = parse(name).unwrap_err();
            assert!(e.contains(why), "{name}: {e}");
        }
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            "[a-zA-Z0-9_./\\[\\]\\\\-]{1,8}".prop_map(Step::Key),
            (0usize..50).prop_map(Step::Index),
        ]
    }

    /// The name a person would write for `steps` (keys escaped).
    fn name_of(steps: &[Step]) -> String {
        let mut out = String::new();
        for step in steps {
            match step {
                Step::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    for c in k.chars() {
                        if matches!(c, '.' | '[' | ']' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(name in "\\PC{0,40}") {
            if let Ok(steps) = parse(&name) {
                let mut values = json!({});
                set(&mut values, &steps, json!(1));
            }
        }

        #[test]
        fn written_names_read_back(first in "[a-z]{1,6}", rest in prop::collection::vec(step(), 0..6)) {
            let mut steps = vec![Step::Key(first)];
            steps.extend(rest);
            prop_assert_eq!(parse(&name_of(&steps)).unwrap(), steps);
        }
    }
}
