//! `homelab apply -e ENV`: render with real secrets, check the kube context against the
//! environment's binding, then server-side apply stage by stage with readiness waits.
//! The preparation (lab, guard, render, plan, connection) is shared with `diff` and
//! `deploy`; the run itself is the library's [`Session`].

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use crate::apply::session::{Session, SessionOptions};
use crate::apply::{self, ApplyOptions, ApplyPlan, KubeTarget, Reporter, ResolvedContext};
use crate::render::{self, RenderOptions, SecretMode, SopsSecrets};
use crate::Lab;

use super::duration::DurationArg;
use super::exit::{settle, Reported};
use super::final_event;
use super::paint::paint_for;
use super::progress::{JsonReporter, LineReporter, ProgressReporter};
use super::{GlobalArgs, OutputFormat};

/// How to reach the cluster; shared by `apply` and `diff`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct KubeArgs {
    /// The environment (a key of releases/environments.toml)
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
    /// Only these releases: `name=a,name=b` (or `-l a -l b`)
    #[arg(short = 'l', long = "selector", value_name = "name=X,...")]
    pub selector: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requests to the API server in flight at once
    #[arg(long, default_value_t = SessionOptions::default().concurrency, value_name = "N")]
    pub concurrency: usize,
}

/// Which kubeconfig and context; `deploy` takes the same for its cluster layer.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TargetArgs {
    /// The kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kube context [default: the kubeconfig's current context]; it must be the one
    /// the environment is bound to, unless `--force-context` is given too
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the context named by `--context` although the environment is bound to another
    #[arg(long, requires = "context")]
    pub force_context: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Server-side dry run: the server validates every object and stores nothing
    #[arg(long)]
    pub dry_run: bool,
    /// When a release does not become ready, apply its last revision that was ready
    /// again (rendered from that revision's commit), wait for it, and fail naming both
    #[arg(long, conflicts_with = "dry_run")]
    pub atomic: bool,
    #[command(flatten)]
    pub flags: ApplyFlags,
}

/// How an apply behaves; `homelab deploy` takes the same flags for its cluster layer.
/// The defaults are [`SessionOptions::default`]'s.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ApplyFlags {
    /// Take over fields that other field managers own
    #[arg(long)]
    pub force_conflicts: bool,
    /// Do not wait for workloads to become ready between stages
    #[arg(long)]
    pub no_wait: bool,
    /// How long each stage may take to become ready: `90s`, `5m`, `1h`
    #[arg(long, default_value_t = DurationArg(ApplyOptions::default().timeout), value_name = "DURATION")]
    pub timeout: DurationArg,
    /// Keep members of the environment that are no longer declared
    #[arg(long)]
    pub no_prune: bool,
    /// Let pruning delete PersistentVolumeClaims, PersistentVolumes and namespaces holding PVCs
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Apply every object even when its live applied-hash says it is unchanged
    #[arg(long)]
    pub no_skip: bool,
    /// Take over objects Helm installed (listed in a Helm release Secret
    /// `sh.helm.release.v1.<name>.v<N>`): applied without force, so only fields whose
    /// values differ from Helm's conflict, each named; without this flag they are
    /// refused. Objects Helm had that the lab no longer renders are listed with the
    /// `kubectl delete` that removes them, never pruned
    #[arg(long)]
    pub adopt: bool,
    /// With --adopt, once everything applied, delete the adopted releases' Helm release
    /// Secrets, so `helm list` no longer shows them and Helm cannot roll them back
    #[arg(long, requires = "adopt")]
    pub forget_helm_release: bool,
    /// How long to wait for another run's lock on the environment
    #[arg(long, default_value_t = DurationArg(SessionOptions::default().lock_timeout), value_name = "DURATION")]
    pub lock_timeout: DurationArg,
    /// The lock's time to live: a holder that stops renewing it for this long loses it
    #[arg(long, default_value_t = DurationArg(SessionOptions::default().lock_ttl), value_name = "DURATION")]
    pub lock_ttl: DurationArg,
}

impl ApplyFlags {
    /// The session these flags ask for, `concurrency` requests at once.
    pub(crate) fn session_options(&self, dry_run: bool, concurrency: usize) -> SessionOptions {
        SessionOptions {
            concurrency,
            lock_timeout: self.lock_timeout.0,
            lock_ttl: self.lock_ttl.0,
            apply: ApplyOptions {
                dry_run,
                force_conflicts: self.force_conflicts,
                wait: !self.no_wait,
                timeout: self.timeout.0,
                skip_unchanged: !self.no_skip,
                prune: !self.no_prune,
                allow_data_loss: self.allow_data_loss,
                cancel: None,
                delete_hooks: false,
                adopt: self.adopt,
                forget_helm_release: self.forget_helm_release,
            },
        }
    }
}

