//! `homelab destroy -e ENV [-l name=RELEASE]`: Helmfile's `destroy`. Deletes what the
//! environment's apply set holds — every member, or only the selected releases' — by
//! the same path as pruning, so the same guarantees hold:
//!
//! - only objects carrying this environment's ApplySet labels are touched, in reverse
//!   apply order (workloads, configuration, namespaces, CRDs last);
//! - PersistentVolumeClaims, PersistentVolumes and namespaces holding PVCs stay unless
//!   `--allow-data-loss`, and a namespace holding anything homelab does not own stays
//!   whatever the flags;
//! - objects with `helm.sh/resource-policy: keep`, and namespaces another release of the
//!   environment still uses, stay whatever the flags ([`crate::apply::policy`]);
//! - the environment's lock is held while deleting.
//!
//! The cluster's labels say what belongs to the set. The releases are rendered (with
//! secrets redacted: nothing is decrypted) only for their `pre-delete` / `post-delete`
//! hooks, which run as `helm uninstall` runs them ([`crate::apply::hook_run`]): pre
//! hooks before anything is deleted, post hooks once workloads and configuration are
//! gone but before namespaces and CRDs. `--no-hooks` skips them (and the render). The
//! list is shown first; deleting needs `--yes` or a "y" on a terminal. With `-o json`
//! the last event is always `finished`. A destroy that deleted is recorded as a
//! revision (cause `destroy`, its releases with no objects), as `helm uninstall
//! --keep-history` keeps the release: `history` shows it, and `rollback` without
//! `--to` brings back the last succeeded apply before it.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Instant;

use crate::apply::hook_run::phase_name;
use crate::apply::hooks::{role, Phase, Role};
use crate::apply::plan::PlannedObject;
use crate::apply::revision::Cause;
use crate::apply::session::{Recording, Session, SessionOptions};
use crate::apply::{self, ApplyOptions, ApplyPlan, Needs};
use crate::render::ownership::applyset_id;
use crate::render::{self, RenderOptions, RenderedSet};

use super::apply::{resolve_context, run_session, KubeArgs};
use super::confirm::{self, Decision, StdioPrompt};
use super::duration::DurationArg;
use super::exit::settle;
use super::final_event;
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment, the releases (`-l`) and how to reach the cluster, as for apply
    #[command(flatten)]
    pub kube: KubeArgs,
    /// List what would be deleted and delete nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Delete without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Answer the question from stdin even when it is not a terminal (for tests and
    /// scripts that pipe an answer)
    #[arg(long, hide = true)]
    pub confirm_from_stdin: bool,
    /// Delete PersistentVolumeClaims, PersistentVolumes and namespaces holding PVCs too
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Do not run the releases' pre-delete and post-delete hooks (nor render them)
    #[arg(long)]
    pub no_hooks: bool,
    /// How long to wait for another run's lock on the environment
    #[arg(long, default_value_t = DurationArg(SessionOptions::default().lock_timeout), value_name = "DURATION")]
    pub lock_timeout: DurationArg,
}

impl Args {
    /// Deleting is pruning everything, without waiting (nothing is applied).
    fn session_options(&self) -> SessionOptions {
        SessionOptions {
            concurrency: self.kube.concurrency,
            lock_timeout: self.lock_timeout.0,
            apply: ApplyOptions {
                wait: false,
                allow_data_loss: self.allow_data_loss,
                delete_hooks: !self.no_hooks,
                ..ApplyOptions::default()
            },
            ..SessionOptions::default()
        }
    }
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut requests = 0;
    let result = destroy(args, global, &mut requests);
    match &result {
        Ok(Ended::Ran(_)) => {}
        Ok(Ended::Early(code)) => {
            let ok = *code == ExitCode::SUCCESS;
            final_event::end_early(global.output, started, requests, ok, None)
        }
        Err(e) => final_event::end_early(global.output, started, requests, false, Some(e)),
    }
    settle(result.map(|ended| match ended {
        Ended::Ran(code) | Ended::Early(code) => code,
    }))
}

/// How a destroy ended: through the run (which reported its own end) or before it.
enum Ended {
    Ran(ExitCode),
    Early(ExitCode),
}

