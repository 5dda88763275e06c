//! `homelab test -e ENV [-l name=X]`: Helm's `helm test` for every release of the
//! environment (or the selected ones) that has `test` hooks: each release's test
//! hooks in Helm's order, each waited for (a Pod until it succeeds or fails, a Job
//! until it completes), deleted as its delete policy says; one pass/fail line per
//! release, with the end of a failed test Pod's log. Exit 1 when any release fails.

use std::process::ExitCode;

use crate::apply::event::{Event, Reporter};
use crate::apply::hook_run::HookRunner;
use crate::apply::hooks::Phase;

use crate::apply::session::{Session, SessionOptions};

use super::apply::{prepare, KubeArgs};
use super::duration::DurationArg;
use super::exit::{settle, Reported};
use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment, the releases (`-l`) and how to reach the cluster, as for apply
    #[command(flatten)]
    pub kube: KubeArgs,
    /// How long each test may run
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: DurationArg,
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

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    settle(
        prepare(&args.kube, global, SessionOptions::default())
            .and_then(|session| run_tests(&session, args).map_err(|code| Reported(code).into())),
    )
}

fn run_tests(session: &Session, args: &Args) -> Result<ExitCode, ExitCode> {
    let plan = &session.plan;
    let runner = HookRunner {
        cluster: &session.cluster,
        plan,
        timeout: args.timeout.0,
        dry_run: false,
        redactor: &session.set.redactor,
        reporter: &Lines,
    };
    let releases = runner.releases_with(Phase::Test);
    if releases.is_empty() {
        eprintln!(
            "No release of environment `{}` has test hooks; nothing to test.",
            args.kube.env
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut failed = 0;
    for release in &releases {
        match session.block_on(runner.run(release, Phase::Test)) {
            Ok(n) => println!("PASS     {release} ({n} test(s))"),
            Err(message) => {
                failed += 1;
                println!("FAIL     {release}: {message}");
            }
        }
    }
    println!("{} passed, {failed} failed", releases.len() - failed);
    if failed > 0 {
        Err(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
