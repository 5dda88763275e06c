//! One grammar per identifier. Every string of the inventory or a release that reaches
//! a generated file, a command line, a NixOS option or a Kubernetes object is checked
//! here at load time, so nothing downstream has to escape what it cannot contain.
//! `nix/identifiers.nix` holds the same rules for the flake; both are tested against
//! `checks/identifiers/vectors.json`. docs/identifiers.md lists every field and its rule.

mod disk;
mod dns;
mod kubernetes;
mod mac;
mod ssh;

pub(crate) use disk::check_disk_path;
pub(crate) use dns::{check_cluster_domain, check_cluster_name, check_domain};
pub(crate) use kubernetes::{
    check_config_key, check_dns_label, check_dns_subdomain, check_label_key, check_label_value,
    check_port_name,
};
pub(crate) use mac::{check_interface, check_mac, parse_mac};
pub(crate) use ssh::{check_ssh_public_key, check_user_name, SshTarget};

#[cfg(test)]
mod vectors;
