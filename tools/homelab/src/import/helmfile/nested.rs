//! Nested `helmfiles:` entries (paths, globs, or maps with `path` and `values`),
//! each loaded with the environment and values of the Helmfile that names it.

use serde_json::Value;

use super::environment::add_values;
use super::{load_file, EnvState};
use crate::import::glob;
use crate::import::report::Report;
use crate::import::tree::Tree;

pub(super) fn load_nested(
    tree: &Tree,
    file: &str,
    line: usize,
    list: &Value,
    state: &mut EnvState,
    depth: usize,
    report: &mut Report,
) {
    for entry in list.as_array().into_iter().flatten() {
        let (path, values) = match entry {
            Value::String(p) => (p.as_str(), None),
            Value::Object(m) => match m.get("path").and_then(Value::as_str) {
                Some(p) => (p, m.get("values")),
                None => {
                    report.step(file, line, "a `helmfiles` entry needs `path`");
                    continue;
                }
            },
            _ => {
                report.step(file, line, "a `helmfiles` entry must be a path or a map");
                continue;
            }
        };
        let resolved = match glob::is_glob(path) {
            true => glob::expand(tree, file, line, path),
            false => tree.resolve(file, line, path).map(|p| vec![p]),
        };
        let nested_paths = match resolved {
            Ok(paths) => paths,
            Err(e) => {
                report.steps.push(e);
                continue;
            }
        };
        for nested_path in nested_paths {
            load_one_nested(
                tree,
                (file, line),
                &nested_path,
                values,
                state,
                depth,
                report,
            );
        }
    }
}

/// One nested Helmfile, named at `at` (file, line), with the `values` its entry passes down.
fn load_one_nested(
    tree: &Tree,
    (file, line): (&str, usize),
    nested_path: &str,
    values: Option<&Value>,
    state: &mut EnvState,
    depth: usize,
    report: &mut Report,
) {
    let mut nested = EnvState {
        name: state.name.clone(),
        values: state.values.clone(),
        secret_paths: state.secret_paths.clone(),
        ..EnvState::default()
    };
    if let Some(values) = values {
        add_values(tree, file, line, values, &mut nested, report);
    }
    load_file(tree, nested_path, &mut nested, depth + 1, report);
    state.repositories.extend(nested.repositories);
    state.releases.extend(nested.releases);
}
