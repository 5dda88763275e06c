//! `homelab deploy --hosts-only [--host NAME…] [--dry-run] [--jobs N]`: rebuilds the
//! lab's hosts over SSH, control plane first.

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::process::ExitCode;

use crate::deploy::hosts::{self, RebuildOptions};
use crate::deploy::hosts_run::{self, RunOptions};

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment being deployed; hosts are the same for every environment, so
    /// `--hosts-only` only checks that it exists
    #[arg(short, long, value_name = "ENV")]
    pub env: Option<String>,
    /// Rebuild the hosts only (`nixos-rebuild switch --flake .#<host> --target-host <ssh>`)
    #[arg(long)]
    pub hosts_only: bool,
    /// Rebuild only this host (repeatable) [default: every host in the inventory]
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Print the commands without running them
    #[arg(long)]
    pub dry_run: bool,
    /// How many hosts to rebuild at once after the control plane
    #[arg(short, long, default_value = "4", value_name = "N")]
    pub jobs: NonZeroUsize,
    /// Build each system on its host instead of here (e.g. an x86 laptop and an arm64 Pi)
    #[arg(long)]
    pub build_on_target: bool,
}

pub fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    if !args.hosts_only {
        eprintln!(
            "error: deploying the cluster layer is not available yet; \
             run `homelab deploy --hosts-only` to rebuild the hosts"
        );
        return Ok(ExitCode::from(2));
    }
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    if let Some(env) = &args.env {
        if !lab.environment_names().any(|e| e == env) {
            let known: Vec<&str> = lab.environment_names().collect();
            eprintln!(
                "error: Environment `{env}` is not in releases/environments.toml\n  help: the environments are {}",
                known.join(", ")
            );
            return Ok(ExitCode::from(1));
        }
    }
    let plan = match hosts::plan(lab.inventory(), &args.hosts) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let root = std::path::absolute(&lab.root).unwrap_or_else(|_| lab.root.clone());
    let rebuild = RebuildOptions {
        build_on_target: args.build_on_target,
        ..RebuildOptions::for_root(&root)
    };
    let options = RunOptions::new(rebuild, args.jobs);
    if args.dry_run {
        print!("{}", hosts_run::describe(&plan, &options));
        return Ok(ExitCode::SUCCESS);
    }
    let log = |line: &str| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    };
    let report = hosts_run::run(&plan, &options, &log);
    if report.succeeded() {
        print!("{}", report.summary());
        Ok(ExitCode::SUCCESS)
    } else {
        eprint!("{}", report.summary());
        Ok(ExitCode::from(1))
    }
}
