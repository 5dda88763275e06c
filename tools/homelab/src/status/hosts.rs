//! Each inventory host as `status` shows it: one SSH round trip (deploy's
//! [`crate::deploy::probe::probe_host`]) for whether it answers, the system it runs and
//! whether a reboot is due, and its node in the cluster.

use std::ffi::OsStr;

use serde::Serialize;

use crate::deploy::hosts::HostTarget;
use crate::deploy::probe::{self, HostProbe};

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
    /// Its node in a cluster `status` reached, if any.
    pub node: Option<NodeStatus>,
}

/// What one SSH round trip to a host tells; an unreachable host is data.
pub(crate) fn probe_host(ssh: &OsStr, host: &HostTarget) -> HostStatus {
    let (error, system, reboot_for) = match probe::probe_host(host, ssh) {
        HostProbe::Unreachable { reason } => (Some(reason), None, Vec::new()),
        HostProbe::Reachable {
            current,
            reboot_for,
            ..
        } => (None, Some(current), reboot_for),
    };
    HostStatus {
        name: host.name.clone(),
        ssh: host.ssh.to_string(),
        reachable: error.is_none(),
        error,
        system,
        reboot_for,
        node: None,
    }
}
