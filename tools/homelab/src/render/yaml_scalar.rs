//! What `{{x}}` emits: a YAML scalar that reads back as the same text and can never end
//! the line, open a comment or start a new key, whatever the value holds.
//!
//! Handlebars hands the escape function only the value's text, not its type, so numbers
//! and booleans from the context must stay plain (`node_port: {{...}}` is an integer).
//! Text made only of "safe" characters is therefore left plain; anything else becomes a
//! double-quoted scalar. A string that looks like a number or `true` stays plain too; the
//! `quote` helper forces a string.

/// Returns `text` as a YAML scalar: unchanged when it is a safe plain scalar, otherwise
/// double-quoted with every special character escaped.
pub fn yaml_scalar(text: &str) -> String {
    if is_safe_plain(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// A YAML double-quoted scalar holding exactly `text`.
pub fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\ufeff"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Plain scalars we can prove harmless: a conservative character set, no leading
/// indicator, and not one of YAML's null spellings (text `null` must stay text).
fn is_safe_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let body_ok = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | '+' | '@' | '='));
    let first_ok = first.is_ascii_alphanumeric()
        || first == '/'
        || (first == '-' && text[1..].starts_with(|c: char| c.is_ascii_digit()));
    body_ok && first_ok && !matches!(text, "null" | "Null" | "NULL")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_values_stay_plain() {
        for v in [
            "30080",
            "true",
            "example.org",
            "ghcr.io/x/y",
            "-1",
            "a=b",
            "v1.2.3",
        ] {
            assert_eq!(yaml_scalar(v), v);
        }
    }

    #[test]
    fn dangerous_values_are_quoted() {
        assert_eq!(yaml_scalar(""), "\"\"");
        assert_eq!(yaml_scalar("a: b"), "\"a: b\"");
        assert_eq!(yaml_scalar("x # y"), "\"x # y\"");
        assert_eq!(yaml_scalar("say \"hi\"\nbye"), "\"say \\\"hi\\\"\\nbye\"");
        assert_eq!(yaml_scalar("null"), "\"null\"");
        assert_eq!(yaml_scalar("- item"), "\"- item\"");
        assert_eq!(yaml_scalar("*alias"), "\"*alias\"");
    }

    proptest! {
        /// Whatever the text, `key: {{x}}` parses as one mapping whose value reads back
        /// as the same text (or, for plain numbers and booleans, the same spelling).
        #[test]
        fn any_text_round_trips(text in any::<String>()) {
            let doc = format!("key: {}\nnext: 1\n", yaml_scalar(&text));
            let parsed: serde_norway::Mapping = serde_norway::from_str(&doc).unwrap();
            prop_assert_eq!(parsed.len(), 2);
            let value = &parsed["key"];
            let read_back = match value {
                serde_norway::Value::String(s) => s.clone(),
                serde_norway::Value::Number(n) => n.to_string(),
                serde_norway::Value::Bool(b) => b.to_string(),
                other => panic!("unexpected {other:?} for {text:?}"),
            };
            if matches!(value, serde_norway::Value::String(_)) {
                prop_assert_eq!(read_back, text);
            }
        }
    }
}
