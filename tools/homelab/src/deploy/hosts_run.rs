//! Running a [`HostPlan`]: every host is probed over SSH first, so an unreachable host
//! stops the deploy before anything changed; then each stage's hosts are deployed, up
//! to `jobs` at a time: with magic rollback and the health gate ([`super::host_steps`]),
//! or with `nixos-rebuild switch` under `--no-rollback`.
//!
//! # Guarantees
//!
//! - A stage starts only after every host of the previous stage succeeded.
//! - After the first failure or rollback no further host is started; hosts already
//!   running finish, and the report says which succeeded, which rolled back or failed
//!   and which were not started.
//! - Each child's output is passed on line by line, prefixed with its host's name.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::num::NonZeroUsize;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::health::{self, HostHealth};
use super::host_steps::{self, HostContext};
use super::hosts::{
    nix_ssh_options, probe_args, rebuild_args, HostPlan, HostTarget, RebuildOptions,
};
use super::nodes::NodeOps;
use super::remote::{self, lock, Log, Step};
pub(crate) use super::report::{Outcome, Report};

/// The confirm timeout when neither the inventory nor `--confirm-timeout` gives one.
pub(crate) const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// What a host deploy runs and how.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    pub jobs: NonZeroUsize,
    pub rebuild: RebuildOptions,
    /// `nixos-rebuild` (only with `--no-rollback`), found on PATH unless a path is given.
    pub nixos_rebuild: OsString,
    /// `ssh`, found on PATH unless a path is given.
    pub ssh: OsString,
    /// `nix`, found on PATH unless a path is given.
    pub nix: OsString,
    /// Magic rollback (the default); `false` is `--no-rollback`: `nixos-rebuild switch`.
    pub rollback: bool,
    /// `--confirm-timeout`; a host's `confirmTimeout` in the inventory wins over the default.
    pub confirm_timeout: Option<Duration>,
    pub health_timeout: Duration,
    pub drain_timeout: Duration,
    pub reboot_timeout: Duration,
}

impl RunOptions {
    pub(crate) fn new(rebuild: RebuildOptions, jobs: NonZeroUsize) -> RunOptions {
        RunOptions {
            jobs,
            rebuild,
            nixos_rebuild: "nixos-rebuild".into(),
            ssh: "ssh".into(),
            nix: "nix".into(),
            rollback: true,
            confirm_timeout: None,
            health_timeout: Duration::from_secs(300),
            drain_timeout: Duration::from_secs(300),
            reboot_timeout: Duration::from_secs(600),
        }
    }
}

/// Per-host facts from the inventory and the cluster the gate asks.
pub(crate) struct Gate<'a> {
    pub nodes: Option<&'a dyn NodeOps>,
    pub health: BTreeMap<String, HostHealth>,
    /// Hosts' own `confirmTimeout`.
    pub confirm_timeouts: BTreeMap<String, Duration>,
}

impl Gate<'_> {
    /// `--confirm-timeout`, else the host's `confirmTimeout`, else 30 s.
    pub(crate) fn confirm_timeout(&self, host: &str, options: &RunOptions) -> Duration {
        options
            .confirm_timeout
            .or_else(|| self.confirm_timeouts.get(host).copied())
            .unwrap_or(DEFAULT_CONFIRM_TIMEOUT)
    }
}

