//! Reading a Helmfile into one state per environment: `---` parts rendered in order
//! (each sees the values of the parts before it), `bases` layered first, nested
//! `helmfiles:` loaded with the same environment, environment `values` and `secrets`.
//!
//! A helmfile.yaml is itself a Go template; [`super::gotmpl`] evaluates the common
//! subset, and a part it cannot translate is skipped and reported with its line.

mod environment;
mod nested;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::gotmpl::{self, Scope};
use super::report::Report;
use super::tree::Tree;
use environment::{add_values, load_environment};
use nested::load_nested;

/// Nested `helmfiles:` and `bases` deeper than this are refused (a cycle otherwise loops).
const MAX_DEPTH: usize = 8;

/// A chart repository; `url` carries `oci://` for OCI registries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Repository {
    pub name: String,
    pub url: String,
}

/// One release entry as written, with where it was written.
#[derive(Debug, Clone)]
pub(super) struct ReleaseEntry {
    pub fields: Map<String, Value>,
    /// The helmfile it is in, relative to the tree; its paths are relative to this file.
    pub file: String,
    pub line: usize,
    /// The state values its helmfile saw (nested helmfiles may be given their own).
    pub values: Value,
}

/// A Helmfile as seen from one environment.
#[derive(Debug, Clone, Default)]
pub(super) struct EnvState {
    pub name: String,
    pub values: Value,
    pub secret_paths: BTreeSet<String>,
    /// The environment's helm-secrets files, relative to the tree.
    pub secrets_files: Vec<String>,
    pub kube_context: Option<String>,
    pub repositories: Vec<Repository>,
    pub helm_defaults: Map<String, Value>,
    pub releases: Vec<ReleaseEntry>,
}

impl EnvState {
    /// What a Go template of this environment sees outside a release, `readFile` going
    /// through `read_file`.
    fn scope<'a>(&'a self, read_file: &'a dyn Fn(&str) -> Result<String, String>) -> Scope<'a> {
        Scope {
            env_name: &self.name,
            values: &self.values,
            secret_paths: &self.secret_paths,
            release: None,
            read_file,
        }
    }
}

/// The environments a Helmfile declares (`default` when it declares none).
pub(super) fn environment_names(tree: &Tree, file: &str) -> Vec<String> {
    let mut names = Vec::new();
    collect_env_names(tree, file, 0, &mut names);
    if names.is_empty() {
        names.push("default".into());
    }
    names
}

fn collect_env_names(tree: &Tree, file: &str, depth: usize, names: &mut Vec<String>) {
    let Ok(text) = tree.read(file, 1, file) else {
        return;
    };
    let empty = Value::Object(Map::new());
    let none = BTreeSet::new();
    let no_files = |_: &str| Err("not while listing environments".to_string());
    for (_, part) in parts(&text) {
        let scope = Scope {
            env_name: "default",
            values: &empty,
            secret_paths: &none,
            release: None,
            read_file: &no_files,
        };
        let Some(Value::Object(doc)) = gotmpl::render(part, &scope)
            .ok()
            .and_then(|t| parse_yaml(&t).ok())
        else {
            continue;
        };
        if let Some(Value::Object(envs)) = doc.get("environments") {
            for name in envs.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        for base in doc
            .get("bases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(b), true) = (base.as_str(), depth < MAX_DEPTH) {
                if let Ok(path) = tree.resolve(file, 1, b) {
                    collect_env_names(tree, &path, depth + 1, names);
                }
            }
        }
    }
}

/// The `---`-separated parts of a helmfile and the line each starts on.
fn parts(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut pos = 0;
    for (line_no, line) in (1..).zip(text.split_inclusive('\n')) {
        if line.trim_end() == "---" {
            out.push((start_line, &text[start..pos]));
            start = pos + line.len();
            start_line = line_no + 1;
        }
        pos += line.len();
    }
    out.push((start_line, &text[start..]));
    out
}

/// YAML with merge keys (`<<: *defaults`, common in Helmfiles) applied.
pub(super) fn parse_yaml(text: &str) -> Result<Value, (Option<usize>, String)> {
    let mut doc: serde_norway::Value = serde_norway::from_str(text)
        .map_err(|e| (e.location().map(|l| l.line()), e.to_string()))?;
    doc.apply_merge().map_err(|e| (None, e.to_string()))?;
    let value = serde_json::to_value(doc).map_err(|e| (None, e.to_string()))?;
    Ok(if value.is_null() {
        Value::Object(Map::new())
    } else {
        value
    })
}

/// The 1-based line of the first line in `text` containing `needle`, else `fallback`.
pub(super) fn line_of(text: &str, needle: &str, fallback: usize) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(fallback, |i| i + 1)
}

/// Loads the Helmfile at `file` as environment `env` sees it.
pub(super) fn load(tree: &Tree, file: &str, env: &str, report: &mut Report) -> EnvState {
    let mut state = EnvState {
        name: env.to_string(),
        values: Value::Object(Map::new()),
        ..EnvState::default()
    };
    load_file(tree, file, &mut state, 0, report);
    state
}

