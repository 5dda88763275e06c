//! Rules the inventory must follow beyond its types: one control plane, addresses
//! inside their networks, networks that do not overlap, and every identifier in its
//! grammar (`crate::names`). One function per rule; [`validate`] runs them in order.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::load::LoadedInventory;
use super::model::{DiskUse, Host, Inventory, Role};
use crate::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::names;

/// The Nix systems the lab's modules are written for.
pub(super) const SYSTEMS: [&str; 2] = ["x86_64-linux", "aarch64-linux"];

/// Collects problems, each located at an attribute path of the inventory.
struct Report<'a> {
    loaded: &'a LoadedInventory,
    problems: Diagnostics,
}

impl Report<'_> {
    fn add(&mut self, field: &str, message: String, help: Option<String>) {
        let mut location = self.loaded.origin.locate(field);
        // A field path holds the data's own keys; shown escaped, like the message.
        if let Location::Field { field, .. } = &mut location {
            *field = shown(field);
        }
        self.problems
            .push(Diagnostic::new(message, location).with_help_opt(help));
    }
}

/// A rule over the whole inventory.
type LabRule = fn(&Inventory, &mut Report<'_>);

/// A rule over one host (its name and its entry).
type HostRule = fn(&Inventory, &str, &Host, &mut Report<'_>);

const LAB_RULES: [LabRule; 6] = [
    domain_names,
    cluster_names,
    kubernetes_version,
    upstream_dns,
    networks,
    role_counts,
];

const HOST_RULES: [HostRule; 11] = [
    host_name,
    system,
    roles,
    lan_address,
    tailscale_addresses,
    labels_and_taints,
    storage_disks,
    disk_paths,
    ssh_target,
    power,
    confirm_timeout,
];

/// Checks every rule and returns all problems found. `needs_ingress` is set when a
/// release exposes entry points, which then need exactly one ingress host.
pub fn validate(loaded: &LoadedInventory, needs_ingress: bool) -> Diagnostics {
    let inv = &loaded.inventory;
    let mut report = Report {
        loaded,
        problems: Diagnostics::default(),
    };
    for rule in LAB_RULES {
        rule(inv, &mut report);
    }
    ingress_count(inv, needs_ingress, &mut report);
    let mut seen_addresses = BTreeMap::new();
    for (name, host) in &inv.hosts {
        for rule in HOST_RULES {
            rule(inv, name, host, &mut report);
        }
        shared_addresses(name, host, &mut seen_addresses, &mut report);
    }
    admins(inv, &mut report);
    report.problems
}

/// A value as it may be shown in a message: control characters escaped, so data
/// cannot add lines to the diagnostic.
fn shown(s: &str) -> String {
    s.escape_debug().to_string()
}

fn domain_names(inv: &Inventory, report: &mut Report<'_>) {
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

fn cluster_names(inv: &Inventory, report: &mut Report<'_>) {
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

fn kubernetes_version(inv: &Inventory, report: &mut Report<'_>) {
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

fn upstream_dns(inv: &Inventory, report: &mut Report<'_>) {
    if inv.cluster.upstream_dns.is_empty() {
        report.add(
            "cluster.upstreamDns",
            "`upstreamDns` is empty: the split DNS needs somewhere to forward other names".into(),
            None,
        );
    }
}

fn networks(inv: &Inventory, report: &mut Report<'_>) {
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

fn role_counts(inv: &Inventory, report: &mut Report<'_>) {
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

fn ingress_count(inv: &Inventory, needs_ingress: bool, report: &mut Report<'_>) {
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

fn host_name(_: &Inventory, name: &str, _: &Host, report: &mut Report<'_>) {
    if let Err(e) = names::check_dns_label(name) {
        report.add(
            &format!("hosts.{name}"),
            format!("Host name `{}` {e}", shown(name)),
            Some("host names are node names: use a DNS-1123 label such as `tokiwa`".into()),
        );
    }
}

fn system(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if !SYSTEMS.contains(&host.system.as_str()) {
        report.add(
            &format!("hosts.{name}.system"),
            format!(
                "Host `{}` has unsupported system `{}`",
                shown(name),
                shown(&host.system)
            ),
            Some(format!("valid systems are `{}`", SYSTEMS.join("`, `"))),
        );
    }
}

fn roles(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if host.roles.is_empty() {
        report.add(
            &format!("hosts.{name}.roles"),
            format!("Host `{}` has no roles", shown(name)),
            Some("give it `worker` at least".into()),
        );
    }
}

fn lan_address(inv: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    let cidr = inv.cluster.lan_cidr;
    if !cidr.contains(&host.lan_address) {
        report.add(
            &format!("hosts.{name}.lanAddress"),
            format!(
                "Host `{}`: LAN address {} is outside lanCidr {cidr}",
                shown(name),
                host.lan_address
            ),
            None,
        );
    }
}

fn tailscale_addresses(inv: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    let cidr = inv.cluster.tailscale_cidr;
    let shown_name = shown(name);
    match host.tailscale_address {
        Some(ip) if !cidr.contains(&ip) => report.add(
            &format!("hosts.{name}.tailscaleAddress"),
            format!("Host `{shown_name}`: Tailscale address {ip} is outside tailscaleCidr {cidr}"),
            None,
        ),
        None if host.has_role(Role::Dns) || host.has_role(Role::Ingress) => report.add(
            &format!("hosts.{name}"),
            format!(
                "Host `{shown_name}` has the `{}` role but no `tailscaleAddress`",
                if host.has_role(Role::Dns) { "dns" } else { "ingress" }
            ),
            Some("the split DNS serves and answers on the tailnet: add the host's 100.x address (`tailscale ip -4`)".into()),
        ),
        _ => {}
    }
    if let Some(ip) = host.tailscale_address6.filter(|ip| !ip.is_ipv6()) {
        report.add(
            &format!("hosts.{name}.tailscaleAddress6"),
            format!("Host `{shown_name}`: `tailscaleAddress6` {ip} is not an IPv6 address"),
            None,
        );
    }
}

/// No two hosts share an address; `seen` carries the addresses of earlier hosts.
fn shared_addresses(
    name: &str,
    host: &Host,
    seen: &mut BTreeMap<IpAddr, String>,
    report: &mut Report<'_>,
) {
    let addresses = [
        Some(host.lan_address),
        host.tailscale_address,
        host.tailscale_address6,
    ];
    for ip in addresses.into_iter().flatten() {
        if let Some(other) = seen.insert(ip, name.to_string()) {
            if other != name {
                report.add(
                    &format!("hosts.{name}"),
                    format!(
                        "Hosts `{}` and `{}` share the address {ip}",
                        shown(&other),
                        shown(name)
                    ),
                    None,
                );
            }
        }
    }
}

fn labels_and_taints(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    let shown_name = shown(name);
    for (key, value) in &host.labels {
        let at = format!("hosts.{name}.labels.{key}");
        if let Err(e) = names::check_label_key(key) {
            report.add(
                &at,
                format!(
                    "Host `{shown_name}`: label key `{}` is invalid: {e}",
                    shown(key)
                ),
                None,
            );
        }
        if let Err(e) = names::check_label_value(value) {
            report.add(
                &at,
                format!(
                    "Host `{shown_name}`: label `{}` has invalid value `{}`: {e}",
                    shown(key),
                    shown(value)
                ),
                None,
            );
        }
    }
    for (i, taint) in host.taints.iter().enumerate() {
        if let Err(e) =
            names::check_label_key(&taint.key).and_then(|_| names::check_label_value(&taint.value))
        {
            report.add(
                &format!("hosts.{name}.taints[{i}]"),
                format!(
                    "Host `{shown_name}`: taint `{}` is invalid: {e}",
                    shown(&taint.key)
                ),
                None,
            );
        }
    }
}

fn storage_disks(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    let osd_disks = host
        .disks
        .iter()
        .filter(|d| d.purpose == DiskUse::CephOsd)
        .count();
    if host.has_role(Role::Storage) && osd_disks == 0 {
        report.add(
            &format!("hosts.{name}.disks"),
            format!(
                "Host `{}` has the `storage` role but no `ceph-osd` disk",
                shown(name)
            ),
            Some(
                "add `disks = [ { device = \"/dev/disk/by-id/…\"; use = \"ceph-osd\"; } ];`".into(),
            ),
        );
    }
}

fn disk_paths(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    for (i, disk) in host.disks.iter().enumerate() {
        if let Err(e) = names::check_disk_path(&disk.device) {
            report.add(
                &format!("hosts.{name}.disks[{i}]"),
                format!(
                    "Host `{}`: disk `{}` is not a device path: {e}",
                    shown(name),
                    shown(&disk.device)
                ),
                Some("use a stable path under /dev/disk/by-id/".into()),
            );
        }
    }
}

fn ssh_target(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if let Err(e) = names::SshTarget::parse(&host.ssh) {
        report.add(
            &format!("hosts.{name}.ssh"),
            format!(
                "Host `{}` has an invalid `ssh` target `{}`: {e}",
                shown(name),
                shown(&host.ssh)
            ),
            Some("write it as `[user@]host[:port]`, e.g. `root@<host>`".into()),
        );
    }
}

/// `mac` and `interface` (Wake-on-LAN): each in its grammar, an interface only with a MAC.
fn power(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if let Some(mac) = &host.mac {
        if let Err(e) = names::check_mac(mac) {
            report.add(
                &format!("hosts.{name}.mac"),
                format!("Host `{}`: `mac` `{}` {e}", shown(name), shown(mac)),
                Some("copy it from `ip link show <interface>` on the host (`link/ether …`)".into()),
            );
        }
    }
    if let Some(interface) = &host.interface {
        if let Err(e) = names::check_interface(interface) {
            report.add(
                &format!("hosts.{name}.interface"),
                format!(
                    "Host `{}`: `interface` `{}` {e}",
                    shown(name),
                    shown(interface)
                ),
                Some("use the name `ip link` shows, such as `enp1s0`".into()),
            );
        }
        if host.mac.is_none() {
            report.add(
                &format!("hosts.{name}.interface"),
                format!(
                    "Host `{}` has an `interface` but no `mac`: Wake-on-LAN needs both",
                    shown(name)
                ),
                Some("add `mac = \"…\";` or remove `interface`".into()),
            );
        }
    }
}

/// `confirmTimeout`: long enough for a switch to finish, short enough to matter.
fn confirm_timeout(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if let Some(seconds) = host.confirm_timeout.filter(|s| !(5..=3600).contains(s)) {
        report.add(
            &format!("hosts.{name}.confirmTimeout"),
            format!(
                "Host `{}`: `confirmTimeout` {seconds} is outside 5..=3600 seconds",
                shown(name)
            ),
            Some("the default is 30; a slow Pi may need 120".into()),
        );
    }
}

fn admins(inv: &Inventory, report: &mut Report<'_>) {
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
