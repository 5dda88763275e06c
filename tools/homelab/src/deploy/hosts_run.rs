//! Running a [`HostPlan`]: every host is probed over SSH first, all at once
//! ([`super::probe`]), so an unreachable host stops the deploy before anything changed;
//! a host whose system records the repository's host input digest already runs what
//! the repository builds and is left alone without being evaluated. Then each stage's other hosts are
//! deployed, up to `jobs` at a time: with magic rollback and the health gate
//! ([`super::host_steps`]), or with `nixos-rebuild switch` under `--no-rollback`.
//!
//! # Guarantees
//!
//! - A stage starts only after every host of the previous stage succeeded.
//! - After the first failure or rollback no further host is started; hosts already
//!   running finish, and the report says which succeeded, which rolled back or failed
//!   and which were not started.
//! - Each child's output is passed on line by line, prefixed with its host's name.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::health::{self, HostHealth};
use super::host_steps::{self, HostContext};
use super::hosts::{nix_ssh_options, rebuild_args, HostPlan, HostTarget, RebuildOptions};
use super::nodes::NodeOps;
use super::probe::{probe_all, HostProbe};
use super::remote::{self, lock, Log, Step};
pub(crate) use super::report::{Outcome, Report};
use crate::lab::host_inputs::InputDigest;

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
    /// The repository's host input digest: a host whose system records it is not
    /// evaluated. `None` without `nix/host-inputs.json` and under `--rebuild`.
    pub inputs: Option<InputDigest>,
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
            inputs: None,
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

/// Probes every host, then deploys stage by stage the hosts that do not already run
/// what the repository builds. `log` receives progress and every line of the
/// children's output.
pub(crate) fn run(plan: &HostPlan, options: &RunOptions, gate: &Gate<'_>, log: Log<'_>) -> Report {
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    log(&format!(
        "== probing {} host(s) over SSH",
        plan.hosts().count()
    ));
    let mut unreachable = false;
    let hosts: Vec<&HostTarget> = plan.hosts().collect();
    let probes = probe_all(&hosts, &options.ssh);
    for (host, probe) in hosts.into_iter().zip(probes) {
        match probe {
            HostProbe::Unreachable { reason } => {
                log(&format!("[{}] unreachable: {reason}", host.name));
                unreachable = true;
                let tail = Vec::new();
                outcomes.insert(host.name.clone(), Outcome::Failed { reason, tail });
            }
            HostProbe::Reachable {
                inputs: Some(digest),
                ..
            } if options.inputs.as_ref() == Some(&digest) => {
                log(&format!(
                    "[{}] runs what the repository builds (host inputs {}), not evaluated; --rebuild evaluates it anyway",
                    host.name,
                    digest.short()
                ));
                outcomes.insert(host.name.clone(), Outcome::Current { inputs: digest });
            }
            HostProbe::Reachable { .. } => {}
        }
    }
    if !unreachable {
        for stage in &plan.stages {
            let hosts: Vec<HostTarget> = stage
                .hosts
                .iter()
                .filter(|h| !outcomes.contains_key(&h.name))
                .cloned()
                .collect();
            if hosts.is_empty() {
                continue;
            }
            log(&format!("== {}: {}", stage.label, names(&hosts)));
            let results = run_stage(&hosts, options, gate, log);
            let failed = results.values().any(|o| !o.is_success());
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
                if !outcome.is_success() {
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

fn names(hosts: &[HostTarget]) -> String {
    hosts
        .iter()
        .map(|h| h.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
