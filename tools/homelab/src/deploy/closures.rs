//! The host layer of `homelab deploy --plan`: which hosts' system closures would
//! change, found without changing anything.
//!
//! Each host is probed first ([`super::probe`], one SSH round trip). When its system
//! records the repository's host input digest, it runs what the repository builds and
//! nothing is evaluated. Otherwise its system toplevel is built here
//! (`nix build --no-link --print-out-paths <flake>#nixosConfigurations.<host>.config.system.build.toplevel`)
//! and compared with what the host runs now: equal store paths mean the switch would
//! activate the very same system.
//!
//! # Caveats
//! Building for another architecture (the aarch64 Pi from an x86 laptop) needs a
//! builder or binfmt emulation; without one the build fails and the host's line says so.
//! With `build_on_target` the system is evaluated here and built in the host's own
//! store (`--eval-store auto --store ssh-ng://<target>`), as `--build-on-target` does
//! for the switch; that needs the SSH user to be root or a trusted Nix user there.

use std::ffi::{OsStr, OsString};
use std::process::{Command, Stdio};
use std::thread;

use super::hosts::{nix_ssh_options, HostPlan, HostTarget};
use super::probe::{probe_host, HostProbe};
use crate::lab::host_inputs::InputDigest;

/// How the closures are built and read.
#[derive(Debug, Clone)]
pub(crate) struct ClosureOptions {
    /// The flake holding `nixosConfigurations` (the lab's root folder).
    pub flake: OsString,
    /// `nix`, found on PATH unless a path is given.
    pub nix: OsString,
    /// `ssh`, found on PATH unless a path is given.
    pub ssh: OsString,
    /// Build in the host's store over SSH instead of here.
    pub build_on_target: bool,
    /// The repository's host input digest; `None` evaluates every host (`--rebuild`,
    /// or a lab without `nix/host-inputs.json`).
    pub inputs: Option<InputDigest>,
}

impl ClosureOptions {
    pub(crate) fn new(flake: OsString) -> ClosureOptions {
        ClosureOptions {
            flake,
            nix: "nix".into(),
            ssh: "ssh".into(),
            build_on_target: false,
            inputs: None,
        }
    }
}

/// What a switch would do to one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostChange {
    /// The host already runs this system (built and compared).
    Unchanged { current: String },
    /// The host's system records the repository's host input digest: it runs what the
    /// repository builds, found without evaluating anything.
    Current {
        current: String,
        inputs: InputDigest,
    },
    /// The host runs `current`; the switch would activate `next`.
    Changes { current: String, next: String },
    /// The current system could not be read over SSH.
    Unreachable { reason: String },
    /// The new system could not be built here.
    BuildFailed { reason: String },
}

impl HostChange {
    pub(crate) fn is_change(&self) -> bool {
        matches!(self, HostChange::Changes { .. })
    }

    /// Whether the plan for this host is incomplete.
    pub(crate) fn is_problem(&self) -> bool {
        matches!(
            self,
            HostChange::Unreachable { .. } | HostChange::BuildFailed { .. }
        )
    }
}

/// `nix build` arguments for a host's system toplevel.
pub(crate) fn build_args(host: &HostTarget, options: &ClosureOptions) -> Vec<OsString> {
    let mut installable = options.flake.clone();
    installable.push(format!(
        "#nixosConfigurations.{}.config.system.build.toplevel",
        host.name
    ));
    let mut args: Vec<OsString> = vec![
        "build".into(),
        "--no-link".into(),
        "--print-out-paths".into(),
    ];
    if options.build_on_target {
        args.extend(["--eval-store".into(), "auto".into(), "--store".into()]);
        args.push(format!("ssh-ng://{}", host.ssh.destination()).into());
    }
    // The installable is ours (a path and a host name checked at load), after `--`
    // all the same.
    args.push("--".into());
    args.push(installable);
    args
}

