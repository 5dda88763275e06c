//! `homelab apply -e ENV`: render with real secrets, check the kube context against the
//! environment's binding, then server-side apply stage by stage with readiness waits.
//! The preparation (lab, guard, render, plan, connection) is shared with `diff`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::apply::lock::{self, LockNotice, LockOptions};
use crate::apply::report::{JsonReporter, LineReporter, Paint, ProgressReporter};
use crate::apply::{
    self, ApplyOptions, ApplyPlan, Cluster, Event, KubeTarget, ObjectStatus, Reporter,
    ResolvedContext,
};
use crate::render::{self, RenderOptions, RenderedSet, SecretMode, SopsSecrets};
use crate::Lab;

use super::{GlobalArgs, OutputFormat};

/// How to reach the cluster; shared by `apply` and `diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct KubeArgs {
    /// The environment (a key of releases/environments.toml)
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: String,
    /// Only these releases: `name=a,name=b` (or `-l a -l b`)
    #[arg(short = 'l', long = "selector", value_name = "name=X,...")]
    pub selector: Vec<String>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Requests to the API server in flight at once
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub concurrency: usize,
}

/// Which kubeconfig and context; `deploy` takes the same for its cluster layer.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetArgs {
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
pub struct Args {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Server-side dry run: the server validates every object and stores nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub flags: ApplyFlags,
}

/// How an apply behaves; `homelab deploy` takes the same flags for its cluster layer.
#[derive(Debug, Clone, clap::Args)]
pub struct ApplyFlags {
    /// Take over fields that other field managers own
    #[arg(long)]
    pub force_conflicts: bool,
    /// Do not wait for workloads to become ready between stages
    #[arg(long)]
    pub no_wait: bool,
    /// How long each stage may take to become ready: `90s`, `5m`, `1h`
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Duration,
    /// Keep members of the environment that are no longer declared
    #[arg(long)]
    pub no_prune: bool,
    /// Let pruning delete PersistentVolumeClaims, PersistentVolumes and namespaces holding PVCs
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Apply every object even when its live applied-hash says it is unchanged
    #[arg(long)]
    pub no_skip: bool,
    /// How long to wait for another run's lock on the environment
    #[arg(long, default_value = "1m", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_timeout: Duration,
    /// The lock's time to live: a holder that stops renewing it for this long loses it
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_ttl: Duration,
}

/// `300`, `300s`, `5m`, `1h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. `90s`, `5m` or `1h`"))?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => {
            return Err(format!(
                "Unknown unit `{unit}` in `{text}`; use ms, s, m or h"
            ))
        }
    })
}

/// What apply and diff start from.
pub struct Prepared {
    pub set: RenderedSet,
    pub plan: ApplyPlan,
    pub cluster: Cluster,
    pub runtime: tokio::runtime::Runtime,
}

/// Loads the lab, guards the context, renders with real secrets and connects.
/// `Err(code)` after the problem has been printed.
pub fn prepare(kube: &KubeArgs, global: &GlobalArgs) -> anyhow::Result<Result<Prepared, ExitCode>> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(Err(code)),
    };
    let resolved = resolve_context(kube, &lab)?;
    let secrets = SopsSecrets::new();
    let mut options = RenderOptions::from_env()?;
    options.secrets = SecretMode::Real(&secrets);
    options.selector = super::render::parse_selector(&kube.selector)?;
    let set = render::render_environment(&lab, &kube.env, &options)?;
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
        return Ok(Err(ExitCode::from(1)));
    }
    let mut plan = ApplyPlan::new(&set, &apply::needs_of(&lab));
    plan.partial = !options.selector.is_empty();
    plan.selected = options.selector.iter().cloned().collect();
    plan.namespace_users =
        apply::policy::namespaces_of_other_releases(&lab, &kube.env, &plan.selected);
    let (cluster, runtime) = connect(&resolved, kube)?;
    Ok(Ok(Prepared {
        set,
        plan,
        cluster,
        runtime,
    }))
}

/// The context the environment may use: its bound one, or `--context` with
/// `--force-context` (warned about).
pub fn resolve_context(kube: &KubeArgs, lab: &Lab) -> anyhow::Result<ResolvedContext> {
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

/// A runtime for the run and the cluster connection on it.
pub fn connect(
    resolved: &ResolvedContext,
    kube: &KubeArgs,
) -> anyhow::Result<(Cluster, tokio::runtime::Runtime)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cluster = runtime.block_on(Cluster::connect(resolved, kube.concurrency))?;
    Ok((cluster, runtime))
}

