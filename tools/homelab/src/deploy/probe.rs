//! One host's state in one SSH round trip: whether it answers, the system it runs and
//! the one it booted, whether a reboot is due, and the host input digest its system
//! was built from. `deploy` (before anything changes, and to skip hosts whose inputs
//! did not change), `deploy --plan`, `status` and `wake` all look at a host this way.

use std::ffi::{OsStr, OsString};

use crate::lab::host_inputs::InputDigest;

use super::activate::HostState;
use super::hosts::{ssh_args, HostTarget};
use super::remote::{self, Step};

/// What [`probe_host`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostProbe {
    /// The host did not answer over SSH; the reason is `ssh`'s.
    Unreachable { reason: String },
    Reachable {
        /// `/run/current-system`, resolved.
        current: String,
        /// `/run/booted-system`, resolved.
        booted: String,
        /// The boot parts (`kernel`, `initrd`, `kernel-modules`) that differ between
        /// the booted and the current system: a reboot is needed when any does.
        reboot_for: Vec<&'static str>,
        /// The host input digest the current system records (`/etc/homelab/inputs`);
        /// none for a system built before digests or from a lab without them.
        inputs: Option<InputDigest>,
    },
}

/// The words of the one remote command: the booted and the current system, both
/// systems' boot parts in the order [`HostState::parse`] reads them, then the input
/// digest's link. `-m` (not `-f`) prints a line for a path that does not exist too.
const READLINK: [&str; 11] = [
    "readlink",
    "-m",
    "/run/booted-system",
    "/run/current-system",
    "/run/booted-system/kernel",
    "/run/booted-system/initrd",
    "/run/booted-system/kernel-modules",
    "/run/current-system/kernel",
    "/run/current-system/initrd",
    "/run/current-system/kernel-modules",
    "/run/current-system/etc/homelab/inputs",
];

/// The `ssh` arguments of the probe (shown by `deploy --dry-run`).
pub(crate) fn probe_args(host: &HostTarget) -> Vec<OsString> {
    ssh_args(host, &READLINK)
}

/// Reads `host`'s current and booted systems over SSH (`ssh` is the program to run),
/// in one round trip. An unreachable host is data, not an error: `status` shows it.
///
/// # Caveats
/// Nothing on the host changes; a host that has not booted since its last switch to a
/// new kernel shows `reboot_for` non-empty.
pub(crate) fn probe_host(host: &HostTarget, ssh: &OsStr) -> HostProbe {
    let step = Step {
        program: ssh,
        args: probe_args(host),
        nix_ssh_options: None,
        host: &host.name,
        show_stdout: false,
    };
    let lines = match remote::run(step, &|_| {}) {
        Ok(lines) => lines,
        Err(f) => return HostProbe::Unreachable { reason: f.reason },
    };
    let [booted, systems @ .., inputs] = lines.as_slice() else {
        return HostProbe::Unreachable {
            reason: "`readlink` printed nothing".into(),
        };
    };
    match HostState::parse(systems) {
        Ok(state) => HostProbe::Reachable {
            current: state.current,
            booted: booted.clone(),
            reboot_for: state.reboot_for,
            inputs: InputDigest::from_store_path(inputs),
        },
        Err(reason) => HostProbe::Unreachable { reason },
    }
}

/// [`probe_host`] for every host at once, in the order given.
pub(crate) fn probe_all(hosts: &[&HostTarget], ssh: &OsStr) -> Vec<HostProbe> {
    std::thread::scope(|s| {
        let handles: Vec<_> = hosts
            .iter()
            .map(|host| s.spawn(move || probe_host(host, ssh)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| HostProbe::Unreachable {
                    reason: "probing this host panicked".into(),
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::SshTarget;

    /// A stand-in for `ssh` that prints the resolved paths of a host whose current
    /// system has a new kernel.
    fn fake_ssh(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("ssh");
        let script = "#!/bin/sh\nfor a; do case \"$a\" in\n\
            /run/booted-system) echo /nix/store/a-system;;\n\
            /run/current-system) echo /nix/store/b-system;;\n\
            /run/current-system/kernel) echo /nix/store/k2;;\n\
            */etc/homelab/inputs) echo /nix/store/00000000000000000000000000000000-homelab-inputs-v1-$(printf %064d 7);;\n\
            /run/*) echo \"/nix/store/same-${a##*/}\";;\n\
            esac; done\n";
        std::fs::write(&path, script).expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    #[test]
    fn one_round_trip_reads_both_systems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host = HostTarget {
            name: "w1".into(),
            ssh: SshTarget::parse("root@w1").expect("target"),
        };
        let probe = probe_host(&host, fake_ssh(dir.path()).as_os_str());
        assert_eq!(
            probe,
            HostProbe::Reachable {
                current: "/nix/store/b-system".into(),
                booted: "/nix/store/a-system".into(),
                reboot_for: vec!["kernel"],
                inputs: InputDigest::parse(&format!("v1-{:064}", 7)),
            }
        );
        assert!(
            matches!(&probe, HostProbe::Reachable { reboot_for, .. } if !reboot_for.is_empty())
        );
        let gone = probe_host(&host, OsStr::new("/nonexistent/ssh"));
        assert!(matches!(gone, HostProbe::Unreachable { .. }));
    }
}
