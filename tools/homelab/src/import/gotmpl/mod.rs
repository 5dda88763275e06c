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

mod eval;
mod lex;

use std::collections::BTreeSet;

use serde_json::Value;

use eval::{Parser, Val};
use lex::lex;

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
