//! `homelab test -e ENV [-l name=X]`: Helm's `helm test` for every release of the
//! environment (or the selected ones) that has `test` hooks: each release's test
//! hooks in Helm's order, each waited for (a Pod until it succeeds or fails, a Job
//! until it completes), deleted as its delete policy says; one pass/fail line per
//! release. Exit 1 when any release fails.

use std::process::ExitCode;

use crate::apply::event::{Event, Reporter};
use crate::apply::hook_run::HookRunner;
use crate::apply::hooks::{role, Phase, Role};

use super::apply::{parse_duration, prepare, KubeArgs};
use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment, the releases (`-l`) and how to reach the cluster, as for apply
    #[command(flatten)]
    pub kube: KubeArgs,
    /// How long each test may run
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
}

/// Prints each test object as it is started.
struct Lines;

impl Reporter for Lines {
    fn event(&self, event: &Event) {
        if let Event::Applied { object, .. } = event {
            println!("running  {object}");
        }
    }
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let prepared = match prepare(&args.kube, global)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let plan = &prepared.plan;
    let mut releases: Vec<&str> = plan
        .hooks
        .iter()
        .filter(|h| matches!(role(&h.body), Role::Hook(hook) if hook.runs_in(Phase::Test)))
        .map(|h| h.release.as_str())
        .collect();
    releases.dedup();
    if releases.is_empty() {
        eprintln!(
            "No release of environment `{}` has test hooks; nothing to test.",
            args.kube.env
        );
        return Ok(ExitCode::SUCCESS);
    }
    let runner = HookRunner {
        cluster: &prepared.cluster,
        plan,
        timeout: args.timeout,
        dry_run: false,
        redactor: &prepared.set.redactor,
        reporter: &Lines,
    };
    let mut failed = 0;
    for release in &releases {
        match prepared.runtime.block_on(runner.run(release, Phase::Test)) {
            Ok(n) => println!("PASS     {release} ({n} test(s))"),
            Err(message) => {
                failed += 1;
                println!("FAIL     {release}: {message}");
            }
        }
    }
    println!("{} passed, {failed} failed", releases.len() - failed);
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
