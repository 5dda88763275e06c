//! The ingress host's nginx `stream` block: a plain TCP proxy from each entry point's
//! `listen` port (80, 443) to its NodePort. TLS ends in the ingress controller, so
//! nginx never sees a certificate.
//!
//! The proxy targets the ingress host's own LAN address: kube-proxy serves every
//! NodePort on every node, and the LAN address is the one the kubelet registers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::inventory::Inventory;

use super::{header, safe, GenerateError, IngressRoutes, INVENTORY_DISPLAY};

/// Where the proxy listens and forwards. The defaults are what runs on the host; tests
/// remap both to loopback ports.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// Listen ports to replace (`listen` → the port to use); others stay.
    pub listen_ports: BTreeMap<u16, u16>,
    /// Replaces the upstream of every route.
    pub target: Option<StreamTarget>,
}

/// An upstream override for tests: one address, and the port to use for each NodePort
/// (NodePorts not listed keep their number).
#[derive(Debug, Clone)]
pub struct StreamTarget {
    pub address: IpAddr,
    pub ports: BTreeMap<u16, u16>,
}

/// The stream block's contents (nginx wraps them in `stream { … }`). Release names,
/// entry point names and paths are checked against their grammar, so none can end a
/// comment line or add a directive.
pub(super) fn render(
    inventory: &Inventory,
    routes: &IngressRoutes,
    options: &StreamOptions,
) -> Result<String, GenerateError> {
    const FILE: &str = "the nginx stream config";
    let host = &inventory.hosts[&routes.host];
    let mut sources: Vec<String> = vec![INVENTORY_DISPLAY.to_string()];
    for route in &routes.routes {
        let file = route.origin.file.display().to_string();
        safe::checked(FILE, "Release file", &file, safe::path)?;
        safe::checked(FILE, "Release name", &route.origin.release, safe::label)?;
        safe::checked(
            FILE,
            "Entry point name",
            &route.origin.entrypoint,
            safe::port_name,
        )?;
        if !sources.contains(&file) {
            sources.push(file);
        }
    }
    let sources: Vec<&str> = sources.iter().map(String::as_str).collect();
    let mut out = header(&sources);
    // The tailnet reaches the proxy over IPv6 only when the host declares an address.
    let ipv6 =
        host.tailscale_address6.is_some() || host.tailscale_address.is_some_and(|a| a.is_ipv6());
    for route in &routes.routes {
        let listen = options
            .listen_ports
            .get(&route.listen)
            .copied()
            .unwrap_or(route.listen);
        let (address, port) = match &options.target {
            Some(t) => (
                t.address,
                t.ports
                    .get(&route.node_port)
                    .copied()
                    .unwrap_or(route.node_port),
            ),
            None => (host.lan_address, route.node_port),
        };
        let upstream = match address {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        let name = upstream_name(&route.origin.release, &route.origin.entrypoint);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "\n# {listen} -> NodePort {node_port}: `entrypoints.{entrypoint}` of release `{release}`.\n\
             upstream {name} {{\n    server {upstream};\n}}\n\
             server {{\n    listen {listen};\n",
            node_port = route.node_port,
            entrypoint = route.origin.entrypoint,
            release = route.origin.release,
        );
        if ipv6 {
            let _ = writeln!(out, "    listen [::]:{listen};");
        }
        let _ = write!(out, "    proxy_pass {name};\n}}\n");
    }
    Ok(out)
}

/// An nginx upstream name (letters, digits and `_`) unique per entry point: `-` becomes
/// `__` and one `_` joins the two names. Neither name holds `_` or starts or ends with
/// `-`, so the joining `_` stands alone and `a-b`/`web` never meets `a`/`b-web`.
fn upstream_name(release: &str, entrypoint: &str) -> String {
    let part = |s: &str| s.replace('-', "__");
    format!("{}_{}", part(release), part(entrypoint))
}

#[cfg(test)]
mod tests {
    use super::upstream_name;

    #[test]
    fn upstream_names_do_not_collide() {
        assert_eq!(upstream_name("traefik", "websecure"), "traefik_websecure");
        assert_ne!(upstream_name("a-b", "web"), upstream_name("a", "b-web"));
    }
}
