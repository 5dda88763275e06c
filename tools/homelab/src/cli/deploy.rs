//! `homelab deploy -e ENV [--plan [--yes]] [--hosts-only | --cluster-only]`: converges
//! both layers. Hosts are deployed over SSH first (control plane first and alone, then
//! the others one at a time unless `--parallel N`), each with magic rollback and a
//! health gate; only when every host succeeded is the cluster applied, exactly as
//! `homelab apply -e ENV` applies it (render with real secrets, server-side apply with
//! waits, then prune).
//!
//! `--plan` shows both layers first — which hosts' systems would change and the
//! cluster's dry-run summary with prunes, the two looked at side by side — and then:
//! - `--yes`: deploys what the plan found changed;
//! - on a terminal: asks "Apply these changes? [y/N]"; a "no" changes nothing and
//!   exits 2 (like `diff --exit-code`: changes are pending);
//! - otherwise (CI, pipes): prints only and exits 0.
//!
//! With `--output json` the plan is one JSON line (`"event": "plan"`) followed by the
//! apply's JSON lines; everything meant for people goes to stderr.
//!
//! A plan that could not be made completely (an unreachable host, a failed build, a
//! cluster that cannot be diffed) exits 1 without changing anything. The apply after a
//! plan uses the very objects the plan showed: the cluster is rendered and its secrets
//! decrypted once per run.

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::process::ExitCode;

use crate::apply::session::{Session, SessionOptions};
use crate::deploy::closures::{self, ClosureOptions};
use crate::deploy::describe;
use crate::deploy::health::{self, Overrides};
use crate::deploy::hosts::{self, HostPlan, RebuildOptions};
use crate::deploy::hosts_run::{self, Gate, RunOptions};
use crate::deploy::nodes::{KubeNodes, NodeOps};
use crate::deploy::plan::{ClusterPlan, DeployPlan};
use crate::inventory::Inventory;
use crate::Lab;

use super::apply::{prepare, resolve_context, run_session, KubeArgs};
use super::confirm::{self, Decision, StdioPrompt};
use super::duration::DurationArg;
use super::exit::{settle, Reported};
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment to deploy (a key of releases/environments.toml); hosts are the
    /// same for every environment, so `--hosts-only` does not need it
    #[arg(short, long, value_name = "ENV")]
    pub env: Option<String>,
    /// Show both layers' changes first, then ask "Apply these changes? [y/N]" on a
    /// terminal ("no" exits 2); without a terminal and without `--yes`, only print
    #[arg(long, conflicts_with = "dry_run")]
    pub plan: bool,
    /// With `--plan`: deploy without asking
    #[arg(short, long)]
    pub yes: bool,
    /// Answer the `--plan` question from stdin even when it is not a terminal (for tests
    /// and scripts that pipe an answer)
    #[arg(long, hide = true)]
    pub confirm_from_stdin: bool,
    /// Deploy the hosts only; with `-e ENV` the health gate still checks their nodes
    #[arg(long, conflicts_with = "cluster_only")]
    pub hosts_only: bool,
    /// Apply the cluster only, leaving the hosts as they are
    #[arg(long)]
    pub cluster_only: bool,
    /// Deploy only this host (repeatable) [default: every host in the inventory]
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
    /// Print the host commands without running them, and apply the cluster as a
    /// server-side dry run
    #[arg(long)]
    pub dry_run: bool,
    /// How many hosts to deploy at once after the control plane (which is always first
    /// and alone); more than 1 is for people who accept several hosts down at once
    #[arg(
        short = 'j',
        long,
        alias = "jobs",
        default_value = "1",
        value_name = "N"
    )]
    pub parallel: NonZeroUsize,
    /// Switch with `nixos-rebuild switch --target-host` and no automatic rollback (the
    /// health gate still stops the deploy, leaving the unhealthy host as it is)
    #[arg(long)]
    pub no_rollback: bool,
    /// How long a host waits for the confirmation over a new SSH connection before it
    /// switches back by itself [default: the host's `confirmTimeout`, else 30s]
    #[arg(long, value_name = "DURATION")]
    pub confirm_timeout: Option<DurationArg>,
    /// How long a confirmed host may take to become healthy (API /readyz, Node Ready with
    /// the inventory's kubelet, labels and taints, CoreDNS answering, nginx listening)
    /// before it is rolled back and the deploy stops
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub health_timeout: DurationArg,
    /// How long draining a node before a reboot may take; the pod that blocks is named
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub drain_timeout: DurationArg,
    /// How long a rebooted host may take to answer SSH with its new system
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub reboot_timeout: DurationArg,
    /// Send the health gate's DNS query here instead of the DNS host (tests)
    #[arg(long, hide = true, value_name = "ADDR:PORT")]
    pub dns_check_at: Option<std::net::SocketAddr>,
    /// Connect the health gate's ingress check to this address instead of the host (tests)
    #[arg(long, hide = true, value_name = "ADDR")]
    pub ingress_check_at: Option<std::net::IpAddr>,
    /// Evaluate and build every host, even one whose system records the repository's
    /// host input digest (nix/host-inputs.json): without it such a host is left alone,
    /// found in one SSH round trip without evaluating anything
    #[arg(long)]
    pub rebuild: bool,
    /// Build each system on its host instead of here (e.g. an x86 laptop and an arm64 Pi),
    /// for `--plan` too
    #[arg(long)]
    pub build_on_target: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// How the cluster layer is reached and applied; the same options as `homelab apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    #[command(flatten)]
    pub target: super::apply::TargetArgs,
    #[command(flatten)]
    pub apply: super::apply::ApplyFlags,
}

