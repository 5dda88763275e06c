//! The split-DNS Corefile of a dns host.
//!
//! The home domain (`<homeSubdomain>.<domain>`) and every name under it are answered
//! with the ingress host's Tailscale address: A from its IPv4 address, AAAA from its
//! IPv6 address when the inventory declares one, and NODATA (NOERROR, no answer, the
//! zone's SOA for negative caching) for every other type. Everything else is forwarded
//! to the inventory's upstream resolvers. CoreDNS binds the host's own Tailscale
//! addresses, the ones split DNS in the tailnet points at.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::inventory::{Host, Inventory, Role};

use super::{header, safe, GenerateError, INVENTORY_DISPLAY};

/// How long clients may cache the home domain's answers, in seconds.
const TTL: u32 = 60;

/// What the home domain resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HomeAnswer {
    pub zone: String,
    pub v4: Option<IpAddr>,
    pub v6: Option<IpAddr>,
}

impl HomeAnswer {
    pub(super) fn from_inventory(inventory: &Inventory) -> Result<HomeAnswer, GenerateError> {
        let Some((name, ingress)) = inventory
            .hosts
            .iter()
            .find(|(_, h)| h.has_role(Role::Ingress))
        else {
            let dns: Vec<&str> = inventory
                .hosts
                .iter()
                .filter(|(_, h)| h.has_role(Role::Dns))
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(GenerateError::DnsWithoutIngress {
                hosts: dns.join(", "),
            });
        };
        let (v4, v6) = tailscale_addresses(ingress);
        if v4.is_none() && v6.is_none() {
            return Err(GenerateError::IngressHostWithoutTailscaleAddress { host: name.clone() });
        }
        Ok(HomeAnswer {
            zone: format!("{}.{}", inventory.home_subdomain, inventory.domain)
                .trim_end_matches('.')
                .to_ascii_lowercase(),
            v4,
            v6,
        })
    }
}

/// A host's Tailscale addresses by family. `tailscaleAddress` may be either family;
/// `tailscaleAddress6` is IPv6.
fn tailscale_addresses(host: &Host) -> (Option<IpAddr>, Option<IpAddr>) {
    let all = [host.tailscale_address, host.tailscale_address6];
    let v4 = all.iter().flatten().find(|a| a.is_ipv4()).copied();
    let v6 = all.iter().flatten().find(|a| a.is_ipv6()).copied();
    (v4, v6)
}

/// The Corefile for dns host `name`. Every name written is checked against its grammar,
/// so none can open or close a block.
pub(super) fn render(
    inventory: &Inventory,
    name: &str,
    answer: &HomeAnswer,
) -> Result<String, GenerateError> {
    let host = &inventory.hosts[name];
    let (own4, own6) = tailscale_addresses(host);
    let bind: Vec<String> = [own4, own6]
        .iter()
        .flatten()
        .map(IpAddr::to_string)
        .collect();
    if bind.is_empty() {
        return Err(GenerateError::DnsHostWithoutTailscaleAddress {
            host: name.to_string(),
        });
    }
    if inventory.cluster.upstream_dns.is_empty() {
        return Err(GenerateError::NoUpstreamDns);
    }
    let bind = bind.join(" ");
    let port = inventory.dns.port;
    let file = format!("the Corefile of `{}`", name.escape_debug());
    let zone = safe::checked(&file, "The home domain", &answer.zone, safe::domain)?;
    let name = safe::checked(&file, "Host name", name, safe::label)?;
    let soa =
        format!("{zone}. {TTL} IN SOA {name}.{zone}. hostmaster.{zone}. 1 7200 1800 86400 {TTL}");

    let mut out = header(&[INVENTORY_DISPLAY]);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "\n# {zone} and every name under it: the ingress host's Tailscale address.\n\
         {zone}:{port} {{\n    bind {bind}\n    errors\n    log\n    cache {TTL}\n"
    );
    if let Some(v4) = answer.v4 {
        let _ = write!(
            out,
            "    template IN A {zone} {{\n        answer \"{{{{ .Name }}}} {TTL} IN A {v4}\"\n    }}\n"
        );
    }
    if let Some(v6) = answer.v6 {
        let _ = write!(
            out,
            "    template IN AAAA {zone} {{\n        answer \"{{{{ .Name }}}} {TTL} IN AAAA {v6}\"\n    }}\n"
        );
    }
    // Any other type, including A or AAAA when that family has no address: NODATA.
    let _ = write!(
        out,
        "    template ANY ANY {zone} {{\n        rcode NOERROR\n        authority \"{soa}\"\n    }}\n}}\n"
    );
    let upstreams: Vec<String> = inventory
        .cluster
        .upstream_dns
        .iter()
        .map(IpAddr::to_string)
        .collect();
    let _ = write!(
        out,
        "\n# Everything else: the upstream resolvers.\n\
         .:{port} {{\n    bind {bind}\n    errors\n    log\n    health :{health}\n    cache 30\n    forward . {upstreams}\n}}\n",
        health = inventory.dns.health_port,
        upstreams = upstreams.join(" "),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(v4: Option<&str>, v6: Option<&str>) -> Host {
        serde_json::from_value(serde_json::json!({
            "system": "x86_64-linux",
            "roles": ["dns"],
            "lanAddress": "10.0.0.2",
            "tailscaleAddress": v4,
            "tailscaleAddress6": v6,
            "ssh": "root@h",
        }))
        .expect("host")
    }

    #[test]
    fn addresses_by_family() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(
            tailscale_addresses(&host(Some("100.64.0.1"), None)),
            (ip("100.64.0.1"), None)
        );
        assert_eq!(
            tailscale_addresses(&host(Some("100.64.0.1"), Some("fd7a::1"))),
            (ip("100.64.0.1"), ip("fd7a::1"))
        );
        // An IPv6 address written as `tailscaleAddress` still counts as IPv6.
        assert_eq!(
            tailscale_addresses(&host(Some("fd7a::1"), None)),
            (None, ip("fd7a::1"))
        );
        assert_eq!(tailscale_addresses(&host(None, None)), (None, None));
    }
}
