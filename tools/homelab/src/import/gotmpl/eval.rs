//! An action's tokens evaluated: pipelines, operands, fields looked up in the scope and
//! the few functions import knows.

use serde_json::Value;

use super::lex::Token;
use super::{fail, Scope, Unsupported};

/// The functions [`Parser::call`] knows; checked before any argument is evaluated.
const FUNCTIONS: &[&str] = &[
    "default", "required", "quote", "squote", "toString", "lower", "upper", "trim", "toYaml",
    "indent", "nindent", "readFile", "get",
];

/// A value, or `None` for Go's "no value" (a missing key).
pub(super) type Val = Option<Value>;

pub(super) struct Parser<'a, 's> {
    pub(super) tokens: &'a [Token],
    pub(super) at: usize,
    pub(super) line: usize,
    pub(super) scope: &'a Scope<'s>,
}

impl Parser<'_, '_> {
    pub(super) fn pipeline(&mut self) -> Result<Val, Unsupported> {
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