impl ClusterArgs {
    fn kube(&self, env: &str) -> KubeArgs {
        KubeArgs {
            env: env.to_string(),
            selector: Vec::new(),
            target: self.target.clone(),
            concurrency: SessionOptions::default().concurrency,
        }
    }

    /// Renders and connects for `env`, as `homelab apply` would.
    fn prepare(&self, env: &str, dry_run: bool, global: &GlobalArgs) -> anyhow::Result<Session> {
        let kube = self.kube(env);
        let options = self.apply.session_options(dry_run, kube.concurrency);
        prepare(&kube, global, options)
    }
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    if args.env.is_none() && !args.hosts_only {
        eprintln!(
            "error: Deploying the cluster needs an environment: pass `-e ENV`, or `--hosts-only` to rebuild only the hosts"
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
    // Without an environment only the hosts are deployed (`--hosts-only`, checked above).
    let cluster_env = args.env.as_deref().filter(|_| !args.hosts_only);
    let host_plan = match args.cluster_only {
        true => None,
        false => match selected_hosts(lab.inventory(), &args.hosts) {
            Ok(plan) => Some(plan),
            Err(code) => return Ok(code),
        },
    };
    let root = std::path::absolute(&lab.root).unwrap_or_else(|_| lab.root.clone());
    let rebuild = RebuildOptions {
        build_on_target: args.build_on_target,
        ..RebuildOptions::for_root(&root)
    };
    let mut options = RunOptions::new(rebuild, args.parallel);
    options.rollback = !args.no_rollback;
    options.confirm_timeout = args.confirm_timeout.map(|d| d.0);
    options.health_timeout = args.health_timeout.0;
    options.drain_timeout = args.drain_timeout.0;
    options.reboot_timeout = args.reboot_timeout.0;
    if host_plan.is_some() && !args.rebuild {
        match lab.host_inputs() {
            Ok(inputs) => options.inputs = inputs.map(|i| i.digest),
            Err(e) => {
                eprintln!("error: {e}\n  help: {}", e.help());
                return Ok(ExitCode::from(1));
            }
        }
    }

    // The plan's rendered cluster, reused by the apply that follows it.
    let mut planned: Option<Session> = None;
    let (host_plan, cluster_env) = if args.plan {
        // The hosts are looked at (SSH, perhaps a build) while the cluster is rendered and
        // diffed: a plan costs the slower of the two, not their sum.
        let plan = std::thread::scope(|s| {
            let hosts = host_plan.as_ref().map(|p| {
                let options = ClosureOptions {
                    build_on_target: args.build_on_target,
                    inputs: options.inputs.clone(),
                    ..ClosureOptions::new(root.clone().into_os_string())
                };
                s.spawn(move || closures::plan_closures(p, &options))
            });
            let cluster = cluster_env.map(|env| {
                let (plan, prepared) = plan_cluster(args, env, global);
                planned = prepared;
                plan
            });
            DeployPlan {
                env: args.env.clone().unwrap_or_default(),
                hosts: hosts.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
                cluster,
            }
        });
        match global.output {
            OutputFormat::Json => println!("{}", plan.to_json()),
            OutputFormat::Text => print!("{}", plan.render()),
        }
        let _ = std::io::stdout().flush();
        if plan.problems() > 0 {
            eprintln!(
                "error: The plan is incomplete: {} problem(s) above. Nothing was changed; fix them and run again",
                plan.problems()
            );
            return Ok(ExitCode::from(1));
        }
        if !plan.has_changes() {
            let message = "Nothing to deploy: every host and cluster object is up to date.";
            match global.output {
                OutputFormat::Json => eprintln!("{message}"),
                OutputFormat::Text => println!("{message}"),
            }
            return Ok(ExitCode::SUCCESS);
        }
        match confirm::decide(args.yes, &mut StdioPrompt::new(args.confirm_from_stdin))? {
            Decision::Proceed => {}
            Decision::PrintOnly => {
                eprintln!("No terminal to confirm on, so nothing was changed; run with --yes to deploy this plan.");
                return Ok(ExitCode::SUCCESS);
            }
            Decision::Declined => {
                eprintln!("Declined; nothing was changed.");
                return Ok(ExitCode::from(2));
            }
        }
        let hosts = host_plan.map(|p| plan.hosts_to_switch(&p));
        (hosts, cluster_env.filter(|_| plan.cluster_changes()))
    } else {
        (host_plan, cluster_env)
    };

    if let Some(plan) = host_plan.filter(|p| !p.stages.is_empty()) {
        let nodes = match (args.dry_run, &args.env) {
            (false, Some(env)) => match connect_nodes(args, env, &lab) {
                Ok(nodes) => Some(nodes),
                Err(e) => {
                    eprintln!("error: The health gate cannot reach the cluster of environment `{env}`: {e:#}\n  help: fix the kube context, or deploy with `--hosts-only` and no `-e` to check only DNS and ingress");
                    return Ok(ExitCode::from(1));
                }
            },
            _ => None,
        };
        let gate = gate(args, &lab, &plan, nodes.as_ref().map(|n| n as &dyn NodeOps));
        if let Err(code) = deploy_hosts(
            &plan,
            &options,
            &gate,
            args.dry_run,
            cluster_env,
            global.output,
        ) {
            return Ok(code);
        }
    }
    let Some(env) = cluster_env else {
        return Ok(ExitCode::SUCCESS);
    };
    let code = settle(match planned {
        Some(session) => run_session(&session, global),
        None => args
            .cluster
            .prepare(env, args.dry_run, global)
            .and_then(|session| run_session(&session, global)),
    })?;
    if code != ExitCode::SUCCESS && !args.cluster_only {
        eprintln!("error: The hosts were deployed, but applying environment `{env}` to the cluster failed (see above); fix that and run `homelab deploy -e {env} --cluster-only`");
    }
    Ok(code)
}

/// The host phase: prints the commands on a dry run, else rebuilds. `Err` after the
/// failure summary has been printed; the cluster is then left alone.
/// The inventory's hosts named on the command line (all when none is), staged for a
/// deploy, wake or shutdown; or the exit code after saying which name is unknown.
pub(super) fn selected_hosts(
    inventory: &Inventory,
    names: &[String],
) -> Result<HostPlan, ExitCode> {
    hosts::plan(inventory, names).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })
}

