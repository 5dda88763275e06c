//! `homelab render`: from typed releases to the exact, deterministic set of Kubernetes
//! objects one environment should hold.
//!
//! Per release: values files are merged (templated when they end in `.hbs`), the chart
//! (from the verified cache, or a local folder) runs through `helm template`, manifests
//! are templated natively, and `[[secrets]]` become Secret objects. Then, over the whole
//! set: namespaces are created and filled in, ownership labels added, plaintexts
//! redacted, and the result validated. Releases render in parallel, bounded by the CPU
//! count.
//!
//! # Guarantees
//! - Two renders of the same files are byte-identical (see `cli/output.rs`).
//! - In [`SecretMode::Redacted`] no secret is decrypted; in [`SecretMode::Scrubbed`]
//!   plaintexts are read only to scrub them from every object.
//! - A release that fails does not stop the others: its problem lands in
//!   [`RenderedSet::errors`] and callers that apply must refuse an incomplete set.

pub(crate) mod builtin_apis;
pub(crate) mod capabilities;
pub(crate) mod chart_files;
pub(crate) mod context;
pub mod documents;
pub mod emit;
pub(crate) mod helm;
pub(crate) mod helm_hint;
pub(crate) mod helpers;
mod input;
pub(crate) mod object;
pub(crate) mod order;
mod output;
pub mod ownership;
mod release;
mod rounds;
pub(crate) mod scope;
pub mod secrets;
pub(crate) mod sops_source;
pub mod template;
pub(crate) mod typed_output;
pub(crate) mod validate;
pub(crate) mod values;
pub mod yaml;
pub mod yaml_scalar;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::json;

use crate::charts::LockFile;

pub use crate::charts::ChartCache;
pub use helm::Helm;
pub(crate) use input::LabInput;
pub use input::{ReleaseInput, RenderOptions, SecretMode};
pub use object::RenderedObject;
pub use output::{RenderError, RenderProblem, RenderedRelease, RenderedSet};
pub use secrets::{Redactor, SecretSource, SecretValue};
pub(crate) use sops_source::SopsSecrets;
pub(crate) use validate::Warning;

/// Renders environment `env` of a loaded lab: [`render`] over [`LabInput::from_lab`].
pub fn render_environment(
    lab: &crate::Lab,
    env: &str,
    options: &RenderOptions<'_>,
) -> Result<RenderedSet, RenderError> {
    render(&LabInput::from_lab(lab), env, options)
}

/// Renders environment `env` of `lab`.
pub(crate) fn render(
    lab: &LabInput<'_>,
    env: &str,
    options: &RenderOptions<'_>,
) -> Result<RenderedSet, RenderError> {
    let plan = Plan::new(lab, env, &options.selector)?;
    let shared =
        context::SharedContext::new(env, lab.inventory, plan.in_env.iter().map(|r| r.release));
    let job = plan.job(lab, &shared, options)?;
    let (redactor, problems) = job.redactor(&plan.in_env);
    if !problems.is_empty() {
        // Without every plaintext the scrub would be partial: print nothing.
        return Ok(RenderedSet {
            environment: env.into(),
            applyset_id: ownership::applyset_id(env),
            releases: Vec::new(),
            warnings: Vec::new(),
            errors: problems,
            redactor,
        });
    }
    let base = capabilities::Capabilities::base(&job.kube_version, plan.api_versions);
    let (results, unsettled) = rounds::settle(&job, &plan.in_env, &base, options.jobs);
    let mut environment_crds = Vec::new();
    let mut selected_results = Vec::new();
    let mut unselected_failed = Vec::new();
    for (input, result) in plan.in_env.iter().zip(results) {
        if let Ok(rendered) = &result {
            environment_crds.extend(
                rendered
                    .objects
                    .iter()
                    .filter(|o| o.kind() == "CustomResourceDefinition")
                    .cloned(),
            );
        }
        if plan.selected.iter().any(|s| std::ptr::eq(*s, *input)) {
            selected_results.push(result);
        } else if result.is_err() {
            unselected_failed.push(input.release.name.clone());
        }
    }
    let mut set = assemble(
        env,
        &plan.selected,
        selected_results,
        options,
        redactor,
        &environment_crds,
    )?;
    set.errors.extend(unsettled);
    if !unselected_failed.is_empty() {
        set.warnings.push(Warning {
            release: unselected_failed.join(", "),
            source: "not selected".into(),
            message: "These releases do not render, so CRDs they would install are left out \
                      of the capabilities and the kind checks; render them to see why"
                .into(),
        });
    }
    Ok(set)
}

