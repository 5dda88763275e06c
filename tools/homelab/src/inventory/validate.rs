//! Rules the inventory must follow beyond its types: one control plane, addresses
//! inside their networks, networks that do not overlap, Kubernetes-valid names.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::load::LoadedInventory;
use super::model::{DiskUse, Role};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::names;

/// The Nix systems the lab's modules are written for.
pub const SYSTEMS: [&str; 2] = ["x86_64-linux", "aarch64-linux"];

/// Checks every rule and returns all problems found. `needs_ingress` is set when a
/// release exposes entry points, which then need exactly one ingress host.
pub fn validate(loaded: &LoadedInventory, needs_ingress: bool) -> Diagnostics {
    let inv = &loaded.inventory;
    let mut problems = Diagnostics::default();
    let mut report = |field: &str, message: String, help: Option<String>| {
        problems.push(Diagnostic::new(message, loaded.origin.locate(field)).with_help_opt(help));
    };

    if let Err(e) = names::check_dns_subdomain(&inv.domain) {
        report(
            "domain",
            format!("Domain `{}` is not a valid DNS name: {e}", inv.domain),
            None,
        );
    }
    if let Err(e) = names::check_dns_label(&inv.home_subdomain) {
        report(
            "homeSubdomain",
            format!("`homeSubdomain` `{}` {e}", inv.home_subdomain),
            None,
        );
    }
    let c = &inv.cluster;
    if let Err(e) = semver::Version::parse(c.kubernetes_version.trim_start_matches('v')) {
        report(
            "cluster.kubernetesVersion",
            format!(
                "`kubernetesVersion` `{}` is not a version: {e}",
                c.kubernetes_version
            ),
            Some("write it as MAJOR.MINOR.PATCH, e.g. \"1.34.1\"".into()),
        );
    }
    if c.upstream_dns.is_empty() {
        report(
            "cluster.upstreamDns",
            "`upstreamDns` is empty: the split DNS needs somewhere to forward other names".into(),
            None,
        );
    }
    let networks = [
        ("cluster.lanCidr", c.lan_cidr),
        ("cluster.tailscaleCidr", c.tailscale_cidr),
        ("cluster.podCidr", c.pod_cidr),
        ("cluster.serviceCidr", c.service_cidr),
    ];
    for (i, (a_field, a)) in networks.iter().enumerate() {
        if a.trunc() != *a {
            report(
                a_field,
                format!("`{a}` has host bits set"),
                Some(format!("did you mean `{}`?", a.trunc())),
            );
        }
        for (b_field, b) in &networks[i + 1..] {
            if overlaps(a, b) {
                report(
                    b_field,
                    format!(
                        "`{b}` overlaps `{a}` ({})",
                        a_field.trim_start_matches("cluster.")
                    ),
                    Some("the LAN, Tailscale, pod and service networks must be disjoint".into()),
                );
            }
        }
    }

    for (role, wanted) in [
        (Role::ControlPlane, "exactly one"),
        (Role::Dns, "at least one"),
    ] {
        let count = inv.hosts.values().filter(|h| h.has_role(role)).count();
        let ok = if role == Role::ControlPlane {
            count == 1
        } else {
            count >= 1
        };
        if !ok {
            report(
                "hosts",
                format!("The lab needs {wanted} `{}` host, found {count}", role.as_str()),
                (role == Role::ControlPlane && count > 1)
                    .then(|| "the NixOS Kubernetes module has no HA control plane; keep the role on one host".into()),
            );
        }
    }
    let ingress = inv
        .hosts
        .values()
        .filter(|h| h.has_role(Role::Ingress))
        .count();
    if (needs_ingress && ingress != 1) || ingress > 1 {
        report(
            "hosts",
            format!("The lab needs exactly one `ingress` host, found {ingress}"),
            Some("a release exposes entry points; give the `ingress` role to the host that runs the proxy".into()),
        );
    }

    let mut seen_addresses: BTreeMap<IpAddr, String> = BTreeMap::new();
    for (name, host) in &inv.hosts {
        let at = |field: &str| format!("hosts.{name}.{field}");
        if let Err(e) = names::check_dns_label(name) {
            report(
                &format!("hosts.{name}"),
                format!("Host name `{name}` {e}"),
                Some("host names are node names: use a DNS-1123 label such as `tokiwa`".into()),
            );
        }
        if !SYSTEMS.contains(&host.system.as_str()) {
            report(
                &at("system"),
                format!("Host `{name}` has unsupported system `{}`", host.system),
                Some(format!("valid systems are `{}`", SYSTEMS.join("`, `"))),
            );
        }
        if host.roles.is_empty() {
            report(
                &at("roles"),
                format!("Host `{name}` has no roles"),
                Some("give it `worker` at least".into()),
            );
        }
        if !c.lan_cidr.contains(&host.lan_address) {
            report(
                &at("lanAddress"),
                format!(
                    "Host `{name}`: LAN address {} is outside lanCidr {}",
                    host.lan_address, c.lan_cidr
                ),
                None,
            );
        }
        match host.tailscale_address {
            Some(ip) if !c.tailscale_cidr.contains(&ip) => report(
                &at("tailscaleAddress"),
                format!("Host `{name}`: Tailscale address {ip} is outside tailscaleCidr {}", c.tailscale_cidr),
                None,
            ),
            None if host.has_role(Role::Dns) || host.has_role(Role::Ingress) => report(
                &format!("hosts.{name}"),
                format!("Host `{name}` has the `{}` role but no `tailscaleAddress`", if host.has_role(Role::Dns) { "dns" } else { "ingress" }),
                Some("the split DNS serves and answers on the tailnet: add the host's 100.x address (`tailscale ip -4`)".into()),
            ),
            _ => {}
        }
        if let Some(ip) = host.tailscale_address6 {
            if !ip.is_ipv6() {
                report(
                    &at("tailscaleAddress6"),
                    format!("Host `{name}`: `tailscaleAddress6` {ip} is not an IPv6 address"),
                    None,
                );
            }
        }
        for ip in [
            Some(host.lan_address),
            host.tailscale_address,
            host.tailscale_address6,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(other) = seen_addresses.insert(ip, name.clone()) {
                if other != *name {
                    report(
                        &format!("hosts.{name}"),
                        format!("Hosts `{other}` and `{name}` share the address {ip}"),
                        None,
                    );
                }
            }
        }
        for (key, value) in &host.labels {
            if let Err(e) = names::check_label_key(key) {
                report(
                    &format!("hosts.{name}.labels.{key}"),
                    format!("Host `{name}`: label key `{key}` is invalid: {e}"),
                    None,
                );
            }
            if let Err(e) = names::check_label_value(value) {
                report(
                    &format!("hosts.{name}.labels.{key}"),
                    format!("Host `{name}`: label `{key}` has invalid value `{value}`: {e}"),
                    None,
                );
            }
        }
        for (i, taint) in host.taints.iter().enumerate() {
            if let Err(e) = names::check_label_key(&taint.key)
                .and_then(|_| names::check_label_value(&taint.value))
            {
                report(
                    &format!("hosts.{name}.taints[{i}]"),
                    format!("Host `{name}`: taint `{}` is invalid: {e}", taint.key),
                    None,
                );
            }
        }
        let osd_disks = host
            .disks
            .iter()
            .filter(|d| d.purpose == DiskUse::CephOsd)
            .count();
        if host.has_role(Role::Storage) && osd_disks == 0 {
            report(
                &at("disks"),
                format!("Host `{name}` has the `storage` role but no `ceph-osd` disk"),
                Some(
                    "add `disks = [ { device = \"/dev/disk/by-id/…\"; use = \"ceph-osd\"; } ];`"
                        .into(),
                ),
            );
        }
        for (i, disk) in host.disks.iter().enumerate() {
            if !disk.device.starts_with("/dev/") {
                report(
                    &format!("hosts.{name}.disks[{i}]"),
                    format!("Host `{name}`: disk `{}` is not a device path", disk.device),
                    Some("use a stable path under /dev/disk/by-id/".into()),
                );
            }
        }
        if host.ssh.trim().is_empty() {
            report(
                &at("ssh"),
                format!("Host `{name}` has an empty `ssh` target"),
                Some("write it as `root@<host>`".into()),
            );
        }
    }
    problems
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