/// Colour on a terminal unless `NO_COLOR` is set.
pub fn paint_for(stream_is_terminal: bool) -> Paint {
    Paint {
        color: stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match prepare(&args.kube, global)? {
        Ok(prepared) => run_prepared(args, &prepared, global),
        Err(code) => Ok(code),
    }
}

/// Applies what `prepare` rendered; `deploy --plan` calls this with the set its plan
/// showed, so the cluster is rendered (and its secrets decrypted) once per run.
pub fn run_prepared(
    args: &Args,
    prepared: &Prepared,
    global: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    let cancel = Arc::new(AtomicBool::new(false));
    let options = ApplyOptions {
        dry_run: args.dry_run,
        force_conflicts: args.flags.force_conflicts,
        wait: !args.flags.no_wait,
        timeout: args.flags.timeout,
        skip_unchanged: !args.flags.no_skip,
        prune: !args.flags.no_prune,
        allow_data_loss: args.flags.allow_data_loss,
        cancel: Some(cancel.clone()),
    };
    let reporter: Box<dyn Reporter> = match global.output {
        OutputFormat::Json => Box::new(JsonReporter::new(Box::new(std::io::stdout()))),
        OutputFormat::Text if std::io::stderr().is_terminal() => {
            Box::new(ProgressReporter::new(paint_for(true)))
        }
        OutputFormat::Text => Box::new(LineReporter::new(
            Box::new(std::io::stdout()),
            paint_for(std::io::stdout().is_terminal()),
        )),
    };
    let lock_options = LockOptions {
        identity: lock::identity(),
        ttl: args.flags.lock_ttl,
        timeout: args.flags.lock_timeout,
    };
    let env = args.kube.env.as_str();
    let reporter = reporter.as_ref();
    let outcome = prepared.runtime.block_on(async {
        let client = &prepared.cluster.client;
        let notice = |n: LockNotice| {
            reporter.event(&match n {
                LockNotice::Waiting { holder } => Event::LockWaiting { holder },
                LockNotice::TakenOver { holder, expired } => Event::LockTakenOver { holder, expired },
            })
        };
        // A dry run changes nothing, so it needs no lock.
        let guard = match args.dry_run {
            true => None,
            false => Some(lock::acquire(client, env, &lock_options, &notice).await?),
        };
        let signals = tokio::spawn(stop_on_signal(cancel.clone()));
        let report = apply::apply(
            &prepared.cluster,
            &prepared.plan,
            &options,
            &prepared.set.redactor,
            reporter,
        )
        .await;
        signals.abort();
        if let Some(guard) = guard {
            if let Err(e) = guard.release().await {
                eprintln!("warning: Failed to release the lock lease homelab-{env}: {e}; it expires after {:?}", args.flags.lock_ttl);
            }
        }
        Ok::<_, lock::LockError>(report)
    });
    let report = outcome?;
    if report.ok {
        return Ok(ExitCode::SUCCESS);
    }
    if global.output == OutputFormat::Text {
        for (object, status) in prepared.plan.objects.iter().zip(&report.status) {
            match status {
                ObjectStatus::Failed(message) => {
                    eprintln!("error: {} failed: {message}", object.describe())
                }
                ObjectStatus::Conflict(conflicts) => eprintln!(
                    "error: {} has {} field(s) owned by other managers ({}); rerun with --force-conflicts to take them over",
                    object.describe(),
                    conflicts.len(),
                    conflicts
                        .iter()
                        .map(|c| format!("{} by \"{}\"", c.field, c.manager))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => {}
            }
        }
        for n in &report.not_ready {
            eprintln!(
                "error: {} is not ready: {}",
                prepared.plan.objects[n.id].describe(),
                prepared.set.redactor.redact(&n.reason)
            );
        }
        for (candidate, message) in &report.prune_failed {
            eprintln!("error: pruning {} failed: {message}", candidate.describe());
        }
        if let Some(message) = &report.error {
            eprintln!("error: {message}");
        }
        let not_started = report.count(|s| *s == ObjectStatus::NotStarted);
        if report.cancelled {
            eprintln!("error: interrupted; {not_started} object(s) were not applied and nothing was pruned. Run again to converge");
        } else if not_started > 0 {
            eprintln!("error: the run stopped before pruning; {not_started} object(s) were not applied. Fix the problem above and run again");
        }
    }
    Ok(ExitCode::from(if report.cancelled { 130 } else { 1 }))
}

/// Sets `cancel` on SIGINT or SIGTERM; the run stops at the next object boundary and
/// the lock is released.
async fn stop_on_signal(cancel: Arc<AtomicBool>) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    cancel.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }
}
