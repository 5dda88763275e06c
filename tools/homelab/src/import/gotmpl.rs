//! Helmfile's Go templates, evaluated at import time where they use only data the import
//! knows: the environment's name and (non-secret) values, the release's name and
//! namespace, and files inside the tree. Everything is static per environment, so the
//! result is plain YAML and needs no template at render time.
//!
//! Understood: `.Environment.Name`, `.Environment.Values.x`, `.Values.x`,
//! `.StateValues.x`, `.Release.Name`, `.Release.Namespace`, literals, pipelines,
//! parentheses, `{{-`/`-}}`, comments, and `default`, `quote`, `squote`, `toYaml`,
//! `indent`, `nindent`, `required`, `readFile`, `get`, `lower`, `upper`, `trim`,
//! `toString`. Anything else (`if`, `range`, variables, `env`, `exec`, …) is
//! [`Unsupported`] with its line: nothing is ever run, and nothing is guessed.

use std::collections::BTreeSet;

use serde_json::Value;

/// Why a template was not translated; `line` is 1-based within the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Unsupported {
    pub line: usize,
    pub message: String,
}

/// The data one evaluation sees.
pub(super) struct Scope<'a> {
    pub env_name: &'a str,
    /// The environment's state values (non-secret).
    pub values: &'a Value,
    /// Dotted paths that hold secret environment values: their plaintext is unknown.
    pub secret_paths: &'a BTreeSet<String>,
    /// Release name and namespace, in release values templates.
    pub release: Option<(&'a str, &'a str)>,
    /// Reads a file named by `readFile`, relative to the template's folder.
    pub read_file: &'a dyn Fn(&str) -> Result<String, String>,
}

