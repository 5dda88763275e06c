//! Why the host configuration files cannot be generated. Each error names the file and
//! field at fault and says how to fix it.

use std::path::PathBuf;

use thiserror::Error;

/// Where an entry point was declared: the release and its `release.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub release: String,
    pub entrypoint: String,
    pub file: PathBuf,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`entrypoints.{}` of release `{}` ({})",
            self.entrypoint,
            self.release,
            self.file.display()
        )
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum GenerateError {
    #[error(
        "Host `{host}` has the ingress role, but no release declares an entry point with a `listen` port, \
         so its nginx has nothing to forward.\n  \
         help: declare the ingress release's entry points, e.g. in releases/traefik/release.toml:\n    \
         [entrypoints.websecure]\n    node_port = 30443\n    listen = 443"
    )]
    MissingIngressRelease { host: String },

    #[error(
        "Entry points with `listen` ports are declared, the first being {first}, but no host in \
         hosts/inventory.nix has the ingress role to forward them.\n  \
         help: add \"ingress\" to the `roles` of the host that should receive ports 80 and 443"
    )]
    NoIngressHost { first: Box<Origin> },

    #[error(
        "NodePort {node_port} is declared twice: by {first} and by {second}.\n  \
         help: give each entry point its own NodePort in 30000-32767"
    )]
    NodePortCollision {
        node_port: u16,
        first: Box<Origin>,
        second: Box<Origin>,
    },

    #[error(
        "Listen port {port} is declared twice: by {first} and by {second}; the ingress proxy can forward a port \
         to one NodePort only.\n  \
         help: remove `listen` from one of them"
    )]
    ListenCollision {
        port: u16,
        first: Box<Origin>,
        second: Box<Origin>,
    },

    #[error(
        "Host `{host}` has the dns role but no `tailscaleAddress` in hosts/inventory.nix; its CoreDNS listens \
         on the tailnet address that split DNS points at.\n  \
         help: set `hosts.{host}.tailscaleAddress` to the address shown by `tailscale ip -4` on {host}"
    )]
    DnsHostWithoutTailscaleAddress { host: String },

    #[error(
        "The split DNS answers the home domain with the ingress host's Tailscale address, but ingress host \
         `{host}` has neither `tailscaleAddress` nor `tailscaleAddress6` in hosts/inventory.nix.\n  \
         help: set `hosts.{host}.tailscaleAddress` to the address shown by `tailscale ip -4` on {host}"
    )]
    IngressHostWithoutTailscaleAddress { host: String },

    #[error(
        "The inventory has dns hosts ({hosts}) but no host with the ingress role, so the split DNS has no \
         address to answer the home domain with.\n  \
         help: add \"ingress\" to the `roles` of the host that runs the ingress proxy"
    )]
    DnsWithoutIngress { hosts: String },

    #[error(
        "`cluster.upstreamDns` in hosts/inventory.nix is empty, so the split DNS cannot forward other names.\n  \
         help: list at least one resolver, e.g. upstreamDns = [ \"1.1.1.1\" \"9.9.9.9\" ];"
    )]
    NoUpstreamDns,

    #[error(
        "{what} `{value}` cannot be written into {file}: {reason}.\n  \
         help: run `homelab check`, which shows where it is declared and what it may hold"
    )]
    UnsafeValue {
        file: String,
        what: String,
        value: String,
        reason: String,
    },
}
