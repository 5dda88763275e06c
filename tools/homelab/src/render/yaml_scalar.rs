//! How a string prints as a YAML scalar that every reader takes as that exact string:
//! YAML 1.2 readers and YAML 1.1 ones (Helm's and kubectl's go-yaml), where `on`, `y`,
//! `0777`, `1_000`, `1:20` or `.5` are not text.
//!
//! A string stays plain only when it is made of a conservative set of characters, starts
//! with a letter or `/` (every 1.1 or 1.2 number, timestamp, `.inf` and `~` starts with
//! something else) and is not one of the special words; anything else is double-quoted.
//! Numbers and booleans never come through here: [`super::typed_output`] prints them.

/// Words YAML 1.1 or 1.2 read as a boolean or null, compared case-insensitively (1.1
/// accepts only `yes`, `Yes`, `YES` and so on; refusing `yEs` too costs nothing).
const SPECIAL_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// `text` as a YAML scalar that reads back as exactly `text`, a string.
pub(crate) fn string_scalar(text: &str) -> String {
    if is_safe_plain(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// A YAML double-quoted scalar holding exactly `text`.
pub(crate) fn double_quoted(text: &str) -> String {
    format!("\"{}\"", double_quoted_body(text))
}

/// `text` escaped for the inside of a double-quoted scalar.
pub(crate) fn double_quoted_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
            c if !is_printable(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// YAML's printable set (readers refuse anything else anywhere in a document); the BOM
/// and the line and paragraph separators are left out too, as they end lines in 1.1.
pub fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
}

fn is_safe_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    let body_ok = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | '+' | '@' | '='));
    let first_ok = first.is_ascii_alphabetic() || first == '/';
    body_ok && first_ok && !SPECIAL_WORDS.contains(&text.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_stay_plain() {
        for v in [
            "example.org",
            "ghcr.io/x/y",
            "a=b",
            "v1.2.3",
            "/data",
            "Nope",
        ] {
            assert_eq!(string_scalar(v), v);
        }
    }

    #[test]
    fn strings_another_reader_would_retype_are_quoted() {
        for v in [
            "",
            "on",
            "No",
            "y",
            "0777",
            "1_000",
            "1:20",
            ".5",
            "~",
            "0x1F",
            "1e3",
            "0o17",
            "1.10",
            "true",
            "null",
            "-1",
            "30080",
            "12345678901234567890123",
        ] {
            assert_eq!(string_scalar(v), format!("\"{v}\""), "{v}");
        }
        assert_eq!(string_scalar("a: b"), "\"a: b\"");
        assert_eq!(string_scalar("say \"hi\"\nbye"), "\"say \\\"hi\\\"\\nbye\"");
    }
}