/// Probes every host, then deploys stage by stage. `log` receives progress and every
/// line of the children's output.
pub(crate) fn run(plan: &HostPlan, options: &RunOptions, gate: &Gate<'_>, log: Log<'_>) -> Report {
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    log(&format!(
        "== probing {} host(s) over SSH",
        plan.hosts().count()
    ));
    for host in plan.hosts() {
        if let Err(reason) = probe(host, options) {
            log(&format!("[{}] unreachable: {reason}", host.name));
            outcomes.insert(
                host.name.clone(),
                Outcome::Failed {
                    reason,
                    tail: Vec::new(),
                },
            );
        }
    }
    let unreachable = !outcomes.is_empty();
    if !unreachable {
        for stage in &plan.stages {
            log(&format!("== {}: {}", stage.label, names(&stage.hosts)));
            let results = run_stage(&stage.hosts, options, gate, log);
            let failed = results
                .values()
                .any(|o| !matches!(o, Outcome::Succeeded { .. }));
            outcomes.extend(results);
            if failed {
                break;
            }
        }
    }
    let hosts = plan
        .hosts()
        .map(|h| {
            let outcome = outcomes.remove(&h.name).unwrap_or(Outcome::NotStarted);
            (h.name.clone(), outcome)
        })
        .collect();
    Report { hosts, unreachable }
}

fn probe(host: &HostTarget, options: &RunOptions) -> Result<(), String> {
    let out = Command::new(&options.ssh)
        .args(probe_args(host))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| cannot_start(&options.ssh, &e))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("").trim();
    Err(format!(
        "`ssh {}` failed with {}{}",
        host.ssh,
        out.status,
        if last.is_empty() {
            String::new()
        } else {
            format!(": {last}")
        }
    ))
}

fn run_stage(
    hosts: &[HostTarget],
    options: &RunOptions,
    gate: &Gate<'_>,
    log: Log<'_>,
) -> BTreeMap<String, Outcome> {
    let queue = Mutex::new(hosts.iter().collect::<VecDeque<_>>());
    let stop = AtomicBool::new(false);
    let results = Mutex::new(BTreeMap::new());
    let workers = options.jobs.get().min(hosts.len());
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(host) = lock(&queue).pop_front() else {
                    return;
                };
                let outcome = deploy_one(host, options, gate, log);
                if !matches!(outcome, Outcome::Succeeded { .. }) {
                    stop.store(true, Ordering::SeqCst);
                }
                lock(&results).insert(host.name.clone(), outcome);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn deploy_one(host: &HostTarget, options: &RunOptions, gate: &Gate<'_>, log: Log<'_>) -> Outcome {
    let health = gate.health.get(&host.name).cloned().unwrap_or_default();
    if options.rollback {
        let ctx = HostContext {
            options,
            nodes: gate.nodes,
            health,
            confirm_timeout: gate.confirm_timeout(&host.name, options),
        };
        return host_steps::deploy(host, &ctx, log);
    }
    let started = Instant::now();
    if let Err(outcome) = rebuild(host, options, log) {
        return outcome;
    }
    match health::wait_healthy(&health, gate.nodes, options.health_timeout) {
        Ok(()) => Outcome::Succeeded {
            took: started.elapsed(),
            note: "switched, healthy".into(),
        },
        Err(reason) => Outcome::Failed {
            reason: format!("{reason}; left as is (--no-rollback)"),
            tail: Vec::new(),
        },
    }
}

/// `nixos-rebuild switch --target-host`: `--no-rollback`'s way.
fn rebuild(host: &HostTarget, options: &RunOptions, log: Log<'_>) -> Result<(), Outcome> {
    log(&format!(
        "[{}] nixos-rebuild switch --target-host {}",
        host.name, host.ssh
    ));
    let step = Step {
        program: &options.nixos_rebuild,
        args: rebuild_args(host, &options.rebuild),
        nix_ssh_options: nix_ssh_options(host),
        host: &host.name,
        show_stdout: true,
    };
    remote::run(step, log)
        .map(drop)
        .map_err(|f| Outcome::Failed {
            reason: f.reason,
            tail: f.tail,
        })
}

fn cannot_start(program: &OsStr, e: &std::io::Error) -> String {
    format!(
        "could not run `{}`: {e}; `nix run .#deploy` puts nix, nixos-rebuild and ssh on PATH",
        display(program)
    )
}

fn names(hosts: &[HostTarget]) -> String {
    hosts
        .iter()
        .map(|h| h.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn display(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}
