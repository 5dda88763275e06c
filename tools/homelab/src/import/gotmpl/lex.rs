//! An action's words: fields, identifiers, strings, numbers, `|` and parentheses.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Field(Vec<String>),
    Ident(String),
    Str(String),
    Num(Value),
    Pipe,
    Open,
    Close,
}

pub(super) fn lex(action: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = action.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let word_end = |from: usize| {
            (from..chars.len())
                .find(|&j| !(chars[j].is_alphanumeric() || "_.-".contains(chars[j])))
                .unwrap_or(chars.len())
        };
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '|' => {
                tokens.push(Token::Pipe);
                i += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a string is never closed".into()),
                        Some('"') => break,
                        Some('\\') => {
                            s.push(match chars.get(i + 1) {
                                Some('n') => '\n',
                                Some('t') => '\t',
                                Some(other) => *other,
                                None => return Err("a string is never closed".into()),
                            });
                            i += 2;
                        }
                        Some(other) => {
                            s.push(*other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Str(s));
                i += 1;
            }
            '`' => {
                let close = (i + 1..chars.len())
                    .find(|&j| chars[j] == '`')
                    .ok_or("a string is never closed")?;
                tokens.push(Token::Str(chars[i + 1..close].iter().collect()));
                i = close + 1;
            }
            '.' => {
                let end = word_end(i + 1);
                let path: String = chars[i + 1..end].iter().collect();
                let parts = if path.is_empty() {
                    Vec::new()
                } else {
                    path.split('.').map(str::to_string).collect()
                };
                tokens.push(Token::Field(parts));
                i = end;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let end = word_end(i + 1);
                let text: String = chars[i..end].iter().collect();
                let number: Value =
                    serde_json::from_str(&text).map_err(|_| format!("`{text}` is not a number"))?;
                tokens.push(Token::Num(number));
                i = end;
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = word_end(i);
                tokens.push(Token::Ident(chars[i..end].iter().collect()));
                i = end;
            }
            other => return Err(format!("`{other}` in `{action}` is not translated")),
        }
    }
    Ok(tokens)
}
