//! JSON as sops reads and writes it: object order kept (duplicate keys too),
//! every number a float64, output as Go's `json.Marshal` + `json.Indent`
//! with a tab, HTML characters escaped like Go does.

use super::gofmt;
use crate::error::{Error, Result};
use crate::tree::{Item, Key, Value};

struct Reader<'a> {
    src: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: impl Into<String>) -> Error {
        let before = &self.src[..self.pos.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Error::Syntax {
            format: "JSON",
            line,
            column,
            message: message.into(),
        }
    }

    fn skip_ws(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected `{}`", c as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        if depth > 512 {
            return Err(self.error("nesting deeper than 512 levels"));
        }
        self.skip_ws();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                Ok(Value::Map(self.object(depth)?))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut out = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Seq(out));
                }
                loop {
                    out.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Seq(out));
                        }
                        _ => return Err(self.error("expected `,` or `]`")),
                    }
                }
            }
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected an object key (a string)"));
            }
            let key = self.string()?;
            self.expect(b':')?;
            let value = self.value(depth + 1)?;
            items.push(Item::pair(key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn word(&mut self, word: &str, value: Value) -> Result<Value> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<Value> {
        let rest = &self.src[self.pos..];
        let len = rest
            .bytes()
            .take_while(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let text = &rest[..len];
        let valid = {
            let t = text.strip_prefix('-').unwrap_or(text);
            let int_len = t.bytes().take_while(u8::is_ascii_digit).count();
            int_len > 0 && !(int_len > 1 && t.starts_with('0'))
        };
        match text.parse::<f64>() {
            Ok(f)
                if valid
                    && !text.ends_with('.')
                    && !text.contains(".e")
                    && !text.contains(".E") =>
            {
                self.pos += len;
                Ok(Value::Float(f))
            }
            _ => Err(self.error(format!("invalid number `{text}`"))),
        }
    }

    fn string(&mut self) -> Result<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.pos..];
            let Some(c) = rest.chars().next() else {
                return Err(self.error("unterminated string"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let Some(e) = self.src[self.pos..].chars().next() else {
                        return Err(self.error("unterminated string"));
                    };
                    self.pos += e.len_utf8();
                    match e {
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        '/' => out.push('/'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        'u' => {
                            let first = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&first)
                                && self.src[self.pos..].starts_with("\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let second = self.hex4()?;
                                if (0xDC00..0xE000).contains(&second) {
                                    char::from_u32(
                                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                                    )
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(first)
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                        }
                        _ => return Err(self.error(format!("invalid escape `\\{e}`"))),
                    }
                }
                c if (c as u32) < 0x20 => {
                    return Err(self.error("control character in string; escape it"))
                }
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.src.get(self.pos..self.pos + 4).unwrap_or("");
        let v = u32::from_str_radix(digits, 16)
            .ok()
            .filter(|_| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid `\\u` escape"))?;
        self.pos += 4;
        Ok(v)
    }
}

/// Reads a JSON document whose top level is an object.
pub fn read(src: &str) -> Result<Vec<Item>> {
    let mut r = Reader { src, pos: 0 };
    r.skip_ws();
    if r.peek() != Some(b'{') {
        return Err(r.error("expected a JSON object at the top level"));
    }
    r.pos += 1;
    let items = r.object(0)?;
    r.skip_ws();
    if r.pos != src.len() {
        return Err(r.error("unexpected data after the top-level object"));
    }
    Ok(items)
}

/// Go's `json.Marshal` of a string.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n('\t', depth));
}

fn write_value(out: &mut String, value: &Value, depth: usize) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&gofmt::json_float(*f).ok_or_else(|| {
            Error::Unsupported(format!(
                "JSON cannot hold the number {}",
                gofmt::format_f(*f)
            ))
        })?),
        Value::Str(s) | Value::Time(s) => push_string(out, s),
        Value::Bytes(b) => {
            use base64::Engine;
            push_string(out, &base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::Comment(_) => {}
        Value::Map(items) => {
            let pairs: Vec<_> = items
                .iter()
                .filter_map(|i| match &i.key {
                    Key::Str(k) => Some((k, &i.value)),
                    Key::Comment(_) => None,
                })
                .collect();
            if pairs.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (n, (k, v)) in pairs.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                push_string(out, k);
                out.push_str(": ");
                write_value(out, v, depth + 1)?;
            }
            newline(out, depth);
            out.push('}');
        }
        Value::Seq(values) => {
            let values: Vec<_> = values
                .iter()
                .filter(|v| !matches!(v, Value::Comment(_)))
                .collect();
            if values.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (n, v) in values.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value(out, v, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
    }
    Ok(())
}

/// Writes a document as sops does (tab indent, trailing newline).
pub fn write(items: &[Item]) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, &Value::Map(items.to_vec()), 0)?;
    out.push('\n');
    Ok(out)
}

/// Writes one value (for `--extract`), without a trailing newline.
pub fn write_one(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, value, 0)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backslash before a multi-byte character once left the reader in
    /// the middle of that character, and building the error panicked.
    #[test]
    fn escape_of_a_multibyte_character_is_an_error_not_a_panic() {
        let err = read("{\"\\🕴;Ga\": 1}").unwrap_err().to_string();
        assert!(err.contains("invalid escape `\\🕴`"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn surrogate_pairs_decode_and_lone_surrogates_become_replacement() {
        let items = read(r#"{"a": "\ud83d\udd74", "b": "\ud83d"}"#).unwrap();
        let text = format!("{items:?}");
        assert!(text.contains('🕴'), "{text}");
        assert!(text.contains('\u{FFFD}'), "{text}");
    }
}
