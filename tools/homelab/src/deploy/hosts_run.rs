//! Running a [`HostPlan`]: every host is probed over SSH first, so an unreachable host
//! stops the deploy before anything changed; then each stage's hosts are rebuilt with
//! `nixos-rebuild`, up to `jobs` at a time.
//!
//! # Guarantees
//!
//! - A stage starts only after every host of the previous stage succeeded.
//! - After the first failure no further host is started; hosts already running finish,
//!   and the report says which succeeded, which failed and which were not started.
//! - Each child's output is passed on line by line, prefixed with its host's name.

use std::collections::{BTreeMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::num::NonZeroUsize;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use super::hosts::{
    nix_ssh_options, probe_args, rebuild_args, HostPlan, HostTarget, RebuildOptions,
};

/// How many lines of a failed host's output the summary repeats.
const TAIL_LINES: usize = 20;

/// What a host deploy runs and how.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    pub jobs: NonZeroUsize,
    pub rebuild: RebuildOptions,
    /// `nixos-rebuild`, found on PATH unless a path is given.
    pub nixos_rebuild: OsString,
    /// `ssh`, found on PATH unless a path is given.
    pub ssh: OsString,
}

impl RunOptions {
    pub(crate) fn new(rebuild: RebuildOptions, jobs: NonZeroUsize) -> RunOptions {
        RunOptions {
            jobs,
            rebuild,
            nixos_rebuild: "nixos-rebuild".into(),
            ssh: "ssh".into(),
        }
    }
}

/// What happened to one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Succeeded { took: Duration },
    Failed { reason: String, tail: Vec<String> },
    NotStarted,
}

/// Every planned host with its outcome, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub hosts: Vec<(String, Outcome)>,
    /// Whether the deploy stopped at the SSH probe, before any host changed.
    pub unreachable: bool,
}

impl Report {
    pub(crate) fn succeeded(&self) -> bool {
        self.hosts
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Succeeded { .. }))
    }

    fn names(&self, pick: impl Fn(&Outcome) -> bool) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|(_, o)| pick(o))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The closing summary: what succeeded, what failed (with the last lines of its
    /// output) and what was not started.
    pub(crate) fn summary(&self) -> String {
        let ok = self.names(|o| matches!(o, Outcome::Succeeded { .. }));
        if self.succeeded() {
            return format!(
                "Deployed {} host{}: {}\n",
                ok.len(),
                if ok.len() == 1 { "" } else { "s" },
                ok.join(", ")
            );
        }
        let list = |names: Vec<&str>| {
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(", ")
            }
        };
        let mut out = String::new();
        for (name, outcome) in &self.hosts {
            if let Outcome::Failed { tail, .. } = outcome {
                if !tail.is_empty() {
                    out.push_str(&format!("--- last lines from {name} ---\n"));
                    for line in tail {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
        }
        let failed: Vec<String> = self
            .hosts
            .iter()
            .filter_map(|(n, o)| match o {
                Outcome::Failed { reason, .. } => Some(format!("{n} ({reason})")),
                _ => None,
            })
            .collect();
        out.push_str(if self.unreachable {
            "Host deploy stopped before changing anything: a host cannot be reached over SSH.\n"
        } else {
            "Host deploy stopped at the first failure.\n"
        });
        out.push_str(&format!("  succeeded:   {}\n", list(ok)));
        out.push_str(&format!("  failed:      {}\n", failed.join(", ")));
        out.push_str(&format!(
            "  not started: {}\n",
            list(self.names(|o| matches!(o, Outcome::NotStarted)))
        ));
        out
    }
}

/// The commands a deploy would run, in order, without running them.
pub(crate) fn describe(plan: &HostPlan, options: &RunOptions) -> String {
    let mut out = String::new();
    for host in plan.hosts() {
        out.push_str(&format!(
            "{} {}\n",
            display(&options.ssh),
            join(&probe_args(host))
        ));
    }
    for (i, stage) in plan.stages.iter().enumerate() {
        let parallel = if stage.hosts.len() > 1 {
            format!(", up to {} at a time", options.jobs)
        } else {
            String::new()
        };
        out.push_str(&format!("# stage {}: {}{parallel}\n", i + 1, stage.label));
        for host in &stage.hosts {
            let env = nix_ssh_options(host)
                .map(|o| format!("NIX_SSHOPTS='{}' ", display(&o)))
                .unwrap_or_default();
            out.push_str(&format!(
                "{env}{} {}\n",
                display(&options.nixos_rebuild),
                join(&rebuild_args(host, &options.rebuild))
            ));
        }
    }
    out
}

/// Probes every host, then rebuilds stage by stage. `log` receives progress and every
/// line of the children's output.
pub(crate) fn run(plan: &HostPlan, options: &RunOptions, log: &(dyn Fn(&str) + Sync)) -> Report {
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
            let results = run_stage(&stage.hosts, options, log);
            let failed = results
                .values()
                .any(|o| matches!(o, Outcome::Failed { .. }));
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
    log: &(dyn Fn(&str) + Sync),
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
                let outcome = rebuild(host, options, log);
                if matches!(outcome, Outcome::Failed { .. }) {
                    stop.store(true, Ordering::SeqCst);
                }
                lock(&results).insert(host.name.clone(), outcome);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn rebuild(host: &HostTarget, options: &RunOptions, log: &(dyn Fn(&str) + Sync)) -> Outcome {
    let started = Instant::now();
    log(&format!(
        "[{}] nixos-rebuild switch --target-host {}",
        host.name, host.ssh
    ));
    let mut command = Command::new(&options.nixos_rebuild);
    if let Some(ssh_options) = nix_ssh_options(host) {
        command.env("NIX_SSHOPTS", ssh_options);
    }
    let child = command
        .args(rebuild_args(host, &options.rebuild))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Outcome::Failed {
                reason: cannot_start(&options.nixos_rebuild, &e),
                tail: Vec::new(),
            }
        }
    };
    let tail = Mutex::new(VecDeque::new());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    thread::scope(|s| {
        for pipe in [
            stdout.map(|p| Box::new(p) as Box<dyn Read + Send>),
            stderr.map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tail = &tail;
            s.spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { return };
                    log(&format!("[{}] {line}", host.name));
                    let mut tail = lock(tail);
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            });
        }
    });
    let status = child.wait();
    let tail: Vec<String> = tail.into_inner().unwrap_or_else(|e| e.into_inner()).into();
    match status {
        Ok(status) if status.success() => {
            let took = started.elapsed();
            log(&format!(
                "[{}] done in {:.1}s",
                host.name,
                took.as_secs_f64()
            ));
            Outcome::Succeeded { took }
        }
        Ok(status) => Outcome::Failed {
            reason: format!("nixos-rebuild {status}"),
            tail,
        },
        Err(e) => Outcome::Failed {
            reason: format!("waiting for nixos-rebuild failed: {e}"),
            tail,
        },
    }
}

fn cannot_start(program: &OsStr, e: &std::io::Error) -> String {
    format!(
        "could not run `{}`: {e}; `nix run .#deploy` puts nixos-rebuild and ssh on PATH",
        display(program)
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking log sink must not hide the other hosts' results.
    m.lock().unwrap_or_else(|e| e.into_inner())
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

fn join(args: &[OsString]) -> String {
    args.iter()
        .map(|a| display(a))
        .collect::<Vec<_>>()
        .join(" ")
}
