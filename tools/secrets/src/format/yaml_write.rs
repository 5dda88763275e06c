//! Writes sops's tree as go-yaml v3 does with `SetIndent(4)`, so output is
//! byte-identical to `sops`'s: the same quoting decisions (`resolve` plus
//! libyaml's scalar analysis), literal blocks for multi-line strings,
//! comments as head comments at the item's indentation, and
//! `---` between documents.

use super::gofmt;
use super::yaml_scalar::string_scalar;
use crate::tree::{Item, Key, Value};

/// go-yaml's indentation under `SetIndent(4)`, as sops sets it.
pub(super) const INDENT: usize = 4;

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