fn load_file(tree: &Tree, file: &str, state: &mut EnvState, depth: usize, report: &mut Report) {
    if depth > MAX_DEPTH {
        report.step(
            file,
            1,
            format!("helmfiles and bases nest deeper than {MAX_DEPTH}; is there a cycle?"),
        );
        return;
    }
    let text = match tree.read(file, 1, file) {
        Ok(t) => t,
        Err(e) => return report.steps.push(e),
    };
    for (first_line, part) in parts(&text) {
        let read = |p: &str| read_in_tree(tree, file, p);
        let scope = state.scope(&read);
        let rendered = match gotmpl::render(part, &scope) {
            Ok(r) => r,
            Err(e) => {
                report.step(file, first_line + e.line - 1, format!("this part of the helmfile is a template import does not translate, so its releases are not imported: {}", e.message));
                continue;
            }
        };
        let doc = match parse_yaml(&rendered) {
            Ok(Value::Object(doc)) => doc,
            Ok(_) => {
                report.step(file, first_line, "expected a map of helmfile keys");
                continue;
            }
            Err((line, message)) => {
                report.step(
                    file,
                    first_line + line.unwrap_or(1) - 1,
                    format!("not valid YAML: {message}"),
                );
                continue;
            }
        };
        load_part(tree, file, part, first_line, doc, state, depth, report);
    }
}

#[allow(clippy::too_many_arguments)] // One part's context: splitting it up would only hide it.
fn load_part(
    tree: &Tree,
    file: &str,
    text: &str,
    first_line: usize,
    doc: Map<String, Value>,
    state: &mut EnvState,
    depth: usize,
    report: &mut Report,
) {
    let at = |needle: &str| first_line + line_of(text, needle, 1) - 1;
    for (key, value) in doc {
        let line = at(&format!("{key}:"));
        match key.as_str() {
            "bases" => {
                for base in value.as_array().into_iter().flatten() {
                    match base.as_str().map(|b| tree.resolve(file, line, b)) {
                        Some(Ok(path)) => load_file(tree, &path, state, depth + 1, report),
                        Some(Err(e)) => report.steps.push(e),
                        None => report.step(file, line, "a base must be a path"),
                    }
                }
            }
            "environments" => {
                if let Some(env) = value.get(&state.name) {
                    load_environment(tree, file, line, env, state, report);
                }
            }
            "values" => add_values(tree, file, line, &value, state, report),
            "repositories" => {
                for repo in value.as_array().into_iter().flatten() {
                    match repository(repo) {
                        Some(r) => state.repositories.push(r),
                        None => report.step(file, line, "a repository needs `name` and `url`"),
                    }
                }
            }
            "helmDefaults" => {
                if let Value::Object(defaults) = value {
                    for key in defaults.keys().filter(|k| !["kubeContext", "createNamespace"].contains(&k.as_str())) {
                        report.note(file, line, format!("`helmDefaults.{key}` is a Helm run option and is not carried over; homelab waits for readiness itself"));
                    }
                    state.helm_defaults.extend(defaults);
                }
            }
            "releases" => {
                for release in value.as_array().into_iter().flatten() {
                    let Value::Object(fields) = release else {
                        report.step(file, line, "a release must be a map");
                        continue;
                    };
                    let name = fields.get("name").and_then(Value::as_str).unwrap_or("");
                    state.releases.push(ReleaseEntry {
                        line: at(&format!("name: {name}")),
                        fields: fields.clone(),
                        file: file.to_string(),
                        values: state.values.clone(),
                    });
                }
            }
            "helmfiles" => load_nested(tree, file, line, &value, state, depth, report),
            "templates" => {}
            "commonLabels" => report.note(file, line, "`commonLabels` are not carried over: homelab selects releases by name"),
            other => report.step(file, line, format!("`{other}` is not imported; carry it over by hand (hooks are never run by homelab)")),
        }
    }
}

fn repository(repo: &Value) -> Option<Repository> {
    let name = repo.get("name")?.as_str()?;
    let url = repo.get("url")?.as_str()?.trim_end_matches('/');
    let oci = repo.get("oci").and_then(Value::as_bool) == Some(true);
    let url = if oci && !url.starts_with("oci://") {
        format!("oci://{url}")
    } else {
        url.to_string()
    };
    Some(Repository {
        name: name.to_string(),
        url,
    })
}

pub(super) fn read_in_tree(tree: &Tree, from: &str, path: &str) -> Result<String, String> {
    let resolved = tree.resolve(from, 1, path).map_err(|e| e.message)?;
    std::fs::read_to_string(tree.path(&resolved)).map_err(|e| format!("cannot read `{path}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_split_on_document_markers() {
        let p = parts("a: 1\n---\nb: 2\n---\n");
        assert_eq!(p, vec![(1, "a: 1\n"), (3, "b: 2\n"), (5, "")]);
    }

    #[test]
    fn merge_keys_apply() {
        let v = parse_yaml("t: &d {a: 1}\nx:\n  <<: *d\n  b: 2\n").unwrap();
        assert_eq!(v["x"], serde_json::json!({"a": 1, "b": 2}));
    }
}
