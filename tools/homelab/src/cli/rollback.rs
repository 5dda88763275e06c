//! `homelab rollback -e ENV [-l name=X] [--to REV] [--yes]`: renders a recorded
//! revision again from its commit (default: the latest succeeded revision before the
//! latest one), shows the plan as `diff` does, asks on a terminal, then applies it with
//! every guard of `apply` and records a new revision marked as a rollback.

use std::process::ExitCode;

use crate::apply::revision::{Cause, History};
use crate::apply::revision_store;

use super::apply::{run_session, ApplyFlags, KubeArgs};
use super::confirm::{self, Decision, StdioPrompt};
use super::exit::settle;
use super::revision::render_revision;
use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment, the releases (`-l`) and how to reach the cluster, as for apply
    #[command(flatten)]
    pub kube: KubeArgs,
    /// The revision to go back to (`homelab history` lists them) [default: the latest
    /// succeeded revision before the latest one]
    #[arg(long, value_name = "REV")]
    pub to: Option<u64>,
    /// Apply without asking
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub flags: ApplyFlags,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    settle(rollback(args, global))
}

fn rollback(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let releases = super::render::parse_selector(&args.kube.selector)?;
    let (runtime, cluster) = super::history::connect(&args.kube, global)?;
    let history = runtime.block_on(revision_store::read(&cluster.client, &args.kube.env))?;
    drop((runtime, cluster));
    let target = pick(&history, args.to, &releases, &args.kube.env)?;
    let options = args.flags.session_options(false, args.kube.concurrency);
    let rendered = render_revision(
        &args.kube,
        global,
        target,
        &releases,
        Cause::Rollback,
        options,
    )?;
    eprintln!(
        "Rolling environment `{}` back to revision {} (commit {}, {}).",
        args.kube.env,
        target.revision,
        target.short_commit(),
        target.time
    );
    let plan = rendered.session.diff();
    super::diff::show(&plan, global.output)?;
    if plan.problems() > 0 {
        eprintln!("error: The plan has problems (above); nothing was applied");
        return Ok(ExitCode::from(1));
    }
    let mut prompt = StdioPrompt::new(false);
    match confirm::decide(args.yes, &mut prompt)? {
        Decision::Proceed => run_session(&rendered.session, global),
        Decision::PrintOnly => {
            eprintln!("error: No terminal to confirm on, so nothing was applied; run with --yes to roll back");
            Ok(ExitCode::from(2))
        }
        Decision::Declined => {
            eprintln!("Declined; nothing was applied.");
            Ok(ExitCode::from(2))
        }
    }
}

/// `--to`, or the default target, or why there is none.
fn pick<'a>(
    history: &'a History,
    to: Option<u64>,
    releases: &[String],
    env: &str,
) -> anyhow::Result<&'a crate::apply::revision::Revision> {
    let known = || {
        history
            .revisions
            .iter()
            .map(|r| r.revision.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let target = match to {
        Some(n) => history.get(n).ok_or_else(|| {
            anyhow::anyhow!(
                "Environment `{env}` has no revision {n}; it keeps revisions {} (`homelab history -e {env}`)",
                known()
            )
        })?,
        None => history.previous_success(releases).ok_or_else(|| {
            anyhow::anyhow!(
                "Environment `{env}` has no succeeded revision before its latest to roll back to (revisions kept: {}); pass --to REV",
                if history.revisions.is_empty() { "none".to_string() } else { known() }
            )
        })?,
    };
    if let Some(missing) = releases.iter().find(|r| !target.releases.contains_key(*r)) {
        anyhow::bail!(
            "Revision {} did not apply release `{missing}`; pick one that did (`homelab history -e {env} -l name={missing}`)",
            target.revision
        );
    }
    Ok(target)
}
