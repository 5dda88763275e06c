//! One release.toml from a release's per-environment forms: the values layers every
//! environment shares (the longest common prefix, so the merge order stays Helmfile's)
//! become `values`, the rest of each environment's list its overlay.

use indexmap::IndexMap;

use super::release::{Chart, EnvRelease, Layer};
use super::report::{ImportedRelease, Report};
use super::tree::Tree;
use super::PlannedFile;
use crate::release::model::{ChartSource, Overlay, Release};

/// The release folder's files (relative to the lab root) for one release, given its form
/// in each environment it is installed in, out of `all_envs`.
pub(super) fn combine(
    tree: &Tree,
    forms: &[(String, EnvRelease)],
    all_envs: &[String],
    report: &mut Report,
) -> Vec<PlannedFile> {
    let (_, first) = &forms[0];
    let dir = format!("releases/{}", first.name);
    for (env, form) in &forms[1..] {
        if form.chart != first.chart || form.namespace != first.namespace {
            report.step(&form.file, form.line, format!("release `{}` has another chart or namespace in environment `{env}` than in `{}`; homelab keeps one: split it into two releases by hand", first.name, forms[0].0));
        }
    }
    let mut files = Vec::new();
    let mut names = Names::default();
    let usable = |f: &EnvRelease| -> Vec<Layer> {
        f.layers
            .iter()
            .filter(|l| !l.untranslated)
            .cloned()
            .collect()
    };
    let lists: Vec<Vec<Layer>> = forms.iter().map(|(_, f)| usable(f)).collect();
    let shared = common_prefix(&lists);
    let mut values = Vec::new();
    for layer in &lists[0][..shared] {
        let name = names.take(&layer.hint);
        files.push(PlannedFile::new(
            format!("{dir}/{name}"),
            layer.content.clone(),
        ));
        values.push(name);
    }
    let mut overlays = IndexMap::new();
    for ((env, _), list) in forms.iter().zip(&lists) {
        let mut overlay = Vec::new();
        for layer in &list[shared..] {
            let name = names.take(&with_env(&layer.hint, env));
            files.push(PlannedFile::new(
                format!("{dir}/{name}"),
                layer.content.clone(),
            ));
            overlay.push(name);
        }
        if !overlay.is_empty() {
            overlays.insert(env.clone(), Overlay { values: overlay });
        }
    }
    for (_, form) in forms {
        for layer in form.layers.iter().filter(|l| l.untranslated) {
            let path = format!("{dir}/untranslated/{}", layer.hint);
            if !files.iter().any(|f| f.path == path) {
                files.push(PlannedFile::new(path, layer.content.clone()));
            }
        }
    }
    let chart = match &first.chart {
        Chart::Repository {
            repository,
            name,
            version,
        } => ChartSource::Repository {
            repository: repository.clone(),
            name: name.clone(),
            version: version.clone(),
        },
        Chart::Local(chart_dir) => {
            match tree.files_under(&first.file, first.line, chart_dir) {
                Ok(chart_files) => {
                    files.extend(chart_files.into_iter().map(|(p, bytes)| PlannedFile {
                        path: format!("{dir}/chart/{p}"),
                        content: bytes,
                    }))
                }
                Err(e) => report.steps.push(e),
            }
            ChartSource::Local {
                path: "chart".into(),
            }
        }
    };
    let environments: Vec<String> = if forms.len() == all_envs.len() {
        Vec::new()
    } else {
        forms.iter().map(|(e, _)| e.clone()).collect()
    };
    let secrets = secrets(forms, report);
    let release = Release {
        name: first.name.clone(),
        namespace: first.namespace.clone(),
        needs: first.needs.clone(),
        environments: environments.clone(),
        values: values.clone(),
        manifests: Vec::new(),
        chart: Some(chart.clone()),
        overlays: overlays.clone(),
        entrypoints: IndexMap::new(),
        secrets,
    };
    let toml = without_empty(&toml::to_string(&release).unwrap_or_default());
    let header = format!(
        "# Imported from {}:{} by `homelab import helmfile`.\n",
        first.file, first.line
    );
    files.push(PlannedFile::new(
        format!("{dir}/release.toml"),
        format!("{header}{toml}"),
    ));
    report.releases.push(ImportedRelease {
        name: first.name.clone(),
        namespace: first.namespace.clone(),
        chart: match chart {
            ChartSource::Repository {
                repository,
                name,
                version,
            } => format!("{repository} {name} {version}"),
            ChartSource::Local { .. } => format!(
                "local chart from {}",
                match &first.chart {
                    Chart::Local(d) => d.as_str(),
                    Chart::Repository { .. } => "",
                }
            ),
        },
        values: values.len() + overlays.values().map(|o| o.values.len()).sum::<usize>(),
        overlays: overlays.keys().cloned().collect(),
        environments,
    });
    files
}

