//! One host's deploy with magic rollback: build, copy, look (one SSH round trip),
//! drain when a reboot is due, activate with the rollback timer armed, confirm over a
//! new SSH connection, reboot, health gate, uncordon.
//!
//! # Guarantees
//! - A host that already runs the built system is left alone: no activation, drain,
//!   reboot or health wait.
//! - The boot entry changes only once the deployer confirmed over a new connection;
//!   an activation that cannot be confirmed ends in the previous generation, by the
//!   host's own timer when it cannot be reached.
//! - A node is drained only when the new system needs a reboot, and uncordoned only
//!   after the host is healthy again.
//! - A host rolled back after it rebooted into the new system is rebooted again, into
//!   the previous generation's kernel; its node then stays cordoned for a person to
//!   look at.

use std::time::{Duration, Instant};

use super::activate::{self, HostState, SystemPath};
use super::closures::{build_args, ClosureOptions};
use super::health::{self, HostHealth};
use super::hosts::{nix_ssh_options, ssh_args, HostTarget};
use super::hosts_run::{Outcome, RunOptions};
use super::nodes::NodeOps;
use super::remote::{self, Failure, Log, Step};

/// What a host deploy needs besides the host.
pub(crate) struct HostContext<'a> {
    pub options: &'a RunOptions,
    pub nodes: Option<&'a dyn NodeOps>,
    pub health: HostHealth,
    pub confirm_timeout: Duration,
}

/// How long after the confirm timeout the deployer looks whether the host went back.
const ROLLBACK_GRACE: Duration = Duration::from_secs(2);

/// Deploys `host` and says how it ended.
pub(crate) fn deploy(host: &HostTarget, ctx: &HostContext<'_>, log: Log<'_>) -> Outcome {
    let started = Instant::now();
    match steps(host, ctx, log) {
        Ok(note) => {
            let took = started.elapsed();
            log(&format!(
                "[{}] {note} in {:.1}s",
                host.name,
                took.as_secs_f64()
            ));
            Outcome::Succeeded { took, note }
        }
        Err(outcome) => outcome,
    }
}

fn failed(f: Failure) -> Outcome {
    Outcome::Failed {
        reason: f.reason,
        tail: f.tail,
    }
}

fn steps(host: &HostTarget, ctx: &HostContext<'_>, log: Log<'_>) -> Result<String, Outcome> {
    let o = ctx.options;
    let name = host.name.as_str();
    let system = build(host, o, log)?;
    if !o.rebuild.build_on_target {
        log(&format!("[{name}] copying {}", system.as_str()));
        run(host, &o.nix, activate::copy_args(host, &system), true, log).map_err(failed)?;
    }
    let lines = run(
        host,
        &o.ssh,
        activate::state_args(host, &system),
        false,
        log,
    )
    .map_err(failed)?;
    let state = HostState::parse(&lines).map_err(|reason| Outcome::Failed {
        reason,
        tail: lines.clone(),
    })?;
    if state.current == system.as_str() {
        return Ok("already runs this system".into());
    }
    let reboot = !state.reboot_for.is_empty();
    let nodes = ctx.nodes.filter(|_| ctx.health.node.is_some());
    if reboot {
        log(&format!(
            "[{name}] the new {} needs a reboot",
            state.reboot_for.join(", ")
        ));
        if let Some(nodes) = nodes {
            drain(name, nodes, o.drain_timeout, log)?;
        }
    }
    activate_and_confirm(host, ctx, &system, log)?;
    if reboot {
        let previous = SystemPath::parse(&state.current).map_err(|reason| Outcome::Failed {
            reason: format!("the system it ran before cannot be rebooted into: {reason}"),
            tail: Vec::new(),
        })?;
        let back = |reason| rollback_rebooted(host, ctx, &system, &previous, reason, log);
        reboot_into(host, ctx, &system, log).map_err(back)?;
        log(&format!("[{name}] waiting until healthy"));
        health::wait_healthy(&ctx.health, ctx.nodes, o.health_timeout).map_err(back)?;
    } else {
        log(&format!("[{name}] waiting until healthy"));
        health::wait_healthy(&ctx.health, ctx.nodes, o.health_timeout)
            .map_err(|reason| rollback(host, ctx, &system, reason, log))?;
    }
    if let (true, Some(nodes)) = (reboot, nodes) {
        nodes
            .cordon(name, false)
            .map_err(|reason| Outcome::Failed {
                reason,
                tail: Vec::new(),
            })?;
        log(&format!("[{name}] uncordoned"));
    }
    Ok(if reboot {
        "rebooted, healthy"
    } else {
        "activated, healthy"
    }
    .into())
}