fn destroy(args: &Args, global: &GlobalArgs, requests: &mut u64) -> anyhow::Result<Ended> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(Ended::Early(code)),
    };
    let kube = &args.kube;
    let selected = super::render::parse_selector(&kube.selector)?;
    let known: BTreeSet<&str> = lab.releases.iter().map(|r| r.name()).collect();
    if let Some(unknown) = selected.iter().find(|s| !known.contains(s.as_str())) {
        eprintln!(
            "error: No release `{unknown}` in releases/; the releases are {}",
            known.iter().copied().collect::<Vec<_>>().join(", ")
        );
        return Ok(Ended::Early(ExitCode::from(1)));
    }
    let resolved = resolve_context(kube, &lab)?;
    let hooks = match args.no_hooks {
        true => Vec::new(),
        false => match delete_hooks(&lab, &kube.env, &selected)? {
            Some(hooks) => hooks,
            None => return Ok(Ended::Early(ExitCode::from(1))),
        },
    };
    // An empty desired set: pruning it deletes the apply set's members.
    let set = RenderedSet {
        environment: kube.env.clone(),
        applyset_id: applyset_id(&kube.env),
        releases: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        redactor: Default::default(),
    };
    let mut plan = ApplyPlan::new(&set, &Needs::new());
    plan.partial = !selected.is_empty();
    plan.selected = selected.into_iter().collect();
    plan.namespace_users =
        apply::policy::namespaces_of_other_releases(&lab, &kube.env, &plan.selected);
    plan.hooks = hooks;
    let mut session = Session::connect(set, plan, &resolved, args.session_options())?;
    // Recorded like `helm uninstall --keep-history`: `history` shows the releases gone,
    // and `rollback` brings back the last apply before it.
    session.recording = Some(Recording {
        cause: Cause::Destroy,
        ..super::revision::recording(&lab, &kube.env, global)
    });

    let listing = session.diff();
    *requests = session.cluster.client.requests_sent();
    if let Some(e) = &listing.prune_error {
        eprintln!(
            "error: Could not list what environment `{}` holds: {e}",
            kube.env
        );
        return Ok(Ended::Early(ExitCode::from(1)));
    }
    let deleting = listing.to_prune();
    let kept = listing.prune.len() - deleting;
    let mut out = String::new();
    for p in &listing.prune {
        match &p.kept {
            None => out.push_str(&format!("delete   {}\n", p.object)),
            Some(why) => out.push_str(&format!("keep     {}: {why}\n", p.object)),
        }
    }
    for hook in &session.plan.hooks {
        out.push_str(&format!("hook     {}\n", describe_hook(hook)));
    }
    out.push_str(&format!("{deleting} to delete, {kept} kept\n"));
    // With `-o json` stdout carries only the apply's JSON events.
    match global.output {
        OutputFormat::Json => eprint!("{out}"),
        OutputFormat::Text => print!("{out}"),
    }
    if args.dry_run {
        return Ok(Ended::Early(ExitCode::SUCCESS));
    }
    if deleting == 0 {
        eprintln!("Nothing to delete in environment `{}`.", kube.env);
        return Ok(Ended::Early(ExitCode::SUCCESS));
    }
    let question = format!("Delete these {deleting} object(s)? [y/N]");
    let mut prompt = StdioPrompt::new(args.confirm_from_stdin);
    match confirm::decide_on(&question, args.yes, &mut prompt)? {
        Decision::Proceed => {}
        Decision::PrintOnly => {
            eprintln!("error: No terminal to confirm on, so nothing was deleted; run with --yes to delete these objects");
            return Ok(Ended::Early(ExitCode::from(2)));
        }
        Decision::Declined => {
            eprintln!("Declined; nothing was deleted.");
            return Ok(Ended::Early(ExitCode::from(2)));
        }
    }
    let result = run_session(&session, global);
    *requests = session.cluster.client.requests_sent();
    result.map(Ended::Ran)
}

/// The selected releases' (every release's, without `-l`) `pre-delete` and
/// `post-delete` hooks, rendered with secrets redacted; `None` after printing why
/// the render failed.
fn delete_hooks(
    lab: &crate::Lab,
    env: &str,
    selected: &[String],
) -> anyhow::Result<Option<Vec<PlannedObject>>> {
    let mut options = RenderOptions::from_env()?;
    options.selector = selected.to_vec();
    let set = render::render_environment(lab, env, &options)?;
    if !set.is_complete() {
        for error in &set.errors {
            eprintln!("error: {error}");
        }
        eprintln!(
            "error: The releases must render for their pre-delete and post-delete hooks; fix the problems above, or pass --no-hooks to delete without running hooks"
        );
        return Ok(None);
    }
    let plan = ApplyPlan::new(&set, &apply::needs_of(lab));
    Ok(Some(
        plan.hooks
            .into_iter()
            .filter(|h| {
                matches!(role(&h.body), Role::Hook(hook)
                    if hook.runs_in(Phase::PreDelete) || hook.runs_in(Phase::PostDelete))
            })
            .collect(),
    ))
}

/// `Job/ns/name (pre-delete)` for the listing.
fn describe_hook(hook: &PlannedObject) -> String {
    let phases = match role(&hook.body) {
        Role::Hook(h) => h
            .phases
            .iter()
            .map(|p| phase_name(*p))
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    };
    format!("{} ({phases})", hook.describe())
}
