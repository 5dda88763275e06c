//! The template helpers: what values and manifests need beyond plain lookups.
//!
//! Value helpers (`default`, `b64enc`, `join`, `lower`, `upper`, `host`, …) return data,
//! so `{{lower x}}` prints through the typed output like any `{{x}}`. Fragment helpers
//! (`toYaml`, `indent`, `nindent`, `quote`) produce YAML text and write it unescaped: they
//! are the explicit way to emit raw YAML. `eq`, `ne`, `and`, `or`, `not` are handlebars'
//! built-ins.

use base64::Engine as _;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, RenderContext,
    RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::Value;

use super::typed_output::{self, Quoting};
use super::yaml;
use super::yaml_scalar::double_quoted;

/// The names [`register`] registers.
pub(crate) const NAMES: &[&str] = &[
    "default",
    "required",
    "b64enc",
    "join",
    "lower",
    "upper",
    "toYaml",
    "indent",
    "nindent",
    "quote",
    "host",
    "hosts_with_role",
];

/// Registers every homelab helper; `hosts` is the inventory's host map with `name` added
/// to each host, for `host` and `hosts_with_role`.
pub(crate) fn register(registry: &mut Handlebars<'_>, hosts: Value) {
    let value = |f: HelperFn| {
        Box::new(FnHelper {
            f,
            raw: false,
            hosts: Value::Null,
        })
    };
    let fragment = |f: HelperFn| {
        Box::new(FnHelper {
            f,
            raw: true,
            hosts: Value::Null,
        })
    };
    registry.register_helper("default", value(default));
    registry.register_helper("required", value(required));
    registry.register_helper("b64enc", value(b64enc));
    registry.register_helper("join", value(join));
    registry.register_helper("lower", value(|a| Ok(text(a, 0)?.to_lowercase().into())));
    registry.register_helper("upper", value(|a| Ok(text(a, 0)?.to_uppercase().into())));
    registry.register_helper("toYaml", fragment(to_yaml));
    registry.register_helper("indent", fragment(|a| indent(a, false)));
    registry.register_helper("nindent", fragment(|a| indent(a, true)));
    registry.register_helper(
        "quote",
        fragment(|a| Ok(double_quoted(&text(a, 0)?).into())),
    );
    registry.register_helper(
        "host",
        Box::new(FnHelper {
            f: host,
            raw: false,
            hosts: hosts.clone(),
        }),
    );
    registry.register_helper(
        "hosts_with_role",
        Box::new(FnHelper {
            f: hosts_with_role,
            raw: false,
            hosts,
        }),
    );
}

/// A helper's arguments: each the value, or `Err(path)` when the template named a
/// variable the context does not have.
struct Args<'a> {
    name: &'a str,
    params: Vec<Result<&'a Value, String>>,
    hosts: &'a Value,
}

type HelperFn = fn(&Args<'_>) -> Result<Value, String>;

struct FnHelper {
    f: HelperFn,
    raw: bool,
    hosts: Value,
}

impl FnHelper {
    fn evaluate(&self, h: &Helper<'_>) -> Result<Value, RenderError> {
        let params = h
            .params()
            .iter()
            .map(|p| {
                if p.is_value_missing() {
                    Err(p.relative_path().cloned().unwrap_or_else(|| "?".into()))
                } else {
                    Ok(p.value())
                }
            })
            .collect();
        let args = Args {
            name: h.name(),
            params,
            hosts: &self.hosts,
        };
        (self.f)(&args).map_err(|message| {
            RenderErrorReason::Other(format!("helper `{}`: {message}", h.name())).into()
        })
    }
}

impl HelperDef for FnHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        self.evaluate(h).map(ScopedJson::Derived)
    }

    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = self.evaluate(h)?;
        if self.raw || rc.is_disable_escape() {
            out.write(&value.render())?;
        } else {
            let shown = format!("the result of `{}`", h.name());
            out.write(&typed_output::print(Quoting::Plain, &value, &shown)?)?;
        }
        Ok(())
    }
}