fn run(
    host: &HostTarget,
    program: &std::ffi::OsStr,
    args: Vec<std::ffi::OsString>,
    nix: bool,
    log: Log<'_>,
) -> Result<Vec<String>, Failure> {
    remote::run(
        Step {
            program,
            args,
            nix_ssh_options: nix.then(|| nix_ssh_options(host)).flatten(),
            host: &host.name,
            show_stdout: true,
        },
        log,
    )
}

fn build(host: &HostTarget, o: &RunOptions, log: Log<'_>) -> Result<SystemPath, Outcome> {
    log(&format!("[{}] building its system", host.name));
    let closure = ClosureOptions {
        build_on_target: o.rebuild.build_on_target,
        nix: o.nix.clone(),
        ssh: o.ssh.clone(),
        ..ClosureOptions::new(o.rebuild.flake.clone())
    };
    let step = Step {
        program: &o.nix,
        args: build_args(host, &closure),
        nix_ssh_options: nix_ssh_options(host).filter(|_| o.rebuild.build_on_target),
        host: &host.name,
        show_stdout: false,
    };
    let lines = remote::run(step, log).map_err(failed)?;
    let path = lines
        .iter()
        .rfind(|l| !l.trim().is_empty())
        .map(|l| l.trim());
    SystemPath::parse(path.unwrap_or("")).map_err(|e| Outcome::Failed {
        reason: format!("`nix build` printed no system path: {e}"),
        tail: lines.clone(),
    })
}

fn drain(name: &str, nodes: &dyn NodeOps, timeout: Duration, log: Log<'_>) -> Result<(), Outcome> {
    let fail = |reason| Outcome::Failed {
        reason,
        tail: Vec::new(),
    };
    nodes.cordon(name, true).map_err(fail)?;
    log(&format!("[{name}] cordoned; draining"));
    if let Err(reason) = nodes.drain(name, timeout, log) {
        let undo = match nodes.cordon(name, false) {
            Ok(()) => "it was uncordoned".to_string(),
            Err(e) => format!("uncordoning failed too: {e}"),
        };
        return Err(fail(format!("{reason}; nothing was activated and {undo}")));
    }
    log(&format!("[{name}] drained"));
    Ok(())
}

fn activate_and_confirm(
    host: &HostTarget,
    ctx: &HostContext<'_>,
    system: &SystemPath,
    log: Log<'_>,
) -> Result<(), Outcome> {
    let (o, name) = (ctx.options, &host.name);
    let timeout = ctx.confirm_timeout;
    log(&format!(
        "[{name}] activating (rolls back by itself unless confirmed within {}s)",
        timeout.as_secs()
    ));
    let armed = Instant::now();
    let args = activate::activate_args(host, system, timeout);
    if let Err(f) = run(host, &o.ssh, args, false, log) {
        if !f.connection_lost {
            return Err(rollback(
                host,
                ctx,
                system,
                format!("activation failed: {}", f.reason),
                log,
            ));
        }
        let reason = format!(
            "the SSH connection was lost during activation ({})",
            f.reason
        );
        return Err(await_timer(host, ctx, armed, reason, log));
    }
    log(&format!("[{name}] confirming over a new SSH connection"));
    let args = activate::confirm_args(host, system);
    if let Err(f) = run(host, &o.ssh, args, false, log) {
        let reason = format!("could not confirm over a new SSH connection ({})", f.reason);
        return Err(await_timer(host, ctx, armed, reason, log));
    }
    log(&format!(
        "[{name}] confirmed; the boot entry is the new system"
    ));
    Ok(())
}