/// A release's name and its merged values, or why they could not be built.
pub(crate) type ReleaseValues = (String, Result<serde_json::Value, RenderProblem>);

/// Each selected release's merged values (base then overlay, templated, nulls kept as
/// helm needs them), for handing to other tools such as Helmfile.
pub(crate) fn release_values(
    lab: &LabInput<'_>,
    env: &str,
    options: &RenderOptions<'_>,
) -> Result<Vec<ReleaseValues>, RenderError> {
    let plan = Plan::new(lab, env, &options.selector)?;
    let shared =
        context::SharedContext::new(env, lab.inventory, plan.in_env.iter().map(|r| r.release));
    let job = plan.job(lab, &shared, options)?;
    Ok(plan
        .selected
        .iter()
        .map(|r| (r.release.name.clone(), job.release_values(r)))
        .collect())
}

/// Which releases one render covers.
struct Plan<'l, 'a> {
    env: &'l str,
    secrets: &'l str,
    /// The environment's own `api_versions` list.
    api_versions: &'l [String],
    /// Every release of the environment, in dependency order.
    in_env: Vec<&'l ReleaseInput<'a>>,
    /// Those the selector picks.
    selected: Vec<&'l ReleaseInput<'a>>,
}

impl<'l, 'a> Plan<'l, 'a> {
    fn new(lab: &'l LabInput<'a>, env: &'l str, selector: &[String]) -> Result<Self, RenderError> {
        let Some(environment) = lab.environments.environments.get(env) else {
            return Err(RenderError::UnknownEnvironment {
                env: env.into(),
                known: lab
                    .environments
                    .environments
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let in_env: Vec<&ReleaseInput<'_>> = lab
            .releases
            .iter()
            .filter(|r| {
                r.release.environments.is_empty() || r.release.environments.iter().any(|e| e == env)
            })
            .collect();
        for name in selector {
            if !in_env.iter().any(|r| &r.release.name == name) {
                return Err(RenderError::UnknownRelease {
                    name: name.clone(),
                    env: env.into(),
                    known: in_env
                        .iter()
                        .map(|r| r.release.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        let selected = in_env
            .iter()
            .copied()
            .filter(|r| selector.is_empty() || selector.contains(&r.release.name))
            .collect();
        Ok(Plan {
            env,
            secrets: &environment.secrets,
            api_versions: &environment.api_versions,
            in_env,
            selected,
        })
    }

    fn job<'j>(
        &self,
        lab: &LabInput<'_>,
        shared: &'j context::SharedContext,
        options: &'j RenderOptions<'j>,
    ) -> Result<release::Job<'j>, RenderError>
    where
        'l: 'j,
    {
        Ok(release::Job {
            env: self.env,
            shared,
            templates: template::Templates::new(shared.hosts()),
            lock: LockFile::read(lab.root)?,
            options,
            root: lab.root.to_path_buf(),
            secrets_file: lab.root.join(self.secrets),
            secrets_display: PathBuf::from(self.secrets),
            kube_version: lab.inventory.cluster.kubernetes_version.clone(),
        })
    }
}

/// Runs `f` over `items` on up to `jobs` threads, keeping the input order.
fn run_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: Option<usize>,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
        .clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn assemble(
    env: &str,
    selected: &[&ReleaseInput<'_>],
    results: Vec<Result<release::Rendered, RenderProblem>>,
    options: &RenderOptions<'_>,
    redactor: Redactor,
    environment_crds: &[RenderedObject],
) -> Result<RenderedSet, RenderError> {
    let applyset_id = ownership::applyset_id(env);
    let mut errors = Vec::new();
    let mut rendered = Vec::new();
    for (input, result) in selected.iter().zip(results) {
        match result {
            Ok(r) => rendered.push((input.release, r.objects)),
            Err(problem) => errors.push(problem),
        }
    }

    // Kinds are checked against the CRDs of the whole environment: a custom resource of
    // one release whose CRD another release installs is fine.
    let scopes = scope::ScopeTable::with_crds(environment_crds);
    let mut warnings = Vec::new();
    let mut namespaces_created: Vec<String> = Vec::new();
    let mut releases = Vec::new();
    for (release, mut objects) in rendered {
        let renders_own_namespace = objects.iter().any(|o| {
            o.kind() == "Namespace" && o.group().is_empty() && o.name() == release.namespace
        });
        if !renders_own_namespace && !namespaces_created.contains(&release.namespace) {
            objects.push(RenderedObject {
                release: release.name.clone(),
                source: format!("releases/{}/release.toml (namespace)", release.name),
                body: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": release.namespace}}),
            });
        }
        namespaces_created.push(release.namespace.clone());
        for object in &mut objects {
            if let Some(w) = validate::unknown_kind_warning(object, &scopes) {
                warnings.push(w);
            }
            let namespaced = scopes
                .lookup(object.group(), object.kind())
                .is_none_or(|(s, _)| s == scope::Scope::Namespaced);
            if namespaced && object.namespace().is_none() {
                set_namespace(&mut object.body, &release.namespace);
            }
            ownership::label(&mut object.body, &release.name, env, &applyset_id);
            // Our Secret objects hold `<redacted>` (nothing to scrub, and not valid base64
            // for the typed check) or, for apply, the real data that must stay intact.
            let ours = object.source.ends_with("[[secrets]]");
            let real = matches!(options.secrets, SecretMode::Real(_));
            if !(ours && real) {
                redactor.redact_value(&mut object.body);
            }
            if !ours || real {
                match validate::check_typed(object) {
                    Ok(unknown) => warnings.extend(unknown.into_iter().map(|message| Warning {
                        release: object.release.clone(),
                        source: object.source.clone(),
                        message,
                    })),
                    Err(message) => errors.push(RenderProblem {
                        release: Some(release.name.clone()),
                        message: format!("{} from {}: {message}", object.describe(), object.source),
                    }),
                }
            }
        }
        order::sort_release(&mut objects);
        releases.push(RenderedRelease {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
            objects,
        });
    }
    let all: Vec<&RenderedObject> = releases.iter().flat_map(|r| r.objects.iter()).collect();
    errors.extend(
        validate::duplicates(all)
            .into_iter()
            .map(|message| RenderProblem {
                release: None,
                message,
            }),
    );
    for problem in &mut errors {
        problem.message = redactor.redact(&problem.message);
    }
    for warning in &mut warnings {
        warning.message = redactor.redact(&warning.message);
    }
    Ok(RenderedSet {
        environment: env.into(),
        applyset_id,
        releases,
        warnings,
        errors,
        redactor,
    })
}

/// Sets `metadata.namespace`, placed right after `metadata.name` as people write it.
fn set_namespace(body: &mut serde_json::Value, namespace: &str) {
    let Some(metadata) = body.get_mut("metadata").and_then(|m| m.as_object_mut()) else {
        return;
    };
    let old = std::mem::take(metadata);
    for (key, value) in old {
        let is_name = key == "name";
        metadata.insert(key, value);
        if is_name {
            metadata.insert("namespace".into(), json!(namespace));
        }
    }
}