/// Evaluates `text` with `scope`.
pub(super) fn render(text: &str, scope: &Scope<'_>) -> Result<String, Unsupported> {
    let mut out = String::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("{{") {
        let line = text[..offset + start].matches('\n').count() + 1;
        let mut literal = &rest[..start];
        let mut body = &rest[start + 2..];
        if let Some(b) = body.strip_prefix("- ") {
            literal = literal.trim_end();
            body = b;
        }
        out.push_str(literal);
        let Some(end) = find_close(body) else {
            return Err(fail(line, "`{{` is never closed"));
        };
        let mut inner = &body[..end];
        let mut after = &body[end + 2..];
        if let Some(i) = inner.strip_suffix(" -") {
            inner = i;
            after = after.trim_start();
        }
        let action = inner.trim();
        if !(action.starts_with("/*") && action.ends_with("*/")) {
            let tokens = lex(action).map_err(|m| fail(line, &m))?;
            let mut parser = Parser {
                tokens: &tokens,
                at: 0,
                line,
                scope,
            };
            let value = parser.pipeline()?;
            if parser.at != tokens.len() {
                return Err(fail(line, &format!("`{action}` is not translated")));
            }
            out.push_str(&print(value, action, line, scope)?);
        }
        offset = text.len() - after.len();
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

fn fail(line: usize, message: &str) -> Unsupported {
    Unsupported {
        line,
        message: message.to_string(),
    }
}

/// The `}}` closing an action, skipping quoted strings.
fn find_close(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut quote = None;
    while i < bytes.len() {
        match (quote, bytes[i]) {
            (None, b'"' | b'`') => quote = Some(bytes[i]),
            (Some(b'"'), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, b'}') if bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(Vec<String>),
    Ident(String),
    Str(String),
    Num(Value),
    Pipe,
    Open,
    Close,
}

fn lex(action: &str) -> Result<Vec<Token>, String> {
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

/// The functions [`Parser::call`] knows; checked before any argument is evaluated.
const FUNCTIONS: &[&str] = &[
    "default", "required", "quote", "squote", "toString", "lower", "upper", "trim", "toYaml",
    "indent", "nindent", "readFile", "get",
];

/// A value, or `None` for Go's "no value" (a missing key).
type Val = Option<Value>;

struct Parser<'a, 's> {
    tokens: &'a [Token],
    at: usize,
    line: usize,
    scope: &'a Scope<'s>,
}

impl Parser<'_, '_> {
    fn pipeline(&mut self) -> Result<Val, Unsupported> {
        let mut value = self.command(None)?;
        while self.tokens.get(self.at) == Some(&Token::Pipe) {
            self.at += 1;
            value = self.command(Some(value))?;
        }
        Ok(value)
    }

    /// One command; `piped` is the previous command's result, Go's last argument.
    fn command(&mut self, piped: Option<Val>) -> Result<Val, Unsupported> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Ident(name)) if !matches!(name.as_str(), "true" | "false" | "nil") => {
                self.at += 1;
                if !FUNCTIONS.contains(&name.as_str()) {
                    return Err(fail(
                        self.line,
                        &format!("the function `{name}` is not translated"),
                    ));
                }
                let mut args = Vec::new();
                while let Some(t) = self.tokens.get(self.at) {
                    if matches!(t, Token::Pipe | Token::Close) {
                        break;
                    }
                    args.push(self.operand()?);
                }
                args.extend(piped);
                self.call(&name, args)
            }
            _ if piped.is_some() => Err(fail(self.line, "a pipeline must end in a function")),
            _ => self.operand(),
        }
    }

    fn operand(&mut self) -> Result<Val, Unsupported> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Str(s)) => Ok(Some(Value::String(s))),
            Some(Token::Num(n)) => Ok(Some(n)),
            Some(Token::Ident(w)) if w == "true" || w == "false" => Ok(Some((w == "true").into())),
            Some(Token::Ident(w)) if w == "nil" => Ok(None),
            Some(Token::Field(path)) => self.field(&path),
            Some(Token::Open) => {
                let value = self.pipeline()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(fail(self.line, "`(` is never closed"));
                }
                self.at += 1;
                Ok(value)
            }
            Some(Token::Ident(w)) => Err(fail(
                self.line,
                &format!("`{w}` is not translated (only functions of one pipeline stage are)"),
            )),
            _ => Err(fail(self.line, "an empty or unbalanced action")),
        }
    }

    fn field(&self, path: &[String]) -> Result<Val, Unsupported> {
        let s = self.scope;
        let strs: Vec<&str> = path.iter().map(String::as_str).collect();
        let values_path: &[&str] = match strs.as_slice() {
            ["Environment", "Name"] => return Ok(Some(s.env_name.into())),
            ["Release", "Name"] if s.release.is_some() => return Ok(s.release.map(|r| r.0.into())),
            ["Release", "Namespace"] if s.release.is_some() => {
                return Ok(s.release.map(|r| r.1.into()))
            }
            ["Environment", "Values", rest @ ..] => rest,
            ["Values", rest @ ..] | ["StateValues", rest @ ..] => rest,
            _ => {
                return Err(fail(
                    self.line,
                    &format!("`.{}` is not translated", path.join(".")),
                ))
            }
        };
        lookup(s, values_path, self.line)
    }

    fn call(&self, name: &str, args: Vec<Val>) -> Result<Val, Unsupported> {
        let line = self.line;
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(fail(
                    line,
                    &format!("`{name}` takes {n} argument(s), got {}", args.len()),
                ))
            }
        };
        let text_of = |v: &Val| -> Result<String, Unsupported> {
            match v {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
                None | Some(Value::Null) => Ok(String::new()),
                Some(_) => Err(fail(line, &format!("`{name}` of a map or list"))),
            }
        };
        Ok(match name {
            "default" => {
                arity(2)?;
                let [fallback, given]: [Val; 2] = args.try_into().unwrap_or([None, None]);
                if given.as_ref().is_some_and(|v| !is_empty(v)) {
                    given
                } else {
                    fallback
                }
            }
            "required" => {
                arity(2)?;
                match &args[1] {
                    Some(v) if !is_empty(v) => args[1].clone(),
                    _ => {
                        return Err(fail(
                            line,
                            &format!(
                                "`required` fails in environment `{}`: {}",
                                self.scope.env_name,
                                text_of(&args[0])?
                            ),
                        ))
                    }
                }
            }
            "quote" => {
                arity(1)?;
                Some(
                    serde_json::to_string(&text_of(&args[0])?)
                        .unwrap_or_default()
                        .into(),
                )
            }
            "squote" => {
                arity(1)?;
                Some(format!("'{}'", text_of(&args[0])?).into())
            }
            "toString" => {
                arity(1)?;
                Some(text_of(&args[0])?.into())
            }
            "lower" | "upper" | "trim" => {
                arity(1)?;
                let t = text_of(&args[0])?;
                Some(
                    match name {
                        "lower" => t.to_lowercase(),
                        "upper" => t.to_uppercase(),
                        _ => t.trim().to_string(),
                    }
                    .into(),
                )
            }
            "toYaml" => {
                arity(1)?;
                let v = args[0].clone().unwrap_or(Value::Null);
                Some(
                    crate::render::yaml::to_yaml(&v)
                        .trim_end_matches('\n')
                        .to_string()
                        .into(),
                )
            }
            "indent" | "nindent" => {
                arity(2)?;
                let width = args[0].as_ref().and_then(Value::as_u64).ok_or_else(|| {
                    fail(line, &format!("`{name}` needs a number of spaces first"))
                })?;
                let pad = " ".repeat(width.min(1000) as usize);
                let body = text_of(&args[1])?;
                let joined: Vec<String> = body.split('\n').map(|l| format!("{pad}{l}")).collect();
                let lead = if name == "nindent" { "\n" } else { "" };
                Some(format!("{lead}{}", joined.join("\n")).into())
            }
            "readFile" => {
                arity(1)?;
                let path = text_of(&args[0])?;
                Some(
                    (self.scope.read_file)(&path)
                        .map_err(|m| fail(line, &m))?
                        .into(),
                )
            }
            "get" => {
                arity(3)?;
                let path = text_of(&args[0])?;
                let mut at = args[2].clone();
                for key in path.split('.') {
                    at = at.and_then(|v| v.get(key).cloned());
                }
                if at.is_none() {
                    args[1].clone()
                } else {
                    at
                }
            }
            other => {
                return Err(fail(
                    line,
                    &format!("the function `{other}` is not translated"),
                ))
            }
        })
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

