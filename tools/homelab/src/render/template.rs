//! Handlebars in strict mode with YAML-safe, type-keeping output (see
//! [`super::typed_output`]): a missing variable, an unknown helper or a value its quoting
//! cannot hold is an error naming the template file, line and column.

use std::path::Path;

use handlebars::{
    Context, Handlebars, RenderContext, RenderErrorReason, Renderable, StringOutput, Template,
};
use serde_json::Value;

use super::yaml_scalar::string_scalar;
use super::{helpers, typed_output};

/// Why a template could not be rendered; `file` is relative to the lab root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location(*line, *column))]
pub struct TemplateError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// A configured handlebars registry; cheap to share across threads.
pub struct Templates {
    registry: Handlebars<'static>,
}

impl Templates {
    pub fn new(hosts: Value) -> Self {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        // Every escaped expression is rewritten into a typed helper; anything that still
        // reaches the escape function is printed as the string it is.
        registry.register_escape_fn(string_scalar);
        helpers::register(&mut registry, hosts);
        typed_output::register(&mut registry);
        Templates { registry }
    }

    /// Renders `text` (read from `file`, shown in errors) with `context`.
    pub fn render(
        &self,
        file: &Path,
        text: &str,
        context: &Context,
    ) -> Result<String, TemplateError> {
        let name = file.display().to_string();
        let mut template =
            Template::compile_with_name(text, name.clone()).map_err(|e| TemplateError {
                file: name.clone(),
                line: e.pos().map(|(l, _)| l),
                column: e.pos().map(|(_, c)| c),
                message: format!("invalid template: {}", e.reason()),
            })?;
        typed_output::rewrite(&mut template);
        let mut render_context = RenderContext::new(Some(&name));
        let mut out = StringOutput::new();
        template
            .render(&self.registry, context, &mut render_context, &mut out)
            .map_err(|e| TemplateError {
                file: name.clone(),
                line: e.line_no,
                column: e.column_no,
                message: describe(e.reason()),
            })?;
        out.into_string().map_err(|e| TemplateError {
            file: name.clone(),
            line: None,
            column: None,
            message: format!("the output is not UTF-8: {e}"),
        })
    }
}

fn describe(reason: &RenderErrorReason) -> String {
    match reason {
        RenderErrorReason::MissingVariable(Some(path)) => {
            format!("variable `{path}` is missing (`homelab render --help` lists the context)")
        }
        RenderErrorReason::MissingVariable(None) => "a variable is missing".into(),
        RenderErrorReason::HelperNotFound(name) => format!(
            "unknown helper `{name}`; helpers are default, required, toYaml, indent, nindent, quote, b64enc, join, lower, upper, host, hosts_with_role, eq, ne, and, or, not"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(text: &str, context: Value) -> Result<String, TemplateError> {
        let hosts = json!({"hanaakari": {"name": "hanaakari", "roles": ["worker", "ingress"], "lanAddress": "192.168.10.22"}});
        Templates::new(hosts).render(
            Path::new("releases/x/manifests/a.yaml.hbs"),
            text,
            &Context::from(context),
        )
    }

    #[test]
    fn scalars_are_yaml_safe() {
        let out = render(
            "a: {{v}}\nb: {{n}}\n",
            json!({"v": "x: y # z\n\"q\"", "n": 30080}),
        )
        .unwrap();
        assert_eq!(out, "a: \"x: y # z\\n\\\"q\\\"\"\nb: 30080\n");
        let raw = render("a: {{{v}}}", json!({"v": "x: y"})).unwrap();
        assert_eq!(raw, "a: x: y");
    }

    #[test]
    fn missing_variable_names_file_line_and_path() {
        let err = render(
            "a: 1\nb: {{release.nmae}}\n",
            json!({"release": {"name": "x"}}),
        )
        .unwrap_err();
        assert_eq!(err.file, "releases/x/manifests/a.yaml.hbs");
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("`release.nmae`"), "{err}");
    }

    #[test]
    fn unknown_helper_is_reported() {
        let err = render("a: {{shout v}}\n", json!({"v": "x"})).unwrap_err();
        assert!(err.message.contains("unknown helper `shout`"), "{err}");
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn helpers_work() {
        let ctx = json!({"list": ["a", "b"], "m": {"k": [1, 2]}, "e": "", "s": "Hi"});
        let out = render(
            "{{join list \",\"}} {{default e \"d\"}} {{lower s}} {{upper s}} {{b64enc s}} {{quote 5}}\nm:{{nindent 2 (toYaml m)}}\nh: {{lookup (host \"hanaakari\") \"lanAddress\"}}\n{{#each (hosts_with_role \"ingress\")}}i: {{name}}{{/each}}\n{{#if (and (eq s \"Hi\") (ne s \"x\"))}}yes{{/if}}",
            ctx,
        )
        .unwrap();
        assert_eq!(
            out,
            "\"a,b\" d hi HI SGk= \"5\"\nm:\n  k:\n  - 1\n  - 2\nh: \"192.168.10.22\"\ni: hanaakari\nyes"
        );
    }

    #[test]
    fn required_reports_its_message() {
        let err = render("a: {{required missing \"set values.x\"}}", json!({})).unwrap_err();
        assert!(err.message.contains("set values.x"), "{err}");
        let err = render("a: {{host \"nope\"}}", json!({})).unwrap_err();
        assert!(err.message.contains("no host `nope`"), "{err}");
    }
}
