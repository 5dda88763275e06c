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
//! Nothing is rendered and no secret is decrypted: the cluster's labels say what
//! belongs to the set. The list is shown first; deleting needs `--yes` or a "y" on a
//! terminal.

use std::collections::BTreeSet;
use std::process::ExitCode;

use crate::apply::session::{Session, SessionOptions};
use crate::apply::{self, ApplyOptions, ApplyPlan, Needs};
use crate::render::ownership::applyset_id;
use crate::render::RenderedSet;

use super::apply::{resolve_context, run_session, KubeArgs};
use super::confirm::{self, Decision, StdioPrompt};
use super::duration::DurationArg;
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
                ..ApplyOptions::default()
            },
            ..SessionOptions::default()
        }
    }
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let kube = &args.kube;
    let selected = super::render::parse_selector(&kube.selector)?;
    let known: BTreeSet<&str> = lab.releases.iter().map(|r| r.name()).collect();
    if let Some(unknown) = selected.iter().find(|s| !known.contains(s.as_str())) {
        eprintln!(
            "error: No release `{unknown}` in releases/; the releases are {}",
            known.iter().copied().collect::<Vec<_>>().join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    let resolved = resolve_context(kube, &lab)?;
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
    let session = Session::connect(set, plan, &resolved, args.session_options())?;

    let listing = session.diff();
    if let Some(e) = &listing.prune_error {
        eprintln!(
            "error: Could not list what environment `{}` holds: {e}",
            kube.env
        );
        return Ok(ExitCode::from(1));
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
    out.push_str(&format!("{deleting} to delete, {kept} kept\n"));
    // With `-o json` stdout carries only the apply's JSON events.
    match global.output {
        OutputFormat::Json => eprint!("{out}"),
        OutputFormat::Text => print!("{out}"),
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if deleting == 0 {
        eprintln!("Nothing to delete in environment `{}`.", kube.env);
        return Ok(ExitCode::SUCCESS);
    }
    let question = format!("Delete these {deleting} object(s)? [y/N]");
    let mut prompt = StdioPrompt::new(args.confirm_from_stdin);
    match confirm::decide_on(&question, args.yes, &mut prompt)? {
        Decision::Proceed => {}
        Decision::PrintOnly => {
            eprintln!("error: No terminal to confirm on, so nothing was deleted; run with --yes to delete these objects");
            return Ok(ExitCode::from(2));
        }
        Decision::Declined => {
            eprintln!("Declined; nothing was deleted.");
            return Ok(ExitCode::from(2));
        }
    }
    run_session(&session, global)
}
