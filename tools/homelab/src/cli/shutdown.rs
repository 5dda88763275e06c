//! `homelab shutdown -e ENV HOST…`: cordons and drains each host's node (evictions
//! that respect PodDisruptionBudgets), then powers the host off over SSH
//! (`systemctl poweroff`). Workers go first; the control plane is refused unless
//! `--force`, because without it no node can be drained or scheduled.

use std::process::ExitCode;

use crate::deploy::nodes::{KubeNodes, NodeOps};
use crate::deploy::power;
use crate::inventory::Role;

use super::apply::{resolve_context, KubeArgs, TargetArgs};
use super::duration::DurationArg;
use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment whose cluster the nodes belong to (a key of releases/environments.toml)
    #[arg(short, long, value_name = "ENV")]
    pub env: String,
    /// The hosts to power off (names in hosts/inventory.nix)
    #[arg(required = true, value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Power off the control plane too (the cluster's API is gone until it is back)
    #[arg(long)]
    pub force: bool,
    /// How long draining one node may take; the pod that blocks is named
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub drain_timeout: DurationArg,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let inventory = lab.inventory();
    let plan = match super::deploy::selected_hosts(inventory, &args.hosts) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    // Workers first, the control plane (with --force) last.
    let mut targets: Vec<_> = plan.hosts().collect();
    targets.reverse();
    if !args.force {
        if let Some(cp) = targets
            .iter()
            .find(|h| inventory.hosts[&h.name].has_role(Role::ControlPlane))
        {
            eprintln!("error: Host `{}` is the control plane: powered off, the cluster's API server is gone, so no node can be drained, scheduled or checked until it is back\n  help: shut the workers down first; pass `--force` to power the control plane off anyway", cp.name);
            return Ok(ExitCode::from(1));
        }
    }
    let kube = KubeArgs {
        env: args.env.clone(),
        selector: Vec::new(),
        target: args.target.clone(),
        concurrency: 1,
    };
    let resolved = resolve_context(&kube, &lab)?;
    let nodes = KubeNodes::connect(&resolved).map_err(anyhow::Error::msg)?;
    let log = |line: &str| eprintln!("{line}");
    for host in targets {
        let node = inventory.hosts[&host.name].has_role(Role::ControlPlane)
            || inventory.hosts[&host.name].has_role(Role::Worker);
        let ops = node.then_some(&nodes as &dyn NodeOps);
        if let Err(e) = power::shutdown(host, "ssh".as_ref(), ops, args.drain_timeout.0, &log) {
            eprintln!("error: Shutting down `{}`: {e}", host.name);
            return Ok(ExitCode::from(1));
        }
        println!("{}: powered off", host.name);
    }
    Ok(ExitCode::SUCCESS)
}
