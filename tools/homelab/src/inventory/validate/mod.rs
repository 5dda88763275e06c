//! Rules the inventory must follow beyond its types: one control plane, addresses
//! inside their networks, networks that do not overlap, and every identifier in its
//! grammar (`crate::names`). One function per rule; [`validate`] runs them in order.

mod host;
mod lab;

use std::collections::BTreeMap;

use super::load::LoadedInventory;
use super::model::{Host, Inventory};
use crate::diagnostic::{Diagnostic, Diagnostics, Location};
use host::{
    confirm_timeout, disk_paths, host_name, labels_and_taints, lan_address, power, roles,
    shared_addresses, ssh_target, storage_disks, system, tailscale_addresses,
};
use lab::{
    admins, cluster_names, domain_names, ingress_count, kubernetes_version, networks, role_counts,
    upstream_dns,
};

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
