//! `homelab destroy`: lists the environment's members, asks, then deletes them by the
//! prune path: PVCs and namespaces holding them only with `--allow-data-loss`,
//! foreign objects never, and with `-l` only the selected releases' members.

use serde_json::json;

use super::{apply_lab, apply_ok, homelab};
use crate::support::FakeCluster;

#[test]
fn destroy_lists_asks_then_deletes_all_but_what_the_guards_keep() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "theirs", "namespace": "site"}, "data": {"a": "b"}});
    assert_eq!(fake.server.apply_as("other", &foreign, false).0, 201);
    let before = fake.server.resource_version();

    let dry = homelab(&lab, &fake, &["destroy", "-e", "dev", "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("delete   Deployment/site/site\n"),
        "{dry}"
    );
    assert!(
        dry.stdout.contains(
            "keep     PersistentVolumeClaim/minio/minio-data: it may hold data; pass --allow-data-loss to delete it"
        ),
        "{dry}"
    );
    assert!(
        dry.stdout.contains(
            "keep     Namespace/site: it holds objects homelab does not own (ConfigMap/theirs)"
        ),
        "{dry}"
    );
    let summary = dry.stdout.lines().last().unwrap_or("").to_string();
    assert!(summary.ends_with(" kept"), "{dry}");

    // No terminal and no --yes: nothing happens.
    let refused = homelab(&lab, &fake, &["destroy", "-e", "dev"]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("run with --yes"), "{refused}");
    assert_eq!(fake.server.resource_version(), before, "{refused}");

    let done = homelab(&lab, &fake, &["destroy", "-e", "dev", "--yes"]);
    done.expect_code(0);
    assert!(
        done.stdout
            .contains("Tearing down dev with context kind-homelab"),
        "{done}"
    );
    assert!(!fake.has("apps", "deployments", "site", "site"), "{done}");
    assert!(
        !fake.has("", "secrets", "vaultwarden", "vaultwarden-admin"),
        "{done}"
    );
    assert!(done.stdout.contains("Torn down: "), "{done}");
    assert!(
        fake.has("", "configmaps", "site", "theirs"),
        "foreign objects stay\n{done}"
    );
    assert!(
        fake.has("", "namespaces", "", "site"),
        "their namespace stays\n{done}"
    );
    assert!(fake.has("", "persistentvolumeclaims", "minio", "minio-data"));
    assert!(fake.has("", "namespaces", "", "minio"));
    assert!(!fake.has("", "namespaces", "", "web"), "{done}");

    let data = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "--yes", "--allow-data-loss"],
    );
    data.expect_code(0);
    assert!(
        !fake.has("", "persistentvolumeclaims", "minio", "minio-data"),
        "{data}"
    );
    assert!(!fake.has("", "namespaces", "", "minio"), "{data}");
    assert!(fake.has("", "configmaps", "site", "theirs"));
    assert!(fake.has("", "namespaces", "", "site"), "{data}");

    let again = homelab(&lab, &fake, &["destroy", "-e", "dev", "--yes"]);
    again.expect_code(0);
    assert!(
        again
            .stderr
            .contains("Nothing to delete in environment `dev`"),
        "{again}"
    );
}

#[test]
fn destroy_with_a_selector_deletes_only_those_releases() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let run = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=vaultwarden", "--yes"],
    );
    run.expect_code(0);
    assert!(
        !fake.has("apps", "deployments", "vaultwarden", "vaultwarden"),
        "{run}"
    );
    assert!(
        !fake.has("", "secrets", "vaultwarden", "vaultwarden-admin"),
        "{run}"
    );
    assert!(
        fake.has("", "namespaces", "", "vaultwarden"),
        "it holds a PVC\n{run}"
    );
    assert!(fake.has("apps", "deployments", "site", "site"), "{run}");
    assert!(
        fake.has("apps", "deployments", "nextcloud", "nextcloud"),
        "{run}"
    );

    // The rest is still the environment's: a plain apply recreates vaultwarden only.
    let reapplied = apply_ok(&lab, &fake, &[]);
    assert!(
        fake.has("apps", "deployments", "vaultwarden", "vaultwarden"),
        "{reapplied}"
    );

    let unknown = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=vaultwardn"],
    );
    unknown.expect_code(1);
    assert!(
        unknown
            .stderr
            .contains("No release `vaultwardn` in releases/"),
        "{unknown}"
    );
}

#[test]
fn a_declined_destroy_deletes_nothing() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let before = fake.server.resource_version();
    let env = super::env_for(&lab, &fake);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_homelab"))
            .arg("--root")
            .arg(lab.path())
            .args(["destroy", "-e", "dev", "--confirm-from-stdin"])
            .envs(env)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"n\n").unwrap();
        child.wait_with_output().unwrap()
    };
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Delete these"), "{stderr}");
    assert!(
        stderr.contains("Declined; nothing was deleted."),
        "{stderr}"
    );
    assert_eq!(fake.server.resource_version(), before);
}
