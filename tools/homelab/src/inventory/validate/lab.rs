//! The rules over the whole inventory: its names, its networks, how many hosts hold
//! each role, and the admins.

use ipnet::IpNet;

use super::{shown, Report};
use crate::inventory::model::{Inventory, Role};
use crate::names;

pub(super) fn domain_names(inv: &Inventory, report: &mut Report<'_>) {
    if let Err(e) = names::check_domain(&inv.domain) {
        report.add(
            "domain",
            format!(
                "Domain `{}` is not a valid DNS name: {e}",
                shown(&inv.domain)
            ),
            None,
        );
    }
    if let Err(e) = names::check_dns_label(&inv.home_subdomain) {
        report.add(
            "homeSubdomain",
            format!("`homeSubdomain` `{}` {e}", shown(&inv.home_subdomain)),
            None,
        );
    }
}

pub(super) fn cluster_names(inv: &Inventory, report: &mut Report<'_>) {
    let c = &inv.cluster;
    if let Err(e) = names::check_cluster_name(&c.name) {
        report.add(
            "cluster.name",
            format!("`cluster.name` `{}` is invalid: {e}", shown(&c.name)),
            Some("use a lowercase name starting with a letter, such as \"homelab\"".into()),
        );
    }
    if let Err(e) = names::check_cluster_domain(&c.dns_domain) {
        report.add(
            "cluster.dnsDomain",
            format!(
                "`cluster.dnsDomain` `{}` is invalid: {e}",
                shown(&c.dns_domain)
            ),
            Some("Kubernetes' default is \"cluster.local\"".into()),
        );
    }
}

pub(super) fn kubernetes_version(inv: &Inventory, report: &mut Report<'_>) {
    let version = &inv.cluster.kubernetes_version;
    if let Err(e) = semver::Version::parse(version.strip_prefix('v').unwrap_or(version)) {
        report.add(
            "cluster.kubernetesVersion",
            format!(
                "`kubernetesVersion` `{}` is not a version: {e}",
                shown(version)
            ),
            Some("write it as MAJOR.MINOR.PATCH, e.g. \"1.34.1\"".into()),
        );
    }
}

pub(super) fn upstream_dns(inv: &Inventory, report: &mut Report<'_>) {
    if inv.cluster.upstream_dns.is_empty() {
        report.add(
            "cluster.upstreamDns",
            "`upstreamDns` is empty: the split DNS needs somewhere to forward other names".into(),
            None,
        );
    }
}

pub(super) fn networks(inv: &Inventory, report: &mut Report<'_>) {
    let c = &inv.cluster;
    let networks = [
        ("cluster.lanCidr", c.lan_cidr),
        ("cluster.tailscaleCidr", c.tailscale_cidr),
        ("cluster.podCidr", c.pod_cidr),
        ("cluster.serviceCidr", c.service_cidr),
    ];
    for (i, (a_field, a)) in networks.iter().enumerate() {
        if a.trunc() != *a {
            report.add(
                a_field,
                format!("`{a}` has host bits set"),
                Some(format!("did you mean `{}`?", a.trunc())),
            );
        }
        for (b_field, b) in &networks[i + 1..] {
            if overlaps(a, b) {
                report.add(
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
}

pub(super) fn role_counts(inv: &Inventory, report: &mut Report<'_>) {
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
            report.add(
                "hosts",
                format!("The lab needs {wanted} `{}` host, found {count}", role.as_str()),
                (role == Role::ControlPlane && count > 1)
                    .then(|| "the NixOS Kubernetes module has no HA control plane; keep the role on one host".into()),
            );
        }
    }
}

pub(super) fn ingress_count(inv: &Inventory, needs_ingress: bool, report: &mut Report<'_>) {
    let ingress = inv
        .hosts
        .values()
        .filter(|h| h.has_role(Role::Ingress))
        .count();
    if (needs_ingress && ingress != 1) || ingress > 1 {
        report.add(
            "hosts",
            format!("The lab needs exactly one `ingress` host, found {ingress}"),
            Some("a release exposes entry points; give the `ingress` role to the host that runs the proxy".into()),
        );
    }
}

pub(super) fn admins(inv: &Inventory, report: &mut Report<'_>) {
    for (name, admin) in &inv.admins {
        if let Err(e) = names::check_user_name(name) {
            report.add(
                &format!("admins.{name}"),
                format!("Admin name `{}` {e}", shown(name)),
                Some("admins become login names on every host, such as `ayumi`".into()),
            );
        }
        for (i, key) in admin.ssh_keys.iter().enumerate() {
            if let Err(e) = names::check_ssh_public_key(key) {
                report.add(
                    &format!("admins.{name}.sshKeys[{i}]"),
                    format!("Admin `{}`: SSH key {} is invalid: {e}", shown(name), i + 1),
                    Some(
                        "paste the one line of the public key file, e.g. `~/.ssh/id_ed25519.pub`"
                            .into(),
                    ),
                );
            }
        }
    }
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}
