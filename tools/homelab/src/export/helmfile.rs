//! `homelab export helmfile`: the environment as a Helmfile project, the escape hatch to
//! the mainstream tool.
//!
//! Layout under the output folder:
//!
//! ```text
//! helmfile.yaml                   repositories + releases, `needs` from release.toml
//! values/<release>.yaml           the merged, templated values of a chart release
//! manifests/<release>/*.yaml      a manifest-only release's rendered objects (Helmfile
//!                                 turns a folder of manifests into a chart)
//! charts/homelab-secrets/         a tiny chart that makes Secrets from its values
//! secrets/<release>.yaml          values for it: `ref+sops://<file>#/<path>` references
//!                                 that Helmfile resolves (vals) at sync time
//! ```
//!
//! No plaintext is read: secrets stay references into the SOPS file.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::release::model::{ChartSource, Release};
use crate::render::yaml::to_yaml;
use crate::render::{LabInput, RenderedSet};

/// One file of the export, relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExportFile {
    pub path: PathBuf,
    pub content: String,
}

/// What the export needs per release.
pub(crate) struct ReleaseExport<'a> {
    pub release: &'a Release,
    pub dir: &'a Path,
    /// Merged values (chart releases).
    pub values: Value,
}

const SECRETS_CHART: &str = "charts/homelab-secrets";

