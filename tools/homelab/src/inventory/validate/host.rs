//! The rules over one host: its name, system and roles, its addresses, labels and
//! taints, disks, SSH target, Wake-on-LAN and confirm timeout.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{shown, Report, SYSTEMS};
use crate::inventory::model::{DiskUse, Host, Inventory, Role};
use crate::names;

pub(super) fn host_name(_: &Inventory, name: &str, _: &Host, report: &mut Report<'_>) {
    if let Err(e) = names::check_dns_label(name) {
        report.add(
            &format!("hosts.{name}"),
            format!("Host name `{}` {e}", shown(name)),
            Some("host names are node names: use a DNS-1123 label such as `tokiwa`".into()),
        );
    }
}

pub(super) fn system(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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

pub(super) fn roles(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
    if host.roles.is_empty() {
        report.add(
            &format!("hosts.{name}.roles"),
            format!("Host `{}` has no roles", shown(name)),
            Some("give it `worker` at least".into()),
        );
    }
}

pub(super) fn lan_address(inv: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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

pub(super) fn tailscale_addresses(
    inv: &Inventory,
    name: &str,
    host: &Host,
    report: &mut Report<'_>,
) {
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
pub(super) fn shared_addresses(
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

pub(super) fn labels_and_taints(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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

pub(super) fn storage_disks(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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

pub(super) fn disk_paths(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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

pub(super) fn ssh_target(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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
pub(super) fn power(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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
pub(super) fn confirm_timeout(_: &Inventory, name: &str, host: &Host, report: &mut Report<'_>) {
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