fn deploy_hosts(
    plan: &HostPlan,
    options: &RunOptions,
    gate: &Gate<'_>,
    dry_run: bool,
    cluster_env: Option<&str>,
    output: OutputFormat,
) -> Result<(), ExitCode> {
    if dry_run {
        print!("{}", describe::describe(plan, options, gate));
        return Ok(());
    }
    let log = |line: &str| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    };
    if gate.nodes.is_none() {
        log("== no environment given: the health gate checks DNS and ingress only, not the nodes");
    }
    let report = hosts_run::run(plan, options, gate, &log);
    if report.succeeded() {
        // With `--output json`, stdout holds only the JSON lines of the plan and apply.
        match output {
            OutputFormat::Json => eprint!("{}", report.summary()),
            OutputFormat::Text => print!("{}", report.summary()),
        }
        let _ = std::io::stdout().flush();
        return Ok(());
    }
    eprint!("{}", report.summary());
    if let Some(env) = cluster_env {
        eprintln!("error: The cluster (environment `{env}`) was not touched because the host deploy failed; fix the host above and run `homelab deploy -e {env}` again");
    }
    Err(ExitCode::from(1))
}

/// The cluster the health gate, cordons and drains talk to: the environment's.
fn connect_nodes(args: &Args, env: &str, lab: &Lab) -> anyhow::Result<KubeNodes> {
    let resolved = resolve_context(&args.cluster.kube(env), lab)?;
    KubeNodes::connect(&resolved).map_err(anyhow::Error::msg)
}

/// What the health gate expects of each planned host, from the inventory and the
/// entry points' listen ports.
fn gate<'a>(args: &Args, lab: &Lab, plan: &HostPlan, nodes: Option<&'a dyn NodeOps>) -> Gate<'a> {
    let inventory = lab.inventory();
    let env = args.env.as_deref().unwrap_or("");
    let mut ports: Vec<u16> = lab
        .releases_in(env)
        .flat_map(|r| r.release().entrypoints.values().filter_map(|e| e.listen))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    let overrides = Overrides {
        dns: args.dns_check_at,
        ingress_address: args.ingress_check_at,
    };
    let health = plan
        .hosts()
        .map(|h| {
            let expected = health::expectations(inventory, &h.name, &ports, &overrides);
            (h.name.clone(), expected)
        })
        .collect();
    let confirm_timeouts = inventory
        .hosts
        .iter()
        .filter_map(|(name, h)| {
            let seconds = h.confirm_timeout?;
            Some((name.clone(), std::time::Duration::from_secs(seconds.into())))
        })
        .collect();
    Gate {
        nodes,
        health,
        confirm_timeouts,
    }
}

/// The cluster layer of a plan: the apply engine's server dry run and prune listing,
/// and what was prepared for it so the apply can reuse it.
fn plan_cluster(args: &Args, env: &str, global: &GlobalArgs) -> (ClusterPlan, Option<Session>) {
    match args.cluster.prepare(env, args.dry_run, global) {
        Ok(session) => (ClusterPlan::from_diff(&session.diff()), Some(session)),
        Err(e) => {
            let reason = match e.downcast_ref::<Reported>() {
                Some(_) => "the environment did not render (see above)".into(),
                None => format!("{e:#}"),
            };
            (ClusterPlan::Unavailable { reason }, None)
        }
    }
}
