//! The commands of a host activation with magic rollback, as argument lists (pure).
//!
//! The host side is `homelab-activate`, a script in every system closure
//! (modules/deploy-rollback.nix). It is run from the NEW system's own closure
//! (`<system>/sw/bin/homelab-activate`), so the very first deploy of the rollback works
//! too, and the script that confirms is the one that armed the timer:
//!
//! 1. `nix copy --to ssh://<target> -- <system>`
//! 2. `ssh … <system>/sw/bin/homelab-activate activate <system> <seconds>`: arms a
//!    transient timer that switches back, then `switch-to-configuration test`;
//! 3. a NEW `ssh … confirm <system>`: stops the timer, sets the profile and boot entry;
//! 4. on a failed health check, `ssh … rollback <system>`.
//!
//! A store path from `nix build` is checked before it reaches a command line: `ssh`
//! hands its words to the remote shell, so nothing but store path characters may pass.

use std::ffi::OsString;
use std::time::Duration;

use super::hosts::{ssh_args, HostTarget};

/// The script's place inside a system closure (`environment.systemPackages`).
const ACTIVATE: &str = "sw/bin/homelab-activate";

/// A NixOS system in the Nix store, as `nix build` printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SystemPath(String);

impl SystemPath {
    /// `/nix/store/<name>` with a name of store path characters only (`[A-Za-z0-9+._?=-]`).
    pub(crate) fn parse(s: &str) -> Result<SystemPath, String> {
        let name = s
            .strip_prefix("/nix/store/")
            .ok_or_else(|| format!("`{}` is not in /nix/store", s.escape_debug()))?;
        let store_char = |c: char| c.is_ascii_alphanumeric() || "+._?=-".contains(c);
        if name.is_empty() || name.starts_with('.') || !name.chars().all(store_char) {
            return Err(format!(
                "`{}` is not a store path (only letters, digits and `+._?=-` after /nix/store/)",
                s.escape_debug()
            ));
        }
        Ok(SystemPath(s.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn join(&self, rest: &str) -> String {
        format!("{}/{rest}", self.0)
    }
}

/// `nix copy` arguments that send `system`'s closure to the host (with `NIX_SSHOPTS`
/// for a port).
pub(crate) fn copy_args(host: &HostTarget, system: &SystemPath) -> Vec<OsString> {
    vec![
        "copy".into(),
        "--to".into(),
        format!("ssh://{}", host.ssh.destination()).into(),
        "--".into(),
        system.as_str().into(),
    ]
}

/// `ssh` arguments running `words` as root on the host (`sudo` for another login).
pub(crate) fn as_root(host: &HostTarget, words: &[&str]) -> Vec<OsString> {
    let mut command: Vec<&str> = Vec::new();
    if host.ssh.user() != Some("root") {
        command.push("sudo");
    }
    command.extend_from_slice(words);
    ssh_args(host, &command)
}

/// Switches to `system` with `switch-to-configuration test`, after arming the timer
/// that switches back after `timeout` unless confirmed.
pub(crate) fn activate_args(
    host: &HostTarget,
    system: &SystemPath,
    timeout: Duration,
) -> Vec<OsString> {
    let seconds = timeout.as_secs().max(1).to_string();
    let script = system.join(ACTIVATE);
    as_root(host, &[&script, "activate", system.as_str(), &seconds])
}

/// Confirms `system`: stops the timer, sets the system profile and the boot entry.
pub(crate) fn confirm_args(host: &HostTarget, system: &SystemPath) -> Vec<OsString> {
    let script = system.join(ACTIVATE);
    as_root(host, &[&script, "confirm", system.as_str()])
}

/// Switches back to the generation that ran before `system` was activated, confirmed
/// or not (its profile and boot entry too).
pub(crate) fn rollback_args(host: &HostTarget, system: &SystemPath) -> Vec<OsString> {
    let script = system.join(ACTIVATE);
    as_root(host, &[&script, "rollback", system.as_str()])
}

/// The parts of a system that only a reboot brings into use.
const BOOT_PARTS: [&str; 3] = ["kernel", "initrd", "kernel-modules"];

/// One round trip: the running system, then the booted system's and `system`'s
/// kernel, initrd and kernel modules, resolved.
pub(crate) fn state_args(host: &HostTarget, system: &SystemPath) -> Vec<OsString> {
    let mut words = vec![
        "readlink".to_string(),
        "-f".into(),
        "/run/current-system".into(),
    ];
    words.extend(BOOT_PARTS.iter().map(|p| format!("/run/booted-system/{p}")));
    words.extend(BOOT_PARTS.iter().map(|p| system.join(p)));
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    ssh_args(host, &words)
}

/// What a host runs, read by [`state_args`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostState {
    pub current: String,
    /// The boot parts (`kernel`, …) that differ between the booted and the new system.
    pub reboot_for: Vec<&'static str>,
}

impl HostState {
    pub(crate) fn parse(lines: &[String]) -> Result<HostState, String> {
        if lines.len() != 1 + 2 * BOOT_PARTS.len() {
            return Err(format!(
                "expected {} lines from `readlink -f`, got {}",
                1 + 2 * BOOT_PARTS.len(),
                lines.len()
            ));
        }
        let (booted, new) = lines[1..].split_at(BOOT_PARTS.len());
        let reboot_for = BOOT_PARTS
            .iter()
            .zip(booted.iter().zip(new))
            .filter(|(_, (b, n))| b != n)
            .map(|(part, _)| *part)
            .collect();
        Ok(HostState {
            current: lines[0].clone(),
            reboot_for,
        })
    }
}

/// Reboots the host (its boot entry is the confirmed system).
pub(crate) fn reboot_args(host: &HostTarget) -> Vec<OsString> {
    as_root(host, &["systemctl", "reboot"])
}

/// Powers the host off.
pub(crate) fn poweroff_args(host: &HostTarget) -> Vec<OsString> {
    as_root(host, &["systemctl", "poweroff"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::SshTarget;

    fn host(ssh: &str) -> HostTarget {
        HostTarget {
            name: "w1".into(),
            ssh: SshTarget::parse(ssh).expect("target"),
        }
    }

    #[test]
    fn store_paths() {
        assert!(SystemPath::parse("/nix/store/abc-nixos-system-w1-25.11").is_ok());
        for bad in [
            "/nix/store/",
            "/nix/store/a b",
            "/nix/store/a;reboot",
            "/nix/store/../etc",
            "/nix/store/a/b",
            "/tmp/x",
            "-oProxyCommand=x",
        ] {
            assert!(SystemPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commands() {
        let system = SystemPath::parse("/nix/store/x-nixos-system-w1").expect("path");
        let root = host("root@w1");
        let tail = |args: Vec<OsString>| {
            args.iter()
                .skip_while(|a| *a != "--")
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            tail(activate_args(&root, &system, Duration::from_secs(30))),
            "-- root@w1 /nix/store/x-nixos-system-w1/sw/bin/homelab-activate activate /nix/store/x-nixos-system-w1 30"
        );
        assert_eq!(
            tail(confirm_args(&host("admin@w1:2222"), &system)),
            "-- admin@w1 sudo /nix/store/x-nixos-system-w1/sw/bin/homelab-activate confirm /nix/store/x-nixos-system-w1"
        );
        assert_eq!(
            copy_args(&root, &system),
            [
                "copy",
                "--to",
                "ssh://root@w1",
                "--",
                "/nix/store/x-nixos-system-w1"
            ]
        );
        assert_eq!(
            tail(state_args(&root, &system)),
            "-- root@w1 readlink -f /run/current-system /run/booted-system/kernel \
             /run/booted-system/initrd /run/booted-system/kernel-modules \
             /nix/store/x-nixos-system-w1/kernel /nix/store/x-nixos-system-w1/initrd \
             /nix/store/x-nixos-system-w1/kernel-modules"
        );
    }

    #[test]
    fn reboot_when_a_boot_part_differs() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let same =
            HostState::parse(&lines(&["/c", "/k", "/i", "/m", "/k", "/i", "/m"])).expect("state");
        assert!(same.reboot_for.is_empty());
        assert_eq!(same.current, "/c");
        let kernel =
            HostState::parse(&lines(&["/c", "/k", "/i", "/m", "/k2", "/i", "/m2"])).expect("state");
        assert_eq!(kernel.reboot_for, ["kernel", "kernel-modules"]);
        assert!(HostState::parse(&lines(&["/c"])).is_err());
    }
}
