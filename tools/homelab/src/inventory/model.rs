//! The typed form of `hosts/inventory.nix`, as `nix-instantiate --eval --strict --json`
//! prints it. Field names are the Nix attribute names (camelCase).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The whole lab's hosts and the numbers every layer shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inventory {
    /// The user's own domain; apps are `<app>.<homeSubdomain>.<domain>`.
    pub domain: String,
    #[serde(default = "default_home_subdomain")]
    pub home_subdomain: String,
    pub cluster: Cluster,
    #[serde(default)]
    pub dns: DnsSettings,
    #[serde(default)]
    pub admins: BTreeMap<String, Admin>,
    /// Keyed by host name (a DNS-1123 label), which is also the node name.
    pub hosts: BTreeMap<String, Host>,
}

fn default_home_subdomain() -> String {
    "home".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cluster {
    pub name: String,
    /// Passed to `helm template --kube-version`.
    pub kubernetes_version: String,
    pub lan_cidr: IpNet,
    pub tailscale_cidr: IpNet,
    pub pod_cidr: IpNet,
    pub service_cidr: IpNet,
    pub api_port: u16,
    pub dns_domain: String,
    pub upstream_dns: Vec<IpAddr>,
}

/// Where the split-DNS server listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DnsSettings {
    pub port: u16,
    pub health_port: u16,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            port: 53,
            health_port: 8053,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Admin {
    pub ssh_keys: Vec<String>,
}

/// One machine of the lab; its roles select the NixOS modules it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Host {
    /// A Nix system double: `x86_64-linux` or `aarch64-linux`.
    pub system: String,
    pub roles: Vec<Role>,
    pub lan_address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailscale_address: Option<IpAddr>,
    /// Answered as AAAA by the split DNS when this host is the ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailscale_address6: Option<IpAddr>,
    /// Kubelet `--node-labels`: nothing is labelled by hand.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(default)]
    pub disks: Vec<Disk>,
    /// `user@host` for `nixos-rebuild --target-host`.
    pub ssh: String,
    /// Seconds `homelab deploy` has to confirm an activation over a new SSH connection
    /// before the host switches back by itself (`--confirm-timeout` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_timeout: Option<u32>,
    /// The MAC address `homelab wake` sends the magic packet for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The network interface with that MAC; the NixOS module enables Wake-on-LAN on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
}

impl Host {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What a host does; each role is one NixOS module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
    Dns,
    Ingress,
    Storage,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::ControlPlane,
        Role::Worker,
        Role::Dns,
        Role::Ingress,
        Role::Storage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Worker => "worker",
            Role::Dns => "dns",
            Role::Ingress => "ingress",
            Role::Storage => "storage",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// A stable path (`/dev/disk/by-id/...`), never `/dev/sdX`.
    pub device: String,
    /// What the disk is for; `ceph-osd` disks become Rook storage nodes.
    #[serde(rename = "use")]
    pub purpose: DiskUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskUse {
    CephOsd,
}
