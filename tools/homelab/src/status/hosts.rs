//! Each inventory host as `status` shows it: reachable over SSH (one probe with the
//! deploy's SSH arguments), and its node in the cluster.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::deploy::hosts::{probe_args, HostTarget};

use super::cluster::NodeStatus;

/// One host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    pub name: String,
    pub ssh: String,
    pub reachable: bool,
    /// Why the probe failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its node in a cluster `status` reached, if any.
    pub node: Option<NodeStatus>,
}

/// What an SSH round trip to a host tells.
///
/// This is where the host side of `status` grows: the current and booted system and
/// whether a reboot is needed come from one more command over the same connection.
pub fn probe_host(ssh: &OsStr, host: &HostTarget) -> HostStatus {
    let result = Command::new(ssh)
        .args(probe_args(host))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output();
    let error = match result {
        Err(e) => Some(format!("could not start `{}`: {e}", ssh.to_string_lossy())),
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("").trim().to_string();
            Some(match last.is_empty() {
                true => format!("ssh exited with {}", out.status),
                false => last,
            })
        }
    };
    HostStatus {
        name: host.name.clone(),
        ssh: host.ssh.to_string(),
        reachable: error.is_none(),
        error,
        node: None,
    }
}
