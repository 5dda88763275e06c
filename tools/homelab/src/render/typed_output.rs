//! `{{x}}` that keeps the value's type and text.
//!
//! Handlebars passes its escape function only the value's text: the string `"1.10"` and the
//! number `1.10` look alike there, so a string could come out as a number (`1.1`), a
//! boolean (`on`) or an octal (`0777`). Instead of escaping text, every escaped expression
//! of a compiled template is rewritten into a call of one of our typed helpers, which get
//! the value itself:
//!
//! - `{{x}}` becomes `{{__yaml_plain x}}`, and `{{lower x}}` becomes
//!   `{{__yaml_plain (lower x)}}` (helpers hand back values through `call_inner`);
//! - inside a quoted scalar on its line (`a: '{{x}}'`, `b: "v{{x}}"`) the helper is
//!   `__yaml_single` or `__yaml_double`, which escapes for that quoting style or refuses a
//!   value the style cannot hold.
//!
//! Raw output is left alone: `{{{x}}}` and the fragment helpers (`toYaml`, `indent`, …).
//! Which quoting an expression sits in is decided from the template text before it on
//! the same line, other expressions counted as quote-free text (what they print is).

use handlebars::template::{HelperTemplate, Parameter, Subexpression, TemplateElement};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, Template,
};
use serde_json::Value;

use super::yaml_scalar::{double_quoted_body, is_printable, string_scalar};

/// Helpers whose output is YAML text, written unescaped.
pub(crate) const FRAGMENT_HELPERS: &[&str] = &["toYaml", "indent", "nindent", "quote"];

/// Where an expression stands in its YAML line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quoting {
    /// Where a value starts (`key: {{x}}`): the value prints as a whole scalar.
    Plain,
    /// After other text of a plain scalar (`host: cloud.{{x}}`): only text that cannot
    /// change the scalar's shape may join it.
    PlainInside,
    Single,
    Double,
}

impl Quoting {
    fn helper(self) -> &'static str {
        match self {
            Quoting::Plain => "__yaml_plain",
            Quoting::PlainInside => "__yaml_inside",
            Quoting::Single => "__yaml_single",
            Quoting::Double => "__yaml_double",
        }
    }
}

/// Registers the three typed helpers.
pub(crate) fn register(registry: &mut Handlebars<'_>) {
    for quoting in [
        Quoting::Plain,
        Quoting::PlainInside,
        Quoting::Single,
        Quoting::Double,
    ] {
        registry.register_helper(quoting.helper(), Box::new(Typed(quoting)));
    }
}

/// Handlebars' own helpers; with ours ([`super::helpers::NAMES`]) they tell a name-only
/// helper call (`{{log}}`) from a variable (`{{name}}`).
const BUILT_IN: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "raw", "log", "eq", "ne", "gt", "gte", "lt", "lte",
    "and", "or", "not", "len",
];

fn is_helper(name: &str) -> bool {
    BUILT_IN.contains(&name) || super::helpers::NAMES.contains(&name)
}

/// Rewrites every escaped expression of `template` into a typed helper call.
pub(crate) fn rewrite(template: &mut Template) {
    let mut line = String::new();
    rewrite_elements(&mut template.elements, &mut line);
}

fn rewrite_elements(elements: &mut [TemplateElement], line: &mut String) {
    for element in elements {
        match element {
            TemplateElement::RawString(text) => match text.rfind('\n') {
                Some(i) => *line = text[i + 1..].to_string(),
                None => line.push_str(text),
            },
            TemplateElement::Expression(ht) => {
                let raw = ht
                    .name
                    .as_name()
                    .is_some_and(|n| FRAGMENT_HELPERS.contains(&n));
                if !raw {
                    let inner = match &ht.name {
                        _ if !(ht.params.is_empty() && ht.hash.is_empty()) => wrapped(ht),
                        Parameter::Name(name) if is_helper(name) => wrapped(ht),
                        // A bare name is a variable; as an argument it must be a path.
                        Parameter::Name(name) => {
                            Parameter::parse(name).unwrap_or_else(|_| ht.name.clone())
                        }
                        other => other.clone(),
                    };
                    ht.name = Parameter::Name(quoting(line).helper().to_string());
                    ht.params = vec![inner];
                    ht.hash.clear();
                }
                line.push('x');
            }
            TemplateElement::HtmlExpression(_) => line.push('x'),
            TemplateElement::HelperBlock(ht) => {
                let before = line.clone();
                if let Some(t) = ht.template.as_mut() {
                    rewrite_elements(&mut t.elements, line);
                }
                if let Some(t) = ht.inverse.as_mut() {
                    let mut other = before;
                    rewrite_elements(&mut t.elements, &mut other);
                }
            }
            TemplateElement::DecoratorBlock(d) | TemplateElement::PartialBlock(d) => {
                if let Some(t) = d.template.as_mut() {
                    rewrite_elements(&mut t.elements, line);
                }
            }
            // Decorators, partials and comments print nothing of the context.
            _ => {}
        }
    }
}