/// Loads the lab, guards the context, renders with real secrets and connects.
///
/// # Errors
/// [`Reported`] after the lab's or the render's problems have been printed.
pub(crate) fn prepare(
    kube: &KubeArgs,
    global: &GlobalArgs,
    options: SessionOptions,
) -> anyhow::Result<Session> {
    let lab = global.load_lab().map_err(Reported)?;
    let resolved = resolve_context(kube, &lab)?;
    let secrets = SopsSecrets::new();
    let mut render_options = RenderOptions::from_env()?;
    render_options.secrets = SecretMode::Real(&secrets);
    render_options.selector = super::render::parse_selector(&kube.selector)?;
    let set = render::render_environment(&lab, &kube.env, &render_options)?;
    for warning in &set.warnings {
        eprintln!("warning: {warning}");
    }
    if !set.is_complete() {
        for error in &set.errors {
            eprintln!("error: {error}");
        }
        eprintln!(
            "error: Refusing to touch the cluster: {} problem(s) keep the environment from rendering completely; fix them (see above) and run again",
            set.errors.len()
        );
        return Err(Reported(ExitCode::from(1)).into());
    }
    let mut plan = ApplyPlan::new(&set, &apply::needs_of(&lab));
    plan.partial = !render_options.selector.is_empty();
    plan.selected = render_options.selector.iter().cloned().collect();
    plan.namespace_users =
        apply::policy::namespaces_of_other_releases(&lab, &kube.env, &plan.selected);
    let mut session = Session::connect(set, plan, &resolved, options)?;
    session.recording = Some(super::revision::recording(&lab, &kube.env, global));
    Ok(session)
}

/// The context the environment may use: its bound one, or `--context` with
/// `--force-context` (warned about).
pub(crate) fn resolve_context(kube: &KubeArgs, lab: &Lab) -> anyhow::Result<ResolvedContext> {
    let Some(environment) = lab.environments.value.environments.get(&kube.env) else {
        anyhow::bail!(
            "Unknown environment `{}`; environments are: {}",
            kube.env,
            lab.environment_names().collect::<Vec<_>>().join(", ")
        );
    };
    let target = KubeTarget {
        kubeconfig: kube.target.kubeconfig.clone(),
        context: kube.target.context.clone(),
        force_context: kube.target.force_context,
    };
    let resolved = target.resolve(&kube.env, &environment.context)?;
    if resolved.forced {
        eprintln!(
            "warning: using context `{}` for environment `{}`, which is bound to `{}` (--force-context)",
            resolved.context, kube.env, environment.context
        );
    }
    Ok(resolved)
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = args
        .flags
        .session_options(args.dry_run, args.kube.concurrency);
    let started = Instant::now();
    let session = match prepare(&args.kube, global, options) {
        Ok(session) => session,
        Err(e) => {
            final_event::end_early(global.output, started, 0, false, Some(&e));
            return settle(Err(e));
        }
    };
    let result = match args.atomic {
        true => super::atomic::run(&session, &args.kube, &args.flags, global),
        false => run_session(&session, global),
    };
    if let Err(e) = &result {
        let requests = session.cluster.client.requests_sent();
        final_event::end_early(global.output, started, requests, false, Some(e));
    }
    settle(result)
}

/// The reporter for `global`'s output: JSON lines, progress bars on a terminal, or lines.
fn reporter(output: OutputFormat) -> Box<dyn Reporter> {
    match output {
        OutputFormat::Json => Box::new(JsonReporter::new(Box::new(std::io::stdout()))),
        OutputFormat::Text if std::io::stderr().is_terminal() => {
            Box::new(ProgressReporter::new(paint_for(true)))
        }
        OutputFormat::Text => Box::new(LineReporter::new(
            Box::new(std::io::stdout()),
            paint_for(std::io::stdout().is_terminal()),
        )),
    }
}

/// What the run found of Helm's: unreadable releases, objects Helm had that the lab
/// does not render (with the command that removes each), the release Secrets deleted.
/// With `-o json` on stderr, so stdout still ends with the run's final event.
fn show_helm(helm: &apply::adopt::HelmReport, output: OutputFormat) {
    for w in &helm.warnings {
        eprintln!("warning: {w}");
    }
    let mut text = String::new();
    if !helm.leftovers.is_empty() {
        text.push_str("Helm had these objects, which the lab no longer renders; homelab never prunes them. Remove each with:\n");
        for l in &helm.leftovers {
            text.push_str(&format!(
                "  {}    # {} of Helm release {}\n",
                l.command, l.object, l.release
            ));
        }
    }
    for secret in &helm.forgotten {
        text.push_str(&format!("forgot Helm release Secret {secret}\n"));
    }
    match output {
        OutputFormat::Json => eprint!("{text}"),
        OutputFormat::Text => print!("{text}"),
    }
}

/// Applies what `prepare` rendered; `deploy --plan` calls this with the session its plan
/// showed, so the cluster is rendered (and its secrets decrypted) once per run.
pub(crate) fn run_session(session: &Session, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    Ok(apply_session(session, global)?.0)
}

/// [`run_session`], also returning the report (`apply --atomic` reads it).
pub(crate) fn apply_session(
    session: &Session,
    global: &GlobalArgs,
) -> anyhow::Result<(ExitCode, apply::ApplyReport)> {
    let outcome = session.apply(reporter(global.output).as_ref())?;
    if let Some(e) = &outcome.release_failed {
        eprintln!(
            "warning: Failed to release the lock lease homelab-{}: {e}; it expires after {:?}",
            session.set.environment,
            session.options().lock_ttl
        );
    }
    super::revision::print_recorded(&outcome, global);
    let report = outcome.report;
    show_helm(&report.helm, global.output);
    if report.ok {
        return Ok((ExitCode::SUCCESS, report));
    }
    // Also with `-o json`: the events say what failed, stderr says it to a person.
    for problem in session.problems(&report) {
        eprintln!("error: {problem}");
    }
    let code = ExitCode::from(if report.cancelled { 130 } else { 1 });
    Ok((code, report))
}
