//! Each inventory host as `status` shows it: one SSH round trip (deploy's
//! [`crate::deploy::probe::probe_host`]) for whether it answers, the system it runs,
//! whether that is what the repository builds (its recorded host input digest against
//! the repository's, nothing evaluated) and whether a reboot is due; and its node in
//! the cluster.

use serde::Serialize;

use crate::deploy::hosts::HostTarget;
use crate::deploy::probe::HostProbe;
use crate::lab::host_inputs::InputDigest;

use super::cluster::NodeStatus;

/// One host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HostStatus {
    pub name: String,
    pub ssh: String,
    pub reachable: bool,
    /// Why the probe failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `/run/current-system`, resolved, when the host answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The boot parts (`kernel`, `initrd`, `kernel-modules`) that differ between the
    /// booted and the current system: the host needs a reboot when any does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reboot_for: Vec<&'static str>,
    /// Whether the running system is what the repository builds.
    pub generation: Generation,
    /// The host input digest the running system records, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<InputDigest>,
    /// Its node in a cluster `status` reached, if any.
    pub node: Option<NodeStatus>,
}

/// The running system against what the repository builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Generation {
    /// It records the repository's host input digest.
    Current,
    /// It records another digest: the repository changed since it was deployed.
    Outdated,
    /// Nothing to compare: the host did not answer, its system records no digest, or
    /// the lab has no `nix/host-inputs.json`.
    Unknown,
}

/// What one SSH round trip to a host told; an unreachable host is data. `repository`
/// is the lab's host input digest.
pub(crate) fn host_status(
    host: &HostTarget,
    probe: HostProbe,
    repository: Option<&InputDigest>,
) -> HostStatus {
    let (error, system, reboot_for, inputs) = match probe {
        HostProbe::Unreachable { reason } => (Some(reason), None, Vec::new(), None),
        HostProbe::Reachable {
            current,
            reboot_for,
            inputs,
            ..
        } => (None, Some(current), reboot_for, inputs),
    };
    let generation = match (&inputs, repository) {
        (Some(host), Some(repository)) if host == repository => Generation::Current,
        (Some(_), Some(_)) => Generation::Outdated,
        _ => Generation::Unknown,
    };
    HostStatus {
        name: host.name.clone(),
        ssh: host.ssh.to_string(),
        reachable: error.is_none(),
        error,
        system,
        reboot_for,
        generation,
        inputs,
        node: None,
    }
}
