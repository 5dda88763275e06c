//! `deploy --dry-run`'s host part: the commands a deploy would run, in order, without
//! running them. The store path is known only after the build, so it shows as
//! `/nix/store/SYSTEM-<host>`.

use std::ffi::{OsStr, OsString};

use super::activate::{self, SystemPath};
use super::closures::{build_args, ClosureOptions};
use super::hosts::{nix_ssh_options, rebuild_args, HostPlan, HostTarget};
use super::hosts_run::{Gate, RunOptions};
use super::probe::probe_args;

/// The commands a deploy would run, in order, without running them.
pub(crate) fn describe(plan: &HostPlan, options: &RunOptions, gate: &Gate<'_>) -> String {
    let mut out = String::new();
    for host in plan.hosts() {
        out.push_str(&format!(
            "{} {}\n",
            display(&options.ssh),
            join(&probe_args(host))
        ));
    }
    if let Some(inputs) = &options.inputs {
        out.push_str(&format!(
            "# a host whose system records host inputs {} is left alone from here on\n",
            inputs.short()
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
            if !options.rollback {
                out.push_str(&format!(
                    "{env}{} {}\n",
                    display(&options.nixos_rebuild),
                    join(&rebuild_args(host, &options.rebuild))
                ));
                continue;
            }
            describe_rollback(&mut out, host, options, gate, &env);
        }
    }
    out
}

fn describe_rollback(
    out: &mut String,
    host: &HostTarget,
    options: &RunOptions,
    gate: &Gate<'_>,
    env: &str,
) {
    let closure = ClosureOptions {
        build_on_target: options.rebuild.build_on_target,
        ..ClosureOptions::new(options.rebuild.flake.clone())
    };
    let nix = display(&options.nix);
    let ssh = display(&options.ssh);
    let build_env = if options.rebuild.build_on_target {
        env
    } else {
        ""
    };
    out.push_str(&format!(
        "{build_env}{nix} {}\n",
        join(&build_args(host, &closure))
    ));
    let Ok(system) = SystemPath::parse(&format!("/nix/store/SYSTEM-{}", host.name)) else {
        return;
    };
    if !options.rebuild.build_on_target {
        out.push_str(&format!(
            "{env}{nix} {}\n",
            join(&activate::copy_args(host, &system))
        ));
    }
    let timeout = gate.confirm_timeout(&host.name, options);
    for args in [
        activate::state_args(host, &system),
        activate::activate_args(host, &system, timeout),
        activate::confirm_args(host, &system),
    ] {
        out.push_str(&format!("{ssh} {}\n", join(&args)));
    }
    out.push_str(&format!(
        "# {}: drained and rebooted only when its kernel, initrd or modules change; then healthy within {}s\n",
        host.name,
        options.health_timeout.as_secs()
    ));
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
