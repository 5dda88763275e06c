//! Just enough of Nix's lexical grammar to find attribute sets in `hosts/inventory.nix`
//! without evaluating it: identifiers, strings and punctuation, with comments,
//! whitespace and the insides of strings (interpolations included) skipped, so a `{` in
//! a comment or a string never counts as a brace.

/// One token and the byte offsets it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An identifier or keyword (`hosts`, `let`, `node-1`).
    Ident,
    /// A `"…"` or `''…''` string, quotes included.
    Str,
    /// Any other character outside comments and strings: `{ } = ; . [ ]` and the rest.
    Punct(u8),
}

/// Where the text stopped being lexable: an unterminated string or comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unterminated {
    pub(crate) at: usize,
}

/// The tokens of `text`, or where a string or comment never ends.
pub(crate) fn tokens(text: &str) -> Result<Vec<Token>, Unterminated> {
    let mut out = Vec::new();
    lex(text.as_bytes(), 0, &mut out, false)?;
    Ok(out)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'-')
}

/// Lexes from `i`; inside an interpolation (`nested`) it stops after the `}` that closes
/// it and returns the offset after it.
fn lex(s: &[u8], mut i: usize, out: &mut Vec<Token>, nested: bool) -> Result<usize, Unterminated> {
    let mut depth = 0usize;
    while i < s.len() {
        let b = s[i];
        let start = i;
        match b {
            b'#' => {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                let end = find(s, i + 2, b"*/").ok_or(Unterminated { at: start })?;
                i = end + 2;
            }
            b'"' => {
                i = string(s, i + 1)?;
                push(out, Kind::Str, start, i, nested);
            }
            b'\'' if s.get(i + 1) == Some(&b'\'') => {
                i = indented_string(s, i + 2)?;
                push(out, Kind::Str, start, i, nested);
            }
            _ if b.is_ascii_whitespace() => i += 1,
            _ if is_ident_start(b) => {
                while i < s.len() && is_ident(s[i]) {
                    i += 1;
                }
                push(out, Kind::Ident, start, i, nested);
            }
            _ => {
                i += 1;
                if nested && b == b'}' {
                    if depth == 0 {
                        return Ok(i);
                    }
                    depth -= 1;
                } else if nested && b == b'{' {
                    depth += 1;
                }
                push(out, Kind::Punct(b), start, i, nested);
            }
        }
    }
    if nested {
        return Err(Unterminated { at: s.len() });
    }
    Ok(i)
}

/// Interpolations are skipped whole: their tokens belong to the string.
fn push(out: &mut Vec<Token>, kind: Kind, start: usize, end: usize, nested: bool) {
    if !nested {
        out.push(Token { kind, start, end });
    }
}

fn find(s: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    s.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// After the opening `"`: the offset after the closing one.
fn string(s: &[u8], mut i: usize) -> Result<usize, Unterminated> {
    let open = i - 1;
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            b'$' if s.get(i + 1) == Some(&b'{') => i = lex(s, i + 2, &mut Vec::new(), true)?,
            _ => i += 1,
        }
    }
    Err(Unterminated { at: open })
}

/// After the opening `''`: the offset after the closing one. `'''`, `''$` and `''\x`
/// are escapes.
fn indented_string(s: &[u8], mut i: usize) -> Result<usize, Unterminated> {
    let open = i - 2;
    while i < s.len() {
        if s[i] == b'\'' && s.get(i + 1) == Some(&b'\'') {
            match s.get(i + 2) {
                Some(b'\'') | Some(b'$') => i += 3,
                Some(b'\\') => i += 4,
                _ => return Ok(i + 2),
            }
        } else if s[i] == b'$' && s.get(i + 1) == Some(&b'{') {
            i = lex(s, i + 2, &mut Vec::new(), true)?;
        } else {
            i += 1;
        }
    }
    Err(Unterminated { at: open })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<String> {
        tokens(text)
            .unwrap()
            .iter()
            .map(|t| text[t.start..t.end].to_string())
            .collect()
    }

    #[test]
    fn braces_in_comments_and_strings_are_not_tokens() {
        let text = "{ # { not\n a = \"}${ { b = \"}\"; } }\"; /* } */ c = ''x ${ \"}\" } '''}'' ''${y}''; }";
        assert_eq!(
            kinds(text),
            [
                "{",
                "a",
                "=",
                "\"}${ { b = \"}\"; } }\"",
                ";",
                "c",
                "=",
                "''x ${ \"}\" } '''}''",
                "''${y}''",
                ";",
                "}"
            ]
        );
    }

    #[test]
    fn unterminated_strings_and_comments_say_where_they_open() {
        assert_eq!(tokens("{ a = \"x"), Err(Unterminated { at: 6 }));
        assert_eq!(tokens("{ /* x"), Err(Unterminated { at: 2 }));
        assert_eq!(tokens("{ a = ''x"), Err(Unterminated { at: 6 }));
        assert!(tokens("\"${").is_err());
    }
}
