//! Writes sops's tree as go-yaml v3 does with `SetIndent(4)`, so output is
//! byte-identical to `sops`'s: the same quoting decisions (`resolve` plus
//! libyaml's scalar analysis), literal blocks for multi-line strings,
//! comments as head comments at the item's indentation, and
//! `---` between documents.

use super::{gofmt, resolve};
use crate::tree::{Item, Key, Value};

const INDENT: usize = 4;

/// go-yaml's rule for the indentation of a nested block.
fn deeper(indent: usize) -> usize {
    INDENT * ((indent + INDENT) / INDENT)
}

/// Writes every document, separated by `---`.
pub fn write(branches: &[Vec<Item>]) -> String {
    let mut out = String::new();
    for (i, branch) in branches.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        if branch
            .iter()
            .all(|item| matches!(item.key, Key::Comment(_)))
            && !branch.is_empty()
        {
            for item in branch {
                if let Key::Comment(c) = &item.key {
                    push_comment(&mut out, 0, c);
                }
            }
            out.push_str("{}\n");
            continue;
        }
        if branch.is_empty() {
            out.push_str("{}\n");
            continue;
        }
        write_map(&mut out, branch, 0, false);
    }
    out
}

/// Writes one value as `sops --extract` prints it (a scalar alone, or a
/// collection as a document).
pub fn write_value(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Map(items) if !items.is_empty() => write_map(&mut out, items, 0, false),
        Value::Seq(values) if values.iter().any(|v| !matches!(v, Value::Comment(_))) => {
            write_seq(&mut out, values, 0, false)
        }
        other => {
            out.push_str(&inline_scalar(other, 0, false));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

fn push_comment(out: &mut String, indent: usize, text: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.extend(std::iter::repeat_n(' ', indent));
    out.push('#');
    out.push_str(text);
    out.push('\n');
}

fn pad(out: &mut String, indent: usize) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.extend(std::iter::repeat_n(' ', indent));
}

/// `inline`: the first entry continues the current line (after `- `).
fn write_map(out: &mut String, items: &[Item], indent: usize, mut inline: bool) {
    for item in items {
        match &item.key {
            Key::Comment(c) => {
                push_comment(out, indent, c);
                inline = false;
            }
            Key::Str(k) => {
                if !inline {
                    pad(out, indent);
                }
                inline = false;
                out.push_str(&key_text(k));
                out.push(':');
                write_child(out, &item.value, indent, false);
            }
        }
    }
}

fn leading_comments(value: &Value) -> usize {
    match value {
        Value::Map(items) if has_entries(value) => items
            .iter()
            .take_while(|i| matches!(i.key, Key::Comment(_)))
            .count(),
        Value::Seq(values) if has_entries(value) => values
            .iter()
            .take_while(|v| matches!(v, Value::Comment(_)))
            .count(),
        _ => 0,
    }
}

fn write_seq(out: &mut String, values: &[Value], indent: usize, mut inline: bool) {
    // go-yaml keeps one head comment per line it writes: when the first
    // item has head comments of its own, the sequence's are lost (sops
    // loses them too, and we must write what it writes).
    let head = values
        .iter()
        .take_while(|v| matches!(v, Value::Comment(_)))
        .count();
    let values = match values.get(head) {
        Some(first) if head > 0 && leading_comments(first) > 0 => &values[head..],
        _ => values,
    };
    for value in values {
        if let Value::Comment(c) = value {
            push_comment(out, indent, c);
            inline = false;
            continue;
        }
        // go-yaml writes a collection item's head comments above its `- `.
        let hoisted;
        let value = match value {
            Value::Map(items) if has_entries(value) => {
                let n = items
                    .iter()
                    .take_while(|i| matches!(i.key, Key::Comment(_)))
                    .count();
                for item in &items[..n] {
                    if let Key::Comment(c) = &item.key {
                        push_comment(out, indent, c);
                        inline = false;
                    }
                }
                hoisted = Value::Map(items[n..].to_vec());
                &hoisted
            }
            Value::Seq(values) if has_entries(value) => {
                let n = values
                    .iter()
                    .take_while(|v| matches!(v, Value::Comment(_)))
                    .count();
                for v in &values[..n] {
                    if let Value::Comment(c) = v {
                        push_comment(out, indent, c);
                        inline = false;
                    }
                }
                hoisted = Value::Seq(values[n..].to_vec());
                &hoisted
            }
            other => other,
        };
        if !inline {
            pad(out, indent);
        }
        inline = false;
        out.push('-');
        write_child(out, value, indent, true);
    }
}

fn has_entries(value: &Value) -> bool {
    match value {
        Value::Map(items) => items.iter().any(|i| matches!(i.key, Key::Str(_))),
        Value::Seq(values) => values.iter().any(|v| !matches!(v, Value::Comment(_))),
        _ => false,
    }
}

/// Writes the value after `key:` or `-`.
fn write_child(out: &mut String, value: &Value, indent: usize, in_seq: bool) {
    let child_indent = if in_seq { indent + 2 } else { deeper(indent) };
    match value {
        Value::Map(items) if has_entries(value) => {
            if in_seq && matches!(items.first().map(|i| &i.key), Some(Key::Str(_))) {
                out.push(' ');
                write_map(out, items, child_indent, true);
            } else {
                out.push('\n');
                write_map(out, items, child_indent, false);
            }
        }
        Value::Seq(values) if has_entries(value) => {
            if in_seq && !matches!(values.first(), Some(Value::Comment(_))) {
                out.push(' ');
                write_seq(out, values, child_indent, true);
            } else {
                out.push('\n');
                write_seq(out, values, child_indent, false);
            }
        }
        Value::Map(items) => {
            out.push_str(" {}\n");
            for item in items {
                if let Key::Comment(c) = &item.key {
                    push_comment(out, child_indent, c);
                }
            }
        }
        Value::Seq(values) => {
            out.push_str(" []\n");
            for v in values {
                if let Value::Comment(c) = v {
                    push_comment(out, child_indent, c);
                }
            }
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline_scalar(scalar, child_indent, false));
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
}

fn key_text(k: &str) -> String {
    string_scalar(k, 0, true)
}

fn inline_scalar(value: &Value, indent: usize, key: bool) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => gofmt::yaml_float(*f),
        Value::Time(t) => t.clone(),
        Value::Str(s) => string_scalar(s, indent, key),
        Value::Comment(c) => string_scalar(c, indent, key),
        Value::Bytes(b) => {
            use base64::Engine;
            format!(
                "!!binary {}",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        }
        Value::Map(_) => "{}".into(),
        Value::Seq(_) => "[]".into(),
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_printable(c: char) -> bool {
    matches!(c as u32, 0x0A | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD) && c != '\u{FEFF}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
    )
}

/// libyaml's `yaml_emitter_analyze_scalar`, block context only.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = s.starts_with("---") || s.starts_with("...");
    let (mut line_breaks, mut special, mut tabs) = (false, false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let n = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = is_blank(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == '\t' {
            tabs = true;
        } else if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == n - 1;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= i == n - 1;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blank(Some(c)) || c == '\t';
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tabs || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

fn string_scalar(s: &str, indent: usize, key: bool) -> String {
    let can_plain = !resolve::needs_quotes(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    if key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted_allowed {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_allowed || key) {
        style = Style::Double;
    }
    match style {
        Style::Plain => s.to_string(),
        Style::Single => format!("'{}'", s.replace('\'', "''")),
        Style::Double => double_quoted(s),
        Style::Literal => literal(s, indent),
    }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if is_printable(c) && c != '\u{FEFF}' && !is_break(c) && c != '"' && c != '\\' {
            out.push(c);
            continue;
        }
        out.push('\\');
        match c {
            '\0' => out.push('0'),
            '\u{7}' => out.push('a'),
            '\u{8}' => out.push('b'),
            '\t' => out.push('t'),
            '\n' => out.push('n'),
            '\u{b}' => out.push('v'),
            '\u{c}' => out.push('f'),
            '\r' => out.push('r'),
            '\u{1b}' => out.push('e'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '\u{85}' => out.push('N'),
            '\u{a0}' => out.push('_'),
            '\u{2028}' => out.push('L'),
            '\u{2029}' => out.push('P'),
            c if (c as u32) <= 0xFF => out.push_str(&format!("x{:02X}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("u{:04X}", c as u32)),
            c => out.push_str(&format!("U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn literal(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    let first = s.chars().next();
    if first == Some(' ') || first.is_some_and(is_break) {
        out.push_str(&INDENT.to_string());
    }
    let mut rev = s.chars().rev();
    let last = rev.next();
    let before_last = rev.next();
    if !last.is_some_and(is_break) {
        out.push('-');
    } else if before_last.is_none() || before_last.is_some_and(is_break) {
        out.push('+');
    }
    out.push('\n');
    let mut at_line_start = true;
    for c in s.chars() {
        if is_break(c) {
            out.push(if c == '\r' { '\r' } else { '\n' });
            if c != '\r' {
                at_line_start = true;
            }
        } else {
            if at_line_start {
                out.extend(std::iter::repeat_n(' ', indent));
                at_line_start = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_go_yaml() {
        assert_eq!(string_scalar("it's", 0, false), "it's");
        assert_eq!(string_scalar("a: b", 0, false), "'a: b'");
        assert_eq!(string_scalar("a\tb", 0, false), "\"a\\tb\"");
        assert_eq!(string_scalar("😀 ok", 0, false), "\"\\U0001F600 ok\"");
        assert_eq!(string_scalar("yes", 0, true), "\"yes\"");
        assert_eq!(string_scalar("", 0, false), "\"\"");
        assert_eq!(string_scalar("  lead", 0, false), "'  lead'");
        assert_eq!(string_scalar("a\nb\n", 4, false), "|\n    a\n    b\n");
    }
}
