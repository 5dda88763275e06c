//! An environment's `values` (files, `.gotmpl` files, inline maps) and `secrets`
//! (helm-secrets files, whose key paths mark values whose plaintext import never sees).

use serde_json::Value;

use super::{parse_yaml, read_in_tree, EnvState};
use crate::import::gotmpl;
use crate::import::report::{Located, Report};
use crate::import::secrets::sops_key_paths;
use crate::import::tree::Tree;
use crate::render::values::merge;

pub(super) fn load_environment(
    tree: &Tree,
    file: &str,
    line: usize,
    env: &Value,
    state: &mut EnvState,
    report: &mut Report,
) {
    if let Some(values) = env.get("values") {
        add_values(tree, file, line, values, state, report);
    }
    for secret in env
        .get("secrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(path) = secret.as_str() else {
            report.step(file, line, "an environment's secrets entry must be a path");
            continue;
        };
        match tree.resolve(file, line, path).and_then(|p| {
            let text = tree.read(file, line, &p)?;
            Ok((p, text))
        }) {
            Ok((p, text)) => match sops_key_paths(&text) {
                Ok(paths) => {
                    state.secret_paths.extend(paths);
                    state.secrets_files.push(p);
                }
                Err(why) => report.step(file, line, format!("`{p}` {why}")),
            },
            Err(e) => report.steps.push(e),
        }
    }
    if let Some(context) = env.get("kubeContext").and_then(Value::as_str) {
        state.kube_context = Some(context.to_string());
    }
}

/// Merges a `values:` list (files, `.gotmpl` files or inline maps) into the state values.
pub(super) fn add_values(
    tree: &Tree,
    file: &str,
    line: usize,
    values: &Value,
    state: &mut EnvState,
    report: &mut Report,
) {
    for entry in values.as_array().into_iter().flatten() {
        let layer = match entry {
            Value::Object(_) => Ok(entry.clone()),
            Value::String(path) => values_file(tree, file, line, path, state),
            _ => Err(Located::new(
                file,
                line,
                "a values entry must be a path or a map",
            )),
        };
        match layer {
            Ok(layer) => merge(&mut state.values, layer),
            Err(e) => report.steps.push(e),
        }
    }
}

fn values_file(
    tree: &Tree,
    file: &str,
    line: usize,
    path: &str,
    state: &EnvState,
) -> Result<Value, Located> {
    let path = tree.resolve(file, line, path)?;
    let text = tree.read(file, line, &path)?;
    let text = if path.ends_with(".gotmpl") {
        let read = |p: &str| read_in_tree(tree, &path, p);
        gotmpl::render(&text, &state.scope(&read))
            .map_err(|e| Located::new(&path, e.line, format!("not translated: {}", e.message)))?
    } else {
        text
    };
    parse_yaml(&text)
        .map_err(|(l, m)| Located::new(&path, l.unwrap_or(1), format!("not valid YAML: {m}")))
}
