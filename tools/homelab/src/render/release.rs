//! Rendering one release: values, chart, manifests and Secret objects.

use std::path::{Path, PathBuf};

use handlebars::Context;
use serde_json::Value;

use super::capabilities::Capabilities;
use super::chart_files;
use super::documents::{self, SourcedDocument};
use super::helm::TemplateCall;
use super::secrets::{self, Redactor};
use super::{context::SharedContext, template::Templates, values, yaml};
use super::{ReleaseInput, RenderOptions, RenderProblem, RenderedObject, SecretMode};
use crate::charts::ops::{locked, RepoChart};
use crate::charts::LockFile;
use crate::paths;
use crate::release::model::{ChartSource, Release};

/// What is shared by every release of one render.
pub(super) struct Job<'a> {
    pub env: &'a str,
    pub shared: &'a SharedContext,
    pub templates: Templates,
    pub lock: LockFile,
    pub options: &'a RenderOptions<'a>,
    pub root: PathBuf,
    pub secrets_file: PathBuf,
    pub secrets_display: PathBuf,
    pub kube_version: String,
}

/// One release's objects before set-wide processing.
pub(super) struct Rendered {
    pub objects: Vec<RenderedObject>,
}

impl Job<'_> {
    /// Renders one release, its chart seeing `capabilities`.
    pub(super) fn render(
        &self,
        input: &ReleaseInput<'_>,
        capabilities: &Capabilities,
    ) -> Result<Rendered, RenderProblem> {
        let release = input.release;
        let problem = |message: String| RenderProblem {
            release: Some(release.name.clone()),
            message,
        };
        let display_dir = PathBuf::from("releases").join(&release.name);
        let merged = self
            .values(input.dir, &display_dir, release)
            .map_err(problem)?;
        let mut objects = Vec::new();
        let mut push = |docs: Vec<SourcedDocument>| {
            objects.extend(docs.into_iter().map(|d| RenderedObject {
                release: release.name.clone(),
                source: d.source,
                body: d.body,
            }))
        };
        if let Some(chart) = &release.chart {
            push(
                self.chart(input.dir, release, chart, &merged, capabilities)
                    .map_err(problem)?,
            );
        }
        let manifest_context = Context::from(
            self.shared
                .for_manifests(release, &values::without_nulls(merged)),
        );
        for file in &release.manifests {
            let shown = display_dir.join(file);
            let text =
                paths::read_inside(input.dir, file, &shown.to_string_lossy()).map_err(problem)?;
            let text = if file.ends_with(".hbs") {
                self.templates
                    .render(&shown, &text, &manifest_context)
                    .map_err(|e| problem(e.to_string()))?
            } else {
                text
            };
            push(
                documents::split(&text, &shown.display().to_string())
                    .map_err(|e| problem(e.to_string()))?,
            );
        }
        let secret_objects = self.secrets(release).map_err(problem)?;
        objects.extend(secret_objects);
        Ok(Rendered { objects })
    }

    /// The release's merged values, as [`super::release_values`] reports them.
    pub(super) fn release_values(&self, input: &ReleaseInput<'_>) -> Result<Value, RenderProblem> {
        let release = input.release;
        let display_dir = PathBuf::from("releases").join(&release.name);
        self.values(input.dir, &display_dir, release)
            .map_err(|message| RenderProblem {
                release: Some(release.name.clone()),
                message,
            })
    }

    /// Base values then the environment's overlay, merged (nulls kept for helm).
    fn values(&self, dir: &Path, display_dir: &Path, release: &Release) -> Result<Value, String> {
        let overlay = release
            .overlays
            .get(self.env)
            .map(|o| o.values.as_slice())
            .unwrap_or_default();
        let mut layers = Vec::new();
        let context = Context::from(self.shared.for_values(release));
        for file in release.values.iter().chain(overlay) {
            let shown = display_dir.join(file);
            let text = paths::read_inside(dir, file, &shown.to_string_lossy())?;
            let text = if file.ends_with(".hbs") {
                self.templates
                    .render(&shown, &text, &context)
                    .map_err(|e| e.to_string())?
            } else {
                text
            };
            let value = yaml::parse_value(&text).map_err(|e| {
                let line = e.line.map(|l| format!(":{l}")).unwrap_or_default();
                format!(
                    "{}{line}: invalid values YAML: {}",
                    shown.display(),
                    e.message
                )
            })?;
            if !(value.is_object() || value.is_null()) {
                return Err(format!(
                    "{}: values must be a map of keys, not a single value or list",
                    shown.display()
                ));
            }
            layers.push(value);
        }
        Ok(values::merge_layers(layers))
    }

    /// The release's chart files, `None` without a chart; `Some(None)` for a chart that
    /// cannot be read (callers then assume it reads everything).
    pub(super) fn chart_files(
        &self,
        input: &ReleaseInput<'_>,
    ) -> Option<Option<chart_files::Files>> {
        let chart = input.release.chart.as_ref()?;
        Some(
            self.chart_path(input.dir, input.release, chart)
                .ok()
                .and_then(|path| chart_files::read(&path)),
        )
    }

    /// The CRDs the release's chart ships in `crds/` (printed whatever the values),
    /// known before anything renders.
    pub(super) fn shipped_crds(&self, input: &ReleaseInput<'_>) -> Vec<Value> {
        let Some(chart) = &input.release.chart else {
            return Vec::new();
        };
        let Some(files) = self
            .chart_path(input.dir, input.release, chart)
            .ok()
            .and_then(|path| chart_files::read(&path))
        else {
            return Vec::new();
        };
        chart_files::crd_files(&files)
            .iter()
            .filter_map(|text| yaml::parse_documents(text).ok())
            .flatten()
            .collect()
    }

    /// The chart's folder, or its archive in the verified cache.
    fn chart_path(
        &self,
        dir: &Path,
        release: &Release,
        chart: &ChartSource,
    ) -> Result<PathBuf, String> {
        Ok(match chart {
            ChartSource::Local { path } => {
                let shown = PathBuf::from("releases").join(&release.name).join(path);
                paths::resolve_chart(&self.root, dir, path, &shown.to_string_lossy())
                    .map_err(|e| paths::describe(&e))?
                    .ok_or_else(|| format!("the local chart {} does not exist", shown.display()))?
            }
            ChartSource::Repository {
                repository,
                name,
                version,
            } => {
                let wanted = RepoChart {
                    release: release.name.clone(),
                    repository: repository.clone(),
                    name: name.clone(),
                    version: version.clone(),
                };
                let entry = locked(&self.lock, &wanted).map_err(|e| e.to_string())?;
                let archive = self
                    .options
                    .cache
                    .archive(&entry.digest)
                    .map_err(|e| format!("chart {name} {version}: {}", with_causes(&e)))?;
                match archive {
                    Some(path) => path,
                    None => {
                        return Err(format!(
                            "chart {name} {version} is not in the chart cache ({}); fetch it with `homelab charts pull`",
                            self.options.cache.root().display()
                        ))
                    }
                }
            }
        })
    }

    fn chart(
        &self,
        dir: &Path,
        release: &Release,
        chart: &ChartSource,
        merged: &Value,
        capabilities: &Capabilities,
    ) -> Result<Vec<SourcedDocument>, String> {
        let chart_path = self.chart_path(dir, release, chart)?;
        let mut values_file = tempfile::Builder::new()
            .prefix("homelab-values-")
            .suffix(".yaml")
            .tempfile()
            .map_err(|e| format!("could not create a temporary values file: {e}"))?;
        std::io::Write::write_all(&mut values_file, yaml::to_yaml(merged).as_bytes())
            .map_err(|e| format!("could not write a temporary values file: {e}"))?;
        let output = self
            .options
            .helm
            .template(&TemplateCall {
                release: &release.name,
                chart: &chart_path,
                namespace: &release.namespace,
                values_file: values_file.path(),
                kube_version: &self.kube_version,
                api_versions: capabilities.api_versions(),
            })
            .map_err(|e| match &e {
                super::helm::HelmError::Failed { stderr, .. } => {
                    match super::helm_hint::hint(stderr, merged, &values_texts(dir, release)) {
                        Some(hint) => format!("{e}\nhint: {hint}"),
                        None => e.to_string(),
                    }
                }
                _ => e.to_string(),
            })?;
        documents::split(&output, &format!("{} (helm output)", release.name))
            .map_err(|e| format!("chart output {e}"))
    }

    fn secrets(&self, release: &Release) -> Result<Vec<RenderedObject>, String> {
        if release.secrets.is_empty() {
            return Ok(Vec::new());
        }
        let text = paths::read_inside(
            &self.root,
            &self.secrets_display.to_string_lossy(),
            &self.secrets_display.to_string_lossy(),
        )?;
        let real = match self.options.secrets {
            SecretMode::Real(s) => Some(s),
            _ => None,
        };
        let mut objects = Vec::new();
        for entry in &release.secrets {
            let body = secrets::build(entry, &release.namespace, &self.secrets_file, &text, real)
                .map_err(|e| format!("{}: {e}", self.secrets_display.display()))?;
            objects.push(RenderedObject {
                release: release.name.clone(),
                source: format!("releases/{}/release.toml [[secrets]]", release.name),
                body,
            });
        }
        Ok(objects)
    }

    /// A redactor knowing the plaintext of every `[[secrets]]` value of `releases` (all
    /// of the environment, not only the selected ones), when the mode reads plaintexts.
    pub(super) fn redactor(
        &self,
        releases: &[&ReleaseInput<'_>],
    ) -> (Redactor, Vec<RenderProblem>) {
        let mut redactor = Redactor::default();
        let mut problems = Vec::new();
        let source = match self.options.secrets {
            SecretMode::Redacted => return (redactor, problems),
            SecretMode::Scrubbed(s) | SecretMode::Real(s) => s,
        };
        for input in releases {
            for entry in &input.release.secrets {
                for path in entry.data.values() {
                    match source.get(&self.secrets_file, path) {
                        Ok(plain) => redactor.add(plain.expose()),
                        Err(message) => problems.push(RenderProblem {
                            release: Some(input.release.name.clone()),
                            message: format!(
                                "{}: Secret `{}`: {message}",
                                self.secrets_display.display(),
                                entry.name
                            ),
                        }),
                    }
                }
            }
        }
        (redactor, problems)
    }
}

/// An error and its causes on one line, for the per-release problem list.
fn with_causes(e: &dyn std::error::Error) -> String {
    std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// The release's values files (base and every overlay) as `releases/NAME/FILE` with
/// their text, for pointing a Helm error at the file a value came from.
fn values_texts(dir: &Path, release: &Release) -> Vec<(String, String)> {
    release
        .values
        .iter()
        .chain(release.overlays.values().flat_map(|o| o.values.iter()))
        .filter_map(|file| {
            let text = std::fs::read_to_string(dir.join(file)).ok()?;
            Some((format!("releases/{}/{file}", release.name), text))
        })
        .collect()
}