/// Builds every file of the export. `out` is where they will be written (to make chart
/// and secrets-file paths relative); `manifests` holds the rendered manifest-only
/// releases.
pub(crate) fn export(
    lab: &LabInput<'_>,
    env: &str,
    releases: &[ReleaseExport<'_>],
    manifests: &RenderedSet,
    out: &Path,
) -> Vec<ExportFile> {
    let header =
        format!("# Written by `homelab export helmfile -e {env}`; regenerate rather than edit.\n");
    let mut files = Vec::new();
    let mut repositories: BTreeMap<String, String> = BTreeMap::new();
    let mut entries = Vec::new();
    let secrets_file = lab
        .environments
        .environments
        .get(env)
        .map(|e| lab.root.join(&e.secrets));
    for r in releases {
        let release = r.release;
        let mut entry = Map::new();
        entry.insert("name".into(), json!(release.name));
        entry.insert("namespace".into(), json!(release.namespace));
        entry.insert("createNamespace".into(), json!(true));
        match &release.chart {
            Some(ChartSource::Repository {
                repository,
                name,
                version,
            }) => {
                let repo_name = repositories
                    .entry(repository.clone())
                    .or_insert_with(|| repo_name(repository))
                    .clone();
                entry.insert("chart".into(), json!(format!("{repo_name}/{name}")));
                entry.insert("version".into(), json!(version));
            }
            Some(ChartSource::Local { path }) => {
                entry.insert("chart".into(), json!(relative(&r.dir.join(path), out)));
            }
            None => {
                entry.insert(
                    "chart".into(),
                    json!(format!("./manifests/{}", release.name)),
                );
                files.extend(manifest_files(&release.name, manifests));
            }
        }
        if release.chart.is_some() {
            let path = format!("values/{}.yaml", release.name);
            files.push(ExportFile {
                path: path.clone().into(),
                content: format!("{header}{}", to_yaml(&r.values)),
            });
            entry.insert("values".into(), json!([path]));
        }
        let mut needs: Vec<String> = release
            .needs
            .iter()
            .filter_map(|n| releases.iter().find(|o| &o.release.name == n))
            .map(|o| format!("{}/{}", o.release.namespace, o.release.name))
            .collect();
        if !release.secrets.is_empty() {
            let secrets_release = format!("{}-secrets", release.name);
            needs.push(format!("{}/{secrets_release}", release.namespace));
            let values = secret_values(release, secrets_file.as_deref(), out);
            let path = format!("secrets/{}.yaml", release.name);
            files.push(ExportFile {
                path: path.clone().into(),
                content: format!("{header}{}", to_yaml(&values)),
            });
            entries.push(json!({
                "name": secrets_release,
                "namespace": release.namespace,
                "createNamespace": true,
                "chart": format!("./{SECRETS_CHART}"),
                "values": [path],
            }));
        }
        if !needs.is_empty() {
            entry.insert("needs".into(), json!(needs));
        }
        entries.push(Value::Object(entry));
    }
    if releases.iter().any(|r| !r.release.secrets.is_empty()) {
        files.extend(secrets_chart());
    }
    let repositories: Vec<Value> = repositories
        .iter()
        .map(|(url, name)| match url.strip_prefix("oci://") {
            // Helmfile names OCI registries without the scheme and flags them.
            Some(registry) => json!({"name": name, "url": registry, "oci": true}),
            None => json!({"name": name, "url": url}),
        })
        .collect();
    let mut helmfile = Map::new();
    if !repositories.is_empty() {
        helmfile.insert("repositories".into(), Value::Array(repositories));
    }
    helmfile.insert("releases".into(), Value::Array(entries));
    files.insert(
        0,
        ExportFile {
            path: "helmfile.yaml".into(),
            content: format!("{header}{}", to_yaml(&Value::Object(helmfile))),
        },
    );
    files
}

/// A repository name from its URL: `https://charts.rook.io/release` → `charts-rook-io-release`.
fn repo_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let name: String = rest
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.trim_matches('-')
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn manifest_files(release: &str, set: &RenderedSet) -> Vec<ExportFile> {
    let Some(rendered) = set.releases.iter().find(|r| r.name == release) else {
        return Vec::new();
    };
    rendered
        .objects
        .iter()
        // Secrets come from the secrets release, namespaces from createNamespace.
        .filter(|o| {
            !(o.kind() == "Secret" && o.source.ends_with("[[secrets]]")) && o.kind() != "Namespace"
        })
        .enumerate()
        .map(|(i, o)| ExportFile {
            path: format!(
                "manifests/{release}/{i:02}-{}-{}.yaml",
                o.kind().to_ascii_lowercase(),
                o.name()
            )
            .into(),
            content: format!("# Source: {}\n{}", o.source, to_yaml(&o.body)),
        })
        .collect()
}

fn secret_values(release: &Release, secrets_file: Option<&Path>, out: &Path) -> Value {
    let file = secrets_file.map(|f| relative(f, out)).unwrap_or_default();
    let secrets: Vec<Value> = release
        .secrets
        .iter()
        .map(|s| {
            let data: Map<String, Value> = s
                .data
                .iter()
                .map(|(key, path)| {
                    (
                        key.clone(),
                        json!(format!("ref+sops://{file}#/{}", path.replace('.', "/"))),
                    )
                })
                .collect();
            json!({"name": s.name, "stringData": data})
        })
        .collect();
    json!({ "secrets": secrets })
}

fn secrets_chart() -> Vec<ExportFile> {
    vec![
        ExportFile {
            path: format!("{SECRETS_CHART}/Chart.yaml").into(),
            content: "apiVersion: v2\nname: homelab-secrets\ndescription: Secrets whose values Helmfile resolves from SOPS files (ref+sops://)\nversion: 0.1.0\n".into(),
        },
        ExportFile {
            path: format!("{SECRETS_CHART}/templates/secrets.yaml").into(),
            content: "{{- range .Values.secrets }}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .name }}\ntype: Opaque\nstringData:\n  {{- range $key, $value := .stringData }}\n  {{ $key }}: {{ $value | quote }}\n  {{- end }}\n{{- end }}\n".into(),
        },
    ]
}

/// `target` relative to `base` (both made absolute from the working directory).
fn relative(target: &Path, base: &Path) -> String {
    let absolute = |p: &Path| {
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        normalize(&joined)
    };
    let (target, base) = (absolute(target), absolute(base));
    let common = target
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = base.components().count() - common;
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    for part in target.components().skip(common) {
        out.push(part);
    }
    let text = out.display().to_string();
    if text.starts_with("..") {
        text
    } else {
        format!("./{text}")
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(
            repo_name("https://charts.rook.io/release"),
            "charts-rook-io-release"
        );
        assert_eq!(
            relative(Path::new("/lab/charts/web"), Path::new("/lab/out")),
            "../charts/web"
        );
        assert_eq!(
            relative(Path::new("/lab/out/x"), Path::new("/lab/out")),
            "./x"
        );
    }
}