/// Each planned host with what a switch would do to it, in plan order. Hosts are
/// looked at in parallel; nothing on them changes.
pub(crate) fn plan_closures(
    plan: &HostPlan,
    options: &ClosureOptions,
) -> Vec<(String, HostChange)> {
    let hosts: Vec<&HostTarget> = plan.hosts().collect();
    thread::scope(|s| {
        let handles: Vec<_> = hosts
            .iter()
            .map(|host| s.spawn(move || host_change(host, options)))
            .collect();
        hosts
            .iter()
            .zip(handles)
            .map(|(host, handle)| {
                let change = handle.join().unwrap_or_else(|_| HostChange::BuildFailed {
                    reason: "planning this host panicked".into(),
                });
                (host.name.clone(), change)
            })
            .collect()
    })
}

fn host_change(host: &HostTarget, options: &ClosureOptions) -> HostChange {
    let current = match probe_host(host, &options.ssh) {
        HostProbe::Unreachable { reason } => return HostChange::Unreachable { reason },
        HostProbe::Reachable {
            current,
            inputs: Some(inputs),
            ..
        } if options.inputs.as_ref() == Some(&inputs) => {
            return HostChange::Current { current, inputs }
        }
        HostProbe::Reachable { current, .. } => current,
    };
    let ssh_options = nix_ssh_options(host).filter(|_| options.build_on_target);
    let next = match first_line(&options.nix, &build_args(host, options), ssh_options) {
        Ok(path) => path,
        Err(reason) => return HostChange::BuildFailed { reason },
    };
    if current == next {
        HostChange::Unchanged { current }
    } else {
        HostChange::Changes { current, next }
    }
}

/// Runs `program args` (with `NIX_SSHOPTS` when given) and returns its first line of
/// output, or why it failed (the exit status and the last line it wrote to stderr).
fn first_line(
    program: &OsStr,
    args: &[OsString],
    nix_ssh_options: Option<OsString>,
) -> Result<String, String> {
    let shown = program.to_string_lossy();
    let mut command = Command::new(program);
    if let Some(ssh_options) = nix_ssh_options {
        command.env("NIX_SSHOPTS", ssh_options);
    }
    let out = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!("could not run `{shown}`: {e}; `nix run .#deploy` runs with Nix, nixos-rebuild and ssh available")
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or("").trim();
    if out.status.success() && !line.is_empty() {
        return Ok(line.to_string());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
    let what = if out.status.success() {
        "printed nothing".to_string()
    } else {
        format!("failed with {}", out.status)
    };
    Err(if last.is_empty() {
        format!("`{shown}` {what}")
    } else {
        format!("`{shown}` {what}: {}", last.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        let host = HostTarget {
            name: "cp".into(),
            ssh: crate::names::SshTarget::parse("root@cp").expect("target"),
        };
        let mut options = ClosureOptions::new("/lab".into());
        assert_eq!(
            build_args(&host, &options),
            [
                "build",
                "--no-link",
                "--print-out-paths",
                "--",
                "/lab#nixosConfigurations.cp.config.system.build.toplevel"
            ]
        );
        options.build_on_target = true;
        assert_eq!(
            build_args(&host, &options),
            [
                "build",
                "--no-link",
                "--print-out-paths",
                "--eval-store",
                "auto",
                "--store",
                "ssh-ng://root@cp",
                "--",
                "/lab#nixosConfigurations.cp.config.system.build.toplevel"
            ]
        );
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = first_line(OsStr::new("/nonexistent/nix"), &[], None).unwrap_err();
        assert!(err.starts_with("could not run `/nonexistent/nix`"), "{err}");
    }

    #[test]
    fn failure_reports_the_last_stderr_line() {
        let args: Vec<OsString> = ["-c", "echo one >&2; echo 'error: boom' >&2; exit 3"]
            .into_iter()
            .map(OsString::from)
            .collect();
        assert_eq!(
            first_line(OsStr::new("sh"), &args, None).unwrap_err(),
            "`sh` failed with exit status: 3: error: boom"
        );
    }
}
