//! One Helmfile release entry as one environment sees it: its chart, its values as an
//! ordered list of layers (files, evaluated `.gotmpl` files, inline maps, secret options,
//! `set`), and whether it is installed there.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::gotmpl::{self, Scope};
use super::helmfile::{read_in_tree, EnvState, ReleaseEntry};
use super::report::{Located, Report};
use super::secrets::{map_secrets, sops_key_paths, SecretMapping};
use super::set_key;
use super::tree::Tree;

/// Where the chart comes from, as our `[chart]` table will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Chart {
    Repository {
        repository: String,
        name: String,
        version: String,
    },
    /// A chart folder, relative to the tree.
    Local(String),
}

/// One values layer; layers are compared by kind, name and content across environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Layer {
    /// The file name it will have (before de-duplication).
    pub hint: String,
    pub content: String,
    /// A template import did not translate: kept as a file, not used as values.
    pub untranslated: bool,
}

/// A release in one environment.
#[derive(Debug, Clone)]
pub(super) struct EnvRelease {
    pub name: String,
    pub namespace: String,
    pub chart: Chart,
    pub layers: Vec<Layer>,
    /// Value paths that come from helm-secrets files, and those files.
    pub secret_paths: BTreeSet<String>,
    pub secrets_files: Vec<String>,
    pub mapping: SecretMapping,
    pub needs: Vec<String>,
    pub file: String,
    pub line: usize,
}

/// Fields that change how Helm runs rather than what it renders.
const RUN_OPTIONS: &[&str] = &[
    "wait",
    "waitForJobs",
    "timeout",
    "atomic",
    "force",
    "recreatePods",
    "historyMax",
    "cleanupOnFail",
    "skipDeps",
    "verify",
    "devel",
    "kubeContext",
    "missingFileHandler",
];

/// The release as `state`'s environment sees it; `None` when it is not installed there
/// or cannot be imported (the reason is in `report`).
pub(super) fn read(
    tree: &Tree,
    entry: &ReleaseEntry,
    state: &EnvState,
    report: &mut Report,
) -> Option<EnvRelease> {
    let (file, line) = (entry.file.as_str(), entry.line);
    let f = &entry.fields;
    let text = |k: &str| f.get(k).and_then(Value::as_str);
    let Some(name) = text("name") else {
        report.step(file, line, "a release without `name` is not imported");
        return None;
    };
    if let Err(why) = crate::names::check_dns_label(name) {
        report.step(
            file,
            line,
            format!("release `{name}` is not imported: a release name {why}"),
        );
        return None;
    }
    if !installed(entry, state, report) {
        return None;
    }
    let namespace = text("namespace").unwrap_or_else(|| {
        report.note(
            file,
            line,
            format!("release `{name}` has no namespace: imported into `default`"),
        );
        "default"
    });
    let chart = chart(tree, entry, state, report)?;
    let mut release = EnvRelease {
        name: name.to_string(),
        namespace: namespace.to_string(),
        chart,
        layers: Vec::new(),
        secret_paths: BTreeSet::new(),
        secrets_files: Vec::new(),
        mapping: SecretMapping::default(),
        needs: Vec::new(),
        file: file.to_string(),
        line,
    };
    for (key, value) in f {
        match key.as_str() {
            "name" | "namespace" | "chart" | "version" | "installed" | "condition" | "set" | "setString" | "secrets" => {}
            "values" => values(tree, entry, state, value, &mut release, report),
            "needs" => release.needs = needs(value),
            "createNamespace" => {
                if value.as_bool() == Some(false) {
                    report.note(file, line, format!("release `{name}`: homelab creates the namespace `{namespace}` itself (createNamespace: false is not carried over)"));
                }
            }
            "labels" => report.note(file, line, format!("release `{name}`: labels are not carried over (homelab selects releases with `-l name={name}`)")),
            k if RUN_OPTIONS.contains(&k) => report.note(file, line, format!("release `{name}`: `{k}` is a Helm run option; homelab waits for readiness itself")),
            other => report.step(file, line, format!("release `{name}`: `{other}` is not imported; carry it over by hand")),
        }
    }
    secrets(tree, entry, &mut release, report);
    let chart_name = match &release.chart {
        Chart::Repository { name, .. } => name.clone(),
        Chart::Local(dir) => dir.rsplit('/').next().unwrap_or(dir).to_string(),
    };
    release.mapping = map_secrets(&release.name, &chart_name, &release.secret_paths);
    if let Some(values) = &release.mapping.values {
        release.layers.push(Layer {
            hint: "values-secrets.yaml".into(),
            content: crate::render::yaml::to_yaml(values),
            untranslated: false,
        });
    }
    set_layer(tree, entry, &mut release, report);
    Some(release)
}