/// The helper call `ht` as a subexpression, so its value reaches the typed helper.
fn wrapped(ht: &HelperTemplate) -> Parameter {
    Parameter::Subexpression(Subexpression::new(
        ht.name.clone(),
        ht.params.clone(),
        ht.hash.clone(),
    ))
}

/// Whether the end of `line` is inside a single- or double-quoted scalar, where a value
/// starts, or inside a plain scalar. A quote opens a scalar only where a value may start:
/// at the line's start, after `- `, `? `, `: `, or after `[`, `{`, `,`.
pub(crate) fn quoting(line: &str) -> Quoting {
    let mut state = Quoting::Plain;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match state {
            Quoting::Plain | Quoting::PlainInside => {
                if matches!(c, '\'' | '"') && value_may_start(&line[..i]) {
                    state = if c == '"' {
                        Quoting::Double
                    } else {
                        Quoting::Single
                    };
                } else if c == '#' && (i == 0 || line[..i].ends_with([' ', '\t'])) {
                    return Quoting::Plain;
                }
            }
            Quoting::Double => match c {
                '\\' => {
                    chars.next();
                }
                '"' => state = Quoting::Plain,
                _ => {}
            },
            Quoting::Single => {
                if c == '\'' {
                    if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                        chars.next();
                    } else {
                        state = Quoting::Plain;
                    }
                }
            }
        }
    }
    if state == Quoting::Plain && !value_may_start(line) {
        Quoting::PlainInside
    } else {
        state
    }
}

fn value_may_start(before: &str) -> bool {
    let trimmed = before.trim_end();
    let spaced = trimmed.len() < before.len();
    trimmed.is_empty()
        || trimmed.ends_with(['[', '{', ','])
        || (spaced && trimmed.ends_with([':', '-', '?']))
}

/// One of the typed helpers: its only argument is the value to print.
struct Typed(Quoting);

impl HelperDef for Typed {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(param) = h.param(0) else {
            return Err(RenderErrorReason::Other("an expression printed nothing".into()).into());
        };
        if param.is_value_missing() {
            let path = param.relative_path().cloned();
            return Err(RenderErrorReason::MissingVariable(path).into());
        }
        let shown = param
            .relative_path()
            .map(|p| format!("`{p}`"))
            .unwrap_or_else(|| "the helper's result".into());
        let text = print(self.0, param.value(), &shown).map_err(RenderError::from)?;
        out.write(&text)?;
        Ok(())
    }
}

/// The text `value` prints as in `quoting`, or why it cannot be printed there.
pub(crate) fn print(
    quoting: Quoting,
    value: &Value,
    shown: &str,
) -> Result<String, RenderErrorReason> {
    let refuse = |message: String| Err(RenderErrorReason::Other(message));
    match (value, quoting) {
        (Value::Object(_) | Value::Array(_), _) => refuse(format!(
            "{shown} is a {}, not a single value; print it with `{{{{toYaml …}}}}` (and `nindent`)",
            if value.is_object() { "map" } else { "list" }
        )),
        (Value::String(s), Quoting::Plain) => Ok(string_scalar(s)),
        (Value::String(s), Quoting::PlainInside) => {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-+@=".contains(c))
            {
                Ok(s.clone())
            } else {
                refuse(format!(
                    "{shown} is {}, which cannot join a plain YAML scalar; put the whole value in double quotes (`key: \"text{{{{x}}}}\"`)",
                    serde_json::to_string(s).unwrap_or_default()
                ))
            }
        }
        (Value::String(s), Quoting::Double) => Ok(double_quoted_body(s)),
        (Value::String(s), Quoting::Single) => {
            if s.chars().any(|c| c.is_control() || !is_printable(c)) {
                refuse(format!(
                    "{shown} holds a line break or control character, which a single-quoted YAML scalar cannot hold; write the expression without the quotes (`key: {{{{x}}}}`), homelab quotes the value when it needs it"
                ))
            } else {
                Ok(s.replace('\'', "''"))
            }
        }
        (Value::Null, Quoting::Plain) => Ok("null".into()),
        (Value::Null, Quoting::PlainInside) => refuse(format!(
            "{shown} is null, which cannot join a plain YAML scalar"
        )),
        (Value::Null, _) => Ok(String::new()),
        (other, _) => Ok(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_open_only_where_a_value_starts() {
        assert_eq!(quoting("a: '"), Quoting::Single);
        assert_eq!(quoting("a: \"x"), Quoting::Double);
        assert_eq!(quoting("- \""), Quoting::Double);
        assert_eq!(quoting("  args: [\"a\", '"), Quoting::Single);
        assert_eq!(quoting("a: 'it''s "), Quoting::Single);
        assert_eq!(quoting("a: \"say \\\"hi\\\" "), Quoting::Double);
        assert_eq!(quoting("a: \"x\" # '"), Quoting::Plain);
        assert_eq!(quoting("a: 'x' "), Quoting::PlainInside);
        assert_eq!(quoting("key: "), Quoting::Plain);
        assert_eq!(quoting("  - "), Quoting::Plain);
        assert_eq!(quoting("host: cloud."), Quoting::PlainInside);
        assert_eq!(quoting("msg: it's "), Quoting::PlainInside);
    }
}
