//! Which hosts a host deploy rebuilds, in which order, and with which command.
//!
//! The control plane goes first, alone: workers join through its cfssl and API server,
//! so they are rebuilt only once it is up to date. The other hosts follow in one stage,
//! run in parallel. Planning is pure; [`super::hosts_run`] executes a plan.

use std::ffi::OsString;
use std::path::Path;

use thiserror::Error;

use crate::inventory::{Inventory, Role};
use crate::names::SshTarget;

/// One host to rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostTarget {
    pub name: String,
    /// Parsed, so it can never start with `-`: `nixos-rebuild` hands `--target-host`'s
    /// value to `ssh` without a `--`.
    pub ssh: SshTarget,
}

/// Hosts in stages: every host of a stage finishes before the next stage starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPlan {
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    /// What the stage is, for progress and summaries ("control plane", "other hosts").
    pub label: &'static str,
    pub hosts: Vec<HostTarget>,
}

impl HostPlan {
    pub(crate) fn hosts(&self) -> impl Iterator<Item = &HostTarget> {
        self.stages.iter().flat_map(|s| &s.hosts)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum HostPlanError {
    #[error(
        "Host `{name}` is not in hosts/inventory.nix{suggestion}\n  help: the hosts are {known}"
    )]
    UnknownHost {
        name: String,
        suggestion: String,
        known: String,
    },
    #[error("Host `{name}` has an invalid `ssh` target: {reason}\n  help: write it as `[user@]host[:port]` in hosts/inventory.nix; `homelab check` shows where")]
    InvalidSshTarget { name: String, reason: String },
}

/// The hosts to rebuild: `selected` by name (all hosts when empty), control plane
/// first, the rest sorted by name. A target `check` would refuse is refused here too,
/// so no caller can hand one to a program.
pub(crate) fn plan(inventory: &Inventory, selected: &[String]) -> Result<HostPlan, HostPlanError> {
    for name in selected {
        if !inventory.hosts.contains_key(name) {
            let known: Vec<&str> = inventory.hosts.keys().map(String::as_str).collect();
            let suggestion = known
                .iter()
                .map(|k| (strsim::jaro_winkler(name, k), *k))
                .filter(|(score, _)| *score > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!("; did you mean `{k}`?"))
                .unwrap_or_default();
            return Err(HostPlanError::UnknownHost {
                name: name.clone(),
                suggestion,
                known: known.join(", "),
            });
        }
    }
    let wanted = |name: &String| selected.is_empty() || selected.contains(name);
    let mut first = Vec::new();
    let mut rest = Vec::new();
    for (name, host) in &inventory.hosts {
        if !wanted(name) {
            continue;
        }
        let ssh =
            SshTarget::parse(&host.ssh).map_err(|reason| HostPlanError::InvalidSshTarget {
                name: name.escape_debug().to_string(),
                reason,
            })?;
        let target = HostTarget {
            name: name.clone(),
            ssh,
        };
        if host.has_role(Role::ControlPlane) {
            first.push(target);
        } else {
            rest.push(target);
        }
    }
    let stages = [("control plane", first), ("other hosts", rest)]
        .into_iter()
        .filter(|(_, hosts)| !hosts.is_empty())
        .map(|(label, hosts)| Stage { label, hosts })
        .collect();
    Ok(HostPlan { stages })
}

/// How each host is rebuilt.
#[derive(Debug, Clone)]
pub(crate) struct RebuildOptions {
    /// The flake holding `nixosConfigurations` (the lab's root folder).
    pub flake: OsString,
    /// Build on the target instead of locally (`--build-host` = `--target-host`), e.g.
    /// when the laptop cannot build for the Pi's architecture.
    pub build_on_target: bool,
}

impl RebuildOptions {
    pub(crate) fn for_root(root: &Path) -> RebuildOptions {
        RebuildOptions {
            flake: root.as_os_str().to_owned(),
            build_on_target: false,
        }
    }
}

/// The `nixos-rebuild` arguments for one host.
pub(crate) fn rebuild_args(host: &HostTarget, options: &RebuildOptions) -> Vec<OsString> {
    let mut flake = options.flake.clone();
    flake.push("#");
    flake.push(&host.name);
    let destination = host.ssh.destination();
    let mut args: Vec<OsString> = vec![
        "switch".into(),
        "--flake".into(),
        flake,
        "--target-host".into(),
        destination.clone().into(),
    ];
    if options.build_on_target {
        args.push("--build-host".into());
        args.push(destination.into());
    }
    // Activation needs root on the target; a non-root login gets there with sudo.
    if host.ssh.user() != Some("root") {
        args.push("--use-remote-sudo".into());
    }
    args
}