fn installed(entry: &ReleaseEntry, state: &EnvState, report: &mut Report) -> bool {
    let f = &entry.fields;
    let off = |v: &Value| v.as_bool() == Some(false) || v.as_str() == Some("false");
    if f.get("installed").is_some_and(off) {
        let name = f.get("name").and_then(Value::as_str).unwrap_or("");
        report.note(&entry.file, entry.line, format!("release `{name}` has `installed: false`: left out (delete what Helm installed with `helm uninstall {name}`)"));
        return false;
    }
    let Some(condition) = f.get("condition").and_then(Value::as_str) else {
        return true;
    };
    let mut at = Some(&entry.values);
    for key in condition.split('.') {
        at = at.and_then(|v| v.get(key));
    }
    match at.and_then(Value::as_bool) {
        Some(on) => on,
        None => {
            report.step(&entry.file, entry.line, format!("condition `{condition}` is not a boolean in environment `{}`; the release is left out there", state.name));
            false
        }
    }
}

fn chart(
    tree: &Tree,
    entry: &ReleaseEntry,
    state: &EnvState,
    report: &mut Report,
) -> Option<Chart> {
    let (file, line) = (entry.file.as_str(), entry.line);
    let Some(chart) = entry.fields.get("chart").and_then(Value::as_str) else {
        report.step(file, line, "a release without `chart` is not imported");
        return None;
    };
    let local = chart.starts_with("./")
        || chart.starts_with("../")
        || chart.starts_with('/')
        || tree
            .resolve(file, line, chart)
            .is_ok_and(|p| tree.is_dir(&p));
    if local {
        return match tree.resolve(file, line, chart) {
            Ok(p) if tree.is_dir(&p) => Some(Chart::Local(p)),
            Ok(p) => {
                report.step(file, line, format!("the local chart `{p}` is not a folder"));
                None
            }
            Err(e) => {
                report.steps.push(e);
                None
            }
        };
    }
    let (repository, name) = if let Some(rest) = chart.strip_prefix("oci://") {
        let (repo, name) = rest.rsplit_once('/')?;
        (format!("oci://{repo}"), name.to_string())
    } else {
        let Some((repo, name)) = chart.split_once('/') else {
            report.step(
                file,
                line,
                format!("chart `{chart}` names no repository (`repo/name`)"),
            );
            return None;
        };
        let Some(r) = state.repositories.iter().find(|r| r.name == repo) else {
            report.step(
                file,
                line,
                format!("chart `{chart}`: no repository `{repo}` in `repositories`"),
            );
            return None;
        };
        (r.url.clone(), name.to_string())
    };
    let version = entry.fields.get("version").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let version = match version {
        Some(v) if semver::Version::parse(v.trim_start_matches('v')).is_ok() => v,
        Some(v) => {
            report.step(file, line, format!("chart `{chart}` version `{v}` is a range; homelab pins exact versions: write one in release.toml"));
            v
        }
        None => {
            report.step(file, line, format!("chart `{chart}` has no version; homelab pins exact versions: write one in release.toml"));
            String::new()
        }
    };
    Some(Chart::Repository {
        repository,
        name,
        version,
    })
}

fn values(
    tree: &Tree,
    entry: &ReleaseEntry,
    state: &EnvState,
    list: &Value,
    release: &mut EnvRelease,
    report: &mut Report,
) {
    let (file, line) = (entry.file.as_str(), entry.line);
    for item in list.as_array().into_iter().flatten() {
        match item {
            Value::Object(_) => release.layers.push(Layer {
                hint: "values-inline.yaml".into(),
                content: crate::render::yaml::to_yaml(item),
                untranslated: false,
            }),
            Value::String(path) => match values_file(tree, entry, state, path, release) {
                Ok(layer) => release.layers.push(layer),
                Err((e, layer)) => {
                    report.steps.push(e);
                    release.layers.extend(layer);
                }
            },
            _ => report.step(file, line, "a values entry must be a path or a map"),
        }
    }
}