fn arg<'a>(args: &Args<'a>, index: usize) -> Result<&'a Value, String> {
    match args.params.get(index) {
        Some(Ok(v)) => Ok(v),
        Some(Err(path)) => Err(format!("variable `{path}` is missing")),
        None => Err(format!(
            "`{}` needs at least {} argument(s)",
            args.name,
            index + 1
        )),
    }
}

fn text(args: &Args<'_>, index: usize) -> Result<String, String> {
    let value = arg(args, index)?;
    match value {
        Value::Object(_) | Value::Array(_) => Err(format!(
            "argument {} is a {}, expected text",
            index + 1,
            kind(value)
        )),
        other => Ok(other.render()),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn is_empty(value: &Value) -> bool {
    matches!(value, Value::Null) || value.as_str() == Some("")
}

/// `default VALUE FALLBACK`: VALUE unless it is missing, null or empty text.
fn default(args: &Args<'_>) -> Result<Value, String> {
    let fallback = arg(args, 1)?;
    Ok(match args.params.first() {
        Some(Ok(v)) if !is_empty(v) => (*v).clone(),
        _ => fallback.clone(),
    })
}

/// `required VALUE "message"`: VALUE, or the message as the error.
fn required(args: &Args<'_>) -> Result<Value, String> {
    let message = text(args, 1)?;
    match args.params.first() {
        Some(Ok(v)) if !is_empty(v) => Ok((*v).clone()),
        Some(Err(path)) => Err(format!("{message} (`{path}` is missing)")),
        _ => Err(message),
    }
}

fn b64enc(args: &Args<'_>) -> Result<Value, String> {
    Ok(base64::engine::general_purpose::STANDARD
        .encode(text(args, 0)?)
        .into())
}

/// `join LIST SEPARATOR`.
fn join(args: &Args<'_>) -> Result<Value, String> {
    let Value::Array(items) = arg(args, 0)? else {
        return Err("the first argument must be a list".into());
    };
    let separator = text(args, 1)?;
    Ok(items
        .iter()
        .map(JsonRender::render)
        .collect::<Vec<_>>()
        .join(&separator)
        .into())
}

fn to_yaml(args: &Args<'_>) -> Result<Value, String> {
    let value = arg(args, 0)?;
    Ok(yaml::to_yaml(value)
        .trim_end_matches('\n')
        .to_string()
        .into())
}

/// `indent N TEXT` / `nindent N TEXT`: every line of TEXT indented by N spaces.
fn indent(args: &Args<'_>, leading_newline: bool) -> Result<Value, String> {
    let width = arg(args, 0)?
        .as_u64()
        .ok_or("the first argument must be a number of spaces")?;
    let pad = " ".repeat(width as usize);
    let body = text(args, 1)?;
    let indented: Vec<String> = body.lines().map(|l| format!("{pad}{l}")).collect();
    let joined = indented.join("\n");
    Ok(if leading_newline {
        format!("\n{joined}")
    } else {
        joined
    }
    .into())
}

/// `host NAME`: the inventory host with that name (its fields plus `name`).
fn host(args: &Args<'_>) -> Result<Value, String> {
    let name = text(args, 0)?;
    args.hosts.get(&name).cloned().ok_or_else(|| {
        let known: Vec<&str> = args
            .hosts
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        format!(
            "no host `{name}` in the inventory; hosts are: {}",
            known.join(", ")
        )
    })
}

/// `hosts_with_role ROLE`: the hosts holding ROLE, sorted by name.
fn hosts_with_role(args: &Args<'_>) -> Result<Value, String> {
    let role = text(args, 0)?;
    let valid = crate::inventory::model::Role::ALL.map(|r| r.as_str());
    if !valid.contains(&role.as_str()) {
        return Err(format!(
            "unknown role `{role}`; roles are: {}",
            valid.join(", ")
        ));
    }
    let hosts = args.hosts.as_object().into_iter().flat_map(|m| m.values());
    let with_role = hosts
        .filter(|h| {
            h.get("roles")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(role.as_str())))
        })
        .cloned()
        .collect();
    Ok(Value::Array(with_role))
}