/// `NIX_SSHOPTS` for `nixos-rebuild` and `nix` when the target names a port: neither
/// takes one in the target itself. The port is a number, so it stays one option.
pub(crate) fn nix_ssh_options(host: &HostTarget) -> Option<OsString> {
    let port = host.ssh.port()?;
    let mut options = std::env::var_os("NIX_SSHOPTS").unwrap_or_default();
    if !options.is_empty() {
        options.push(" ");
    }
    options.push(format!("-p {port}"));
    Some(options)
}

/// `ssh` options then `--` and the destination: nothing from the inventory can be
/// read as an option, whatever it holds.
pub(crate) fn ssh_args(host: &HostTarget, command: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    if let Some(port) = host.ssh.port() {
        args.push("-p".into());
        args.push(port.to_string().into());
    }
    args.extend(
        ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--"]
            .into_iter()
            .map(OsString::from),
    );
    args.push(host.ssh.destination().into());
    args.extend(command.iter().map(OsString::from));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let host = |roles: &[&str], ssh: &str| {
            serde_json::json!({
                "system": "x86_64-linux", "roles": roles, "lanAddress": "10.0.0.2",
                "tailscaleAddress": "100.64.0.2", "ssh": ssh,
            })
        };
        serde_json::from_value(serde_json::json!({
            "domain": "example.org",
            "cluster": {
                "name": "t", "kubernetesVersion": "1.34.1", "lanCidr": "10.0.0.0/24",
                "tailscaleCidr": "100.64.0.0/10", "podCidr": "10.42.0.0/16",
                "serviceCidr": "10.43.0.0/16", "apiPort": 6443, "dnsDomain": "cluster.local",
                "upstreamDns": ["1.1.1.1"]
            },
            "hosts": {
                "b-worker": host(&["worker"], "root@b"),
                "a-worker": host(&["worker", "ingress"], "admin@a"),
                "z-cp": host(&["control-plane", "dns"], "root@z"),
            }
        }))
        .expect("inventory")
    }

    fn names(plan: &HostPlan) -> Vec<Vec<&str>> {
        plan.stages
            .iter()
            .map(|s| s.hosts.iter().map(|h| h.name.as_str()).collect())
            .collect()
    }

    #[test]
    fn control_plane_first_then_the_rest_by_name() {
        let plan = plan(&inventory(), &[]).expect("plan");
        assert_eq!(names(&plan), [vec!["z-cp"], vec!["a-worker", "b-worker"]]);
    }

    #[test]
    fn selection_keeps_the_order_and_drops_empty_stages() {
        let plan = plan(&inventory(), &["b-worker".into(), "a-worker".into()]).expect("plan");
        assert_eq!(names(&plan), [vec!["a-worker", "b-worker"]]);
        assert_eq!(plan.stages[0].label, "other hosts");
    }

    #[test]
    fn unknown_host_suggests_a_name() {
        let err = plan(&inventory(), &["a-workr".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Host `a-workr` is not in hosts/inventory.nix; did you mean `a-worker`?\n  \
             help: the hosts are a-worker, b-worker, z-cp"
        );
    }

    #[test]
    fn rebuild_command() {
        let options = RebuildOptions::for_root(Path::new("/lab"));
        let target = |s: &str| SshTarget::parse(s).expect("target");
        let root = HostTarget {
            name: "z-cp".into(),
            ssh: target("root@z"),
        };
        assert_eq!(
            rebuild_args(&root, &options),
            ["switch", "--flake", "/lab#z-cp", "--target-host", "root@z"]
        );
        let user = HostTarget {
            name: "a".into(),
            ssh: target("admin@a:2222"),
        };
        let options = RebuildOptions {
            build_on_target: true,
            ..options
        };
        assert_eq!(
            rebuild_args(&user, &options),
            [
                "switch",
                "--flake",
                "/lab#a",
                "--target-host",
                "admin@a",
                "--build-host",
                "admin@a",
                "--use-remote-sudo"
            ]
        );
        let probe = crate::deploy::probe::probe_args(&user);
        assert_eq!(
            probe[..9],
            [
                "-p",
                "2222",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=10",
                "--",
                "admin@a",
                "readlink"
            ]
        );
        assert!(nix_ssh_options(&user).is_some_and(|o| o.to_string_lossy().ends_with("-p 2222")));
        assert_eq!(nix_ssh_options(&root), None);
    }

    #[test]
    fn an_option_as_target_is_refused_before_any_command() {
        let mut inventory = inventory();
        inventory.hosts.get_mut("b-worker").expect("host").ssh =
            "-oProxyCommand=touch /tmp/pwned".into();
        let err = plan(&inventory, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Host `b-worker` has an invalid `ssh` target: must not start with '-' (ssh would read it as an option)\n  \
             help: write it as `[user@]host[:port]` in hosts/inventory.nix; `homelab check` shows where"
        );
    }
}