/// The Secret every environment's form asks for, and the steps to fill it.
fn secrets(
    forms: &[(String, EnvRelease)],
    report: &mut Report,
) -> Vec<crate::release::model::SecretRef> {
    let mut secret = None;
    for (env, form) in forms {
        for file in &form.secrets_files {
            let moves: Vec<String> = form
                .mapping
                .moves
                .iter()
                .map(|(from, to)| format!("`{from}` to `{to}`"))
                .collect();
            if !moves.is_empty() {
                report.step(&form.file, form.line, format!("release `{}`: copy {} from the helm-secrets file `{file}` into `secrets/{env}.yaml` (`homelab secrets decrypt {file}`, then `homelab secrets edit secrets/{env}.yaml`); import never decrypts", form.name, moves.join(", ")));
            }
            for path in &form.mapping.unmapped {
                report.step(&form.file, form.line, format!("release `{}`: chart value `{path}` comes from the helm-secrets file `{file}`; homelab gives charts no secret values: add a `[[secrets]]` Secret and set the chart's existing-secret option for `{path}`", form.name));
            }
        }
        if secret.is_none() {
            secret = form.mapping.secret.clone();
        }
    }
    secret.into_iter().collect()
}

/// The serialised release without the empty lists and tables it has by default, so the
/// file reads like a hand-written one.
fn without_empty(toml: &str) -> String {
    let empty = [
        "needs = []",
        "environments = []",
        "manifests = []",
        "secrets = []",
        "[overlays]",
        "[entrypoints]",
    ];
    let kept: Vec<&str> = toml.lines().filter(|l| !empty.contains(l)).collect();
    let mut out = String::new();
    for line in kept {
        if !(line.is_empty() && (out.is_empty() || out.ends_with("\n\n"))) {
            out.push_str(line);
            out.push('\n');
        }
    }
    format!("{}\n", out.trim_end())
}

fn common_prefix(lists: &[Vec<Layer>]) -> usize {
    let shortest = lists.iter().map(Vec::len).min().unwrap_or(0);
    (0..shortest)
        .find(|&i| lists.iter().any(|l| l[i] != lists[0][i]))
        .unwrap_or(shortest)
}

/// `values.yaml` in `prod` → `values-prod.yaml`.
fn with_env(hint: &str, env: &str) -> String {
    match hint.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-{env}.{ext}"),
        None => format!("{hint}-{env}"),
    }
}

/// File names inside one release folder: safe characters only, never twice.
#[derive(Default)]
struct Names {
    taken: Vec<String>,
}

impl Names {
    fn take(&mut self, hint: &str) -> String {
        let clean: String = hint
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let clean = clean.trim_start_matches('.');
        let clean =
            if clean.is_empty() || ["release.toml", "chart", "untranslated"].contains(&clean) {
                "values.yaml"
            } else {
                clean
            };
        let mut name = clean.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = with_env(clean, &n.to_string());
            n += 1;
        }
        self.taken.push(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(hint: &str, content: &str) -> Layer {
        Layer {
            hint: hint.into(),
            content: content.into(),
            untranslated: false,
        }
    }

    #[test]
    fn shared_prefix_keeps_the_merge_order() {
        let a = vec![
            layer("v.yaml", "a: 1"),
            layer("e.yaml", "b: dev"),
            layer("s.yaml", "c: 1"),
        ];
        let b = vec![
            layer("v.yaml", "a: 1"),
            layer("e.yaml", "b: prod"),
            layer("s.yaml", "c: 1"),
        ];
        assert_eq!(common_prefix(&[a.clone(), b]), 1);
        assert_eq!(common_prefix(&[a.clone(), a]), 3);
    }

    #[test]
    fn names_are_safe_and_unique() {
        let mut names = Names::default();
        assert_eq!(names.take("values.yaml"), "values.yaml");
        assert_eq!(names.take("values.yaml"), "values-2.yaml");
        assert_eq!(names.take("../x y.yaml"), "-x-y.yaml");
        assert_eq!(names.take("release.toml"), "values-3.yaml");
    }
}