/// Looks a dotted path up in the state values; a secret path is unsupported, since its
/// plaintext is deliberately unknown.
fn lookup(scope: &Scope<'_>, path: &[&str], line: usize) -> Result<Val, Unsupported> {
    let joined = path.join(".");
    let is_secret = scope.secret_paths.iter().any(|s| {
        s == &joined || s.starts_with(&format!("{joined}.")) || joined.starts_with(&format!("{s}."))
    });
    if is_secret && !joined.is_empty() {
        return Err(fail(
            line,
            &format!("`.Values.{joined}` is a secret environment value; import never decrypts, so move it into a `[[secrets]]` Secret by hand"),
        ));
    }
    let mut at = Some(scope.values);
    for key in path {
        at = at.and_then(|v| v.get(key));
    }
    Ok(at.cloned())
}

fn print(value: Val, action: &str, line: usize, scope: &Scope<'_>) -> Result<String, Unsupported> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
        Some(Value::Array(_) | Value::Object(_)) => Err(fail(
            line,
            &format!("`{action}` prints a map or list; wrap it in `toYaml`"),
        )),
        None | Some(Value::Null) => Err(fail(
            line,
            &format!(
                "`{action}` has no value in environment `{}`",
                scope.env_name
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(text: &str) -> Result<String, Unsupported> {
        let values = json!({"domain": "example.org", "app": {"replicas": 2, "tags": ["a", "b"]}, "db": {"user": "x"}});
        let secrets: BTreeSet<String> = ["db.password".to_string()].into();
        let read = |p: &str| {
            if p == "motd.txt" {
                Ok("hi\nthere".to_string())
            } else {
                Err(format!("no `{p}`"))
            }
        };
        render(
            text,
            &Scope {
                env_name: "prod",
                values: &values,
                secret_paths: &secrets,
                release: Some(("web", "apps")),
                read_file: &read,
            },
        )
    }

    #[test]
    fn translates_the_supported_subset() {
        let out = eval(concat!(
            "env: {{ .Environment.Name }}\n",
            "host: web.{{ .Values.domain }}\n",
            "replicas: {{ .Environment.Values.app.replicas | default 1 }}\n",
            "missing: {{ .Values.nope | default \"d\" | quote }}\n",
            "name: {{ .Release.Name }}-{{ .Release.Namespace }}\n",
            "tags: {{- toYaml .Values.app.tags | nindent 2 }}\n",
            "{{/* a comment */}}motd: {{ readFile \"motd.txt\" | quote }}\n",
            "user: {{ required \"db user\" .Values.db.user }}\n",
            "got: {{ .Values | get \"app.replicas\" 0 }}\n",
        ))
        .unwrap();
        assert_eq!(
            out,
            "env: prod\nhost: web.example.org\nreplicas: 2\nmissing: \"d\"\nname: web-apps\ntags:\n  - a\n  - b\nmotd: \"hi\\nthere\"\nuser: x\ngot: 2\n"
        );
    }

    #[test]
    fn refuses_everything_else_with_its_line() {
        for (text, line, words) in [
            ("a: 1\n{{ if .Values.x }}y{{ end }}", 2, "`if`"),
            ("{{ env \"HOME\" }}", 1, "`env`"),
            ("a:\n\n{{ exec \"rm\" (list) }}", 3, "`exec`"),
            ("{{ $x := 1 }}", 1, "`$`"),
            ("{{ .Values.db.password }}", 1, "secret"),
            ("{{ .Values.nope }}", 1, "no value"),
            ("{{ .Values.app }}", 1, "toYaml"),
            ("{{ required \"set it\" .Values.nope }}", 1, "set it"),
            ("{{ readFile \"other\" }}", 1, "no `other`"),
            ("{{ .Values.x", 1, "never closed"),
        ] {
            let err = eval(text).unwrap_err();
            assert_eq!(err.line, line, "{text}: {err:?}");
            assert!(err.message.contains(words), "{text}: {err:?}");
        }
    }
}