/// A values file as a layer; a `.gotmpl` file is evaluated, or kept untranslated with
/// the reason.
fn values_file(
    tree: &Tree,
    entry: &ReleaseEntry,
    state: &EnvState,
    path: &str,
    release: &EnvRelease,
) -> Result<Layer, (Located, Option<Layer>)> {
    let (file, line) = (entry.file.as_str(), entry.line);
    let path = tree.resolve(file, line, path).map_err(|e| (e, None))?;
    let text = tree.read(file, line, &path).map_err(|e| (e, None))?;
    let base = path.rsplit('/').next().unwrap_or(&path).to_string();
    let Some(stem) = base.strip_suffix(".gotmpl") else {
        return Ok(Layer {
            hint: base,
            content: text,
            untranslated: false,
        });
    };
    let read = |p: &str| read_in_tree(tree, &path, p);
    let scope = Scope {
        env_name: &state.name,
        values: &entry.values,
        secret_paths: &state.secret_paths,
        release: Some((&release.name, &release.namespace)),
        read_file: &read,
    };
    match gotmpl::render(&text, &scope) {
        Ok(content) => Ok(Layer {
            hint: stem.to_string(),
            content,
            untranslated: false,
        }),
        Err(e) => {
            let message = format!("not translated, kept as releases/{}/untranslated/{base} and left out of the values: {}", release.name, e.message);
            let marked = format!("# homelab import: NOT TRANSLATED ({path}:{}: {}).\n# Translate it into a values file of this release by hand.\n{text}", e.line, e.message);
            Err((
                Located::new(&path, e.line, message),
                Some(Layer {
                    hint: base,
                    content: marked,
                    untranslated: true,
                }),
            ))
        }
    }
}

fn needs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
        .collect()
}

fn secrets(tree: &Tree, entry: &ReleaseEntry, release: &mut EnvRelease, report: &mut Report) {
    let (file, line) = (entry.file.as_str(), entry.line);
    for item in entry
        .fields
        .get("secrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(path) = item.as_str() else {
            report.step(file, line, "a secrets entry must be a path");
            continue;
        };
        let found = tree
            .resolve(file, line, path)
            .and_then(|p| Ok((tree.read(file, line, &p)?, p)));
        match found {
            Ok((text, p)) => match sops_key_paths(&text) {
                Ok(paths) => {
                    release.secret_paths.extend(paths);
                    release.secrets_files.push(p);
                }
                Err(why) => report.step(file, line, format!("`{p}` {why}")),
            },
            Err(e) => report.steps.push(e),
        }
    }
}

/// `set` and `setString` as one values layer, after every other.
fn set_layer(tree: &Tree, entry: &ReleaseEntry, release: &mut EnvRelease, report: &mut Report) {
    let (file, line) = (entry.file.as_str(), entry.line);
    let mut values = Value::Object(Map::new());
    for (key, as_string) in [("set", false), ("setString", true)] {
        for item in entry
            .fields
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = item.get("name").and_then(Value::as_str) else {
                report.step(file, line, format!("a `{key}` entry needs `name`"));
                continue;
            };
            let steps = match set_key::parse(name) {
                Ok(steps) => steps,
                Err(why) => {
                    report.step(file, line, format!("`{key}` name `{name}` {why}"));
                    continue;
                }
            };
            let value = if let Some(v) = item.get("value") {
                v.clone()
            } else if let Some(v) = item.get("values") {
                v.clone()
            } else if let Some(path) = item.get("file").and_then(Value::as_str) {
                match tree
                    .resolve(file, line, path)
                    .and_then(|p| tree.read(file, line, &p))
                {
                    Ok(text) => Value::String(text),
                    Err(e) => {
                        report.steps.push(e);
                        continue;
                    }
                }
            } else {
                report.step(file, line, format!("`{key}` `{name}` has no value"));
                continue;
            };
            let value = match (as_string, value) {
                (true, Value::String(s)) => Value::String(s),
                (true, other) => Value::String(other.to_string()),
                (false, v) => v,
            };
            set_key::set(&mut values, &steps, value);
        }
    }
    if values.as_object().is_some_and(|m| !m.is_empty()) {
        release.layers.push(Layer {
            hint: "values-set.yaml".into(),
            content: crate::render::yaml::to_yaml(&values),
            untranslated: false,
        });
    }
}
