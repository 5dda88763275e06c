//! `homelab status` against the fake API server and a fake `ssh` for which one host
//! is unreachable: hosts, releases with their revision and drift, a missing cluster
//! shown as data.

use serde_json::{json, Value};

use super::{apply_lab, apply_ok, env_for};
use crate::support::{FakeCluster, Run, TestLab};

/// `ssh … -- root@tokiwa …` fails as an unreachable host does; every other target answers
/// deploy's one `readlink -m` probe: yomogi's system records the lab's host input digest
/// (`@DIGEST@`), hanaakari's an older one.
const SSH: &str = r#"#!/bin/sh
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
if [ "$2" = "root@tokiwa" ]; then
  echo "ssh: connect to host tokiwa port 22: No route to host" >&2
  exit 255
fi
# `readlink -m` of the booted and current systems, their boot parts and the input
# digest's link: yomogi's current system has a kernel it has not booted.
target="$2"
shift 2
for path; do
  case "$target:$path" in
    root@yomogi:/run/current-system/kernel) echo /nix/store/k2-linux ;;
    root@yomogi:*/homelab/inputs) echo /nix/store/yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy-homelab-inputs-@DIGEST@ ;;
    *:*/homelab/inputs) echo /nix/store/hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh-homelab-inputs-v1-0000000000000000000000000000000000000000000000000000000000000000 ;;
    *:/run/current-system) echo /nix/store/b-nixos-system ;;
    *:/run/booted-system) echo /nix/store/a-nixos-system ;;
    *:/run/*) echo "/nix/store/same-${path##*/}" ;;
  esac
done
exit 0
"#;

pub(super) fn status(
    lab: &TestLab,
    fake: &FakeCluster,
    bin: &std::path::Path,
    args: &[&str],
) -> Run {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut env = env_for(lab, fake);
    env.push(("PATH", path));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    lab.run_with(args, &env)
}

/// `status -e dev -o json`, succeeded, and its document.
pub(super) fn status_json(
    lab: &TestLab,
    fake: &FakeCluster,
    bin: &std::path::Path,
) -> (Run, Value) {
    let run = status(lab, fake, bin, &["-o", "json", "status", "-e", "dev"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    (run, doc)
}

pub(super) fn fake_ssh(digest: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = tempfile::tempdir().expect("tempdir");
    let ssh = bin.path().join("ssh");
    std::fs::write(&ssh, SSH.replace("@DIGEST@", digest)).expect("write the fake ssh");
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

#[test]
fn status_shows_hosts_releases_drift_and_a_missing_cluster() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "yomogi"},
        "spec": {"unschedulable": true}});
    let (code, body) = fake.server.apply_as("kubelet", &node, true);
    assert_eq!(code, 201, "{body}");
    let plain = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "hanaakari"}});
    assert_eq!(fake.server.apply_as("kubelet", &plain, true).0, 201);
    let ready = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "hanaakari"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.34.1"}}});
    let (code, body) = fake.server.call(
        http::Method::PATCH,
        "/api/v1/nodes/hanaakari/status?fieldManager=kubelet",
        "application/merge-patch+json",
        ready.to_string().as_bytes(),
    );
    assert!(code == 200 || code == 201, "{code} {body}");
    // Someone scales the site by hand: one object drifts from revision 1.
    let theirs = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "site", "namespace": "site",
            "annotations": {"homelab.dev/applied-hash": "sha256:edited"}}});
    let (code, body) = fake.server.apply_as("kubectl-edit", &theirs, true);
    assert_eq!(code, 200, "{body}");

    lab.write("nix/host-inputs.json", "[\"hosts\"]")
        .write("hosts/yomogi/default.nix", "{ }\n");
    let digest = homelab::lab::host_inputs::load(lab.path())
        .expect("host inputs")
        .expect("a list")
        .digest;
    let bin = fake_ssh(digest.as_str());
    let run = status(&lab, &fake, bin.path(), &["status"]);
    run.expect_code(0);
    insta::assert_snapshot!("status_text", run.stdout_normalized());

    let (run, doc) = status_json(&lab, &fake, bin.path());
    let tokiwa = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "tokiwa")
        .unwrap();
    assert_eq!(tokiwa["reachable"], false, "{run}");
    let yomogi = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "yomogi")
        .unwrap();
    assert_eq!(
        (yomogi["system"].clone(), yomogi["reboot_for"].clone()),
        (json!("/nix/store/b-nixos-system"), json!(["kernel"])),
        "{run}"
    );
    assert_eq!(
        (yomogi["generation"].clone(), yomogi["inputs"].clone()),
        (json!("current"), json!(digest.as_str())),
        "{run}"
    );
    assert_eq!(doc["inputs"], json!(digest.as_str()), "{run}");
    assert_eq!(tokiwa["generation"], "unknown", "{run}");
    let hanaakari = doc["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "hanaakari");
    assert_eq!(hanaakari.unwrap()["generation"], "outdated", "{run}");
    assert_eq!(doc["environments"].as_array().unwrap().len(), 1);
    let site = doc["environments"][0]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "site")
        .unwrap();
    assert_eq!(
        (site["revision"].clone(), site["drift"].clone()),
        (json!(1), json!(1)),
        "{run}"
    );
}