/// The host's timer switches it back: waits until it has fired, then looks.
fn await_timer(
    host: &HostTarget,
    ctx: &HostContext<'_>,
    armed: Instant,
    reason: String,
    log: Log<'_>,
) -> Outcome {
    let fires = ctx.confirm_timeout + ROLLBACK_GRACE;
    log(&format!(
        "[{}] {reason}; the host switches back by itself within {}s",
        host.name,
        fires.saturating_sub(armed.elapsed()).as_secs()
    ));
    std::thread::sleep(fires.saturating_sub(armed.elapsed()));
    let args = ssh_args(host, &["readlink", "-f", "/run/current-system"]);
    let seen = match run(host, &ctx.options.ssh, args, false, log) {
        Ok(lines) => format!(
            "it runs {} again",
            lines.first().map_or("?", String::as_str)
        ),
        Err(f) => format!("not verified: {}", f.reason),
    };
    Outcome::RolledBack {
        reason: format!("{reason}; {seen}"),
    }
}

/// Switches the host back at once (confirmed or not) and reports why.
fn rollback(
    host: &HostTarget,
    ctx: &HostContext<'_>,
    system: &SystemPath,
    reason: String,
    log: Log<'_>,
) -> Outcome {
    log(&format!("[{}] {reason}; rolling back", host.name));
    let args = activate::rollback_args(host, system);
    match run(host, &ctx.options.ssh, args, false, log) {
        Ok(_) => Outcome::RolledBack { reason },
        Err(f) => Outcome::Failed {
            reason: format!("{reason}; rolling back failed too: {}", f.reason),
            tail: f.tail,
        },
    }
}

/// Rolls back a host that rebooted into `system`, then reboots it into `previous`: only
/// a reboot brings the previous kernel back.
fn rollback_rebooted(
    host: &HostTarget,
    ctx: &HostContext<'_>,
    system: &SystemPath,
    previous: &SystemPath,
    reason: String,
    log: Log<'_>,
) -> Outcome {
    let reason = match rollback(host, ctx, system, reason, log) {
        Outcome::RolledBack { reason } => reason,
        failed => return failed,
    };
    let back = match reboot_into(host, ctx, previous, log) {
        Ok(()) => "rebooted into the previous generation".to_string(),
        Err(e) => format!("rebooting into the previous generation failed: {e}"),
    };
    let cordoned = match ctx.nodes.filter(|_| ctx.health.node.is_some()) {
        Some(_) => format!(
            "; its node stays cordoned (`kubectl uncordon {}` once it is healthy)",
            host.name
        ),
        None => String::new(),
    };
    Outcome::RolledBack {
        reason: format!("{reason}; {back}{cordoned}"),
    }
}

/// Reboots into `system` (the boot entry) and waits until it booted it.
fn reboot_into(
    host: &HostTarget,
    ctx: &HostContext<'_>,
    system: &SystemPath,
    log: Log<'_>,
) -> Result<(), String> {
    let o = ctx.options;
    log(&format!("[{}] rebooting", host.name));
    // The connection drops as the host goes down; whether ssh saw an exit is moot.
    let _ = run(host, &o.ssh, activate::reboot_args(host), false, log);
    let deadline = Instant::now() + o.reboot_timeout;
    let args = ssh_args(host, &["readlink", "-f", "/run/booted-system"]);
    loop {
        let quiet = |_: &str| {};
        let step = Step {
            program: &o.ssh,
            args: args.clone(),
            nix_ssh_options: None,
            host: &host.name,
            show_stdout: false,
        };
        match remote::run(step, &quiet) {
            Ok(lines) if lines.first().map(String::as_str) == Some(system.as_str()) => {
                log(&format!("[{}] booted {}", host.name, system.as_str()));
                return Ok(());
            }
            result if Instant::now() >= deadline => {
                let last = match result {
                    Ok(lines) => format!("it booted {}", lines.join(" ")),
                    Err(f) => f.reason,
                };
                return Err(format!(
                    "the host did not come back with {} within {}s ({last})",
                    system.as_str(),
                    o.reboot_timeout.as_secs()
                ));
            }
            _ => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}
