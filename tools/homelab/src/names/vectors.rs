//! The shared vectors (`checks/identifiers/vectors.json`), which `nix/identifiers.nix`
//! is tested against too, so the flake and `homelab check` refuse the same values.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Family {
    good: Vec<String>,
    bad: Vec<String>,
}

fn rule(family: &str) -> fn(&str) -> Result<(), String> {
    match family {
        "dnsLabel" => check_dns_label,
        "dnsSubdomain" => check_dns_subdomain,
        "domain" => check_domain,
        "clusterName" => check_cluster_name,
        "clusterDomain" => check_cluster_domain,
        "labelKey" => check_label_key,
        "labelValue" => check_label_value,
        "portName" => check_port_name,
        "userName" => check_user_name,
        "sshTarget" => |s| SshTarget::parse(s).map(drop),
        "sshPublicKey" => check_ssh_public_key,
        "diskPath" => check_disk_path,
        "mac" => check_mac,
        "interface" => check_interface,
        other => panic!("vectors.json has family `{other}` that no Rust rule checks"),
    }
}

#[test]
fn every_vector_is_judged_as_written() {
    let text = include_str!("../../../../checks/identifiers/vectors.json");
    let mut all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).expect("vectors.json is JSON");
    all.remove("_comment");
    let mut wrong = Vec::new();
    for (name, value) in all {
        let family: Family = serde_json::from_value(value).expect("a family has good and bad");
        let check = rule(&name);
        for good in &family.good {
            if let Err(e) = check(good) {
                wrong.push(format!("{name}: {good:?} should pass but: {e}"));
            }
        }
        for bad in &family.bad {
            if check(bad).is_ok() {
                wrong.push(format!("{name}: {bad:?} should be refused"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
