//! Revisions in a git repository made by the test: each apply records one; `apply
//! --atomic` restores a release whose upgrade never becomes ready to the old image;
//! `rollback --to` renders an earlier commit again; a dirty-tree revision is refused;
//! no record holds a secret's plaintext; a no-op apply pays at most two requests for
//! its record.

use std::process::Command;

use fake_apiserver::FailRule;
use serde_json::Value;

use super::{apply_lab, apply_ok, homelab, plaintexts};
use crate::support::{FakeCluster, TestLab};

fn git(lab: &TestLab, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args(args)
        .current_dir(lab.path())
        .output()
        .expect("git is installed (apt-get install git)");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit(lab: &TestLab, message: &str) {
    git(lab, &["add", "-A"]);
    git(lab, &["commit", "-q", "-m", message]);
}

/// The apply lab as a git repository with one commit.
fn git_lab() -> TestLab {
    let lab = apply_lab();
    lab.write(".gitignore", ".cache/\nkubeconfig\n");
    git(&lab, &["init", "-q", "-b", "main"]);
    commit(&lab, "one");
    lab
}

/// `history -o json`'s revisions.
fn history(lab: &TestLab, fake: &FakeCluster) -> Vec<Value> {
    let run = homelab(lab, fake, &["-o", "json", "history", "-e", "dev"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    doc["revisions"].as_array().expect("revisions").clone()
}

/// (revision, cause, outcome, restores, dirty) of each revision.
fn summary(revisions: &[Value]) -> Vec<String> {
    revisions
        .iter()
        .map(|r| {
            format!(
                "{} {} {} restores={} dirty={} changed={}",
                r["revision"], r["cause"], r["outcome"], r["restores"], r["dirty"], r["changed"]
            )
        })
        .collect()
}

fn site_deployment(fake: &FakeCluster) -> Value {
    fake.server
        .get("apps", "deployments", "site", "site")
        .expect("the site Deployment exists")
}

fn image(d: &Value) -> &str {
    d["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or("")
}

#[test]
fn atomic_restores_rollback_goes_back_and_history_tells() {
    let lab = git_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    lab.replace("releases/site/values.yaml", "replicas: 1", "replicas: 2");
    commit(&lab, "two replicas");
    apply_ok(&lab, &fake, &[]);
    assert_eq!(site_deployment(&fake)["spec"]["replicas"], 2);

    // An upgrade whose Deployment never becomes ready is restored to revision 2.
    fake.server.fail(
        FailRule::new("Deployment", "site")
            .in_namespace("site")
            .with_image("nginx:1.28"),
    );
    lab.replace(
        "releases/site/manifests/deployment.yaml.hbs",
        "nginx:1.27",
        "nginx:1.28",
    );
    commit(&lab, "nginx 1.28");
    let run = homelab(
        &lab,
        &fake,
        &["apply", "-e", "dev", "--timeout", "20s", "--atomic"],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("error: Release `site` did not become ready (see above); it was restored to revision 2 (commit "),
        "{run}"
    );
    assert_eq!(image(&site_deployment(&fake)), "nginx:1.27", "{run}");
    let revisions = history(&lab, &fake);
    insta::assert_debug_snapshot!("history_after_atomic", summary(&revisions));

    // Back to the first commit: one replica again, recorded as a rollback of 1.
    let run = homelab(
        &lab,
        &fake,
        &[
            "rollback",
            "-e",
            "dev",
            "--to",
            "1",
            "--yes",
            "--timeout",
            "20s",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("replicas"),
        "the plan shows the change\n{run}"
    );
    assert_eq!(site_deployment(&fake)["spec"]["replicas"], 1);
    let revisions = history(&lab, &fake);
    assert_eq!(
        summary(&revisions).last().unwrap(),
        "5 \"rollback\" \"succeeded\" restores=1 dirty=false changed=[\"site\"]"
    );
    let text = homelab(&lab, &fake, &["history", "-e", "dev", "-l", "name=site"]);
    text.expect_code(0);
    assert_eq!(
        text.stdout.lines().count(),
        6,
        "a header and five revisions\n{text}"
    );
    assert!(text.stdout.starts_with("REVISION  TIME"), "{text}");

    // Applied from a dirty tree: recorded, and refused as a rollback target.
    lab.replace("releases/site/values.yaml", "replicas: 2", "replicas: 3");
    lab.replace(
        "releases/site/manifests/deployment.yaml.hbs",
        "nginx:1.28",
        "nginx:1.27",
    );
    apply_ok(&lab, &fake, &[]);
    let revisions = history(&lab, &fake);
    assert_eq!(revisions.last().unwrap()["dirty"], true);
    let refused = homelab(
        &lab,
        &fake,
        &["rollback", "-e", "dev", "--to", "6", "--yes"],
    );
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("revision 6 was applied from a work tree with uncommitted changes"),
        "{refused}"
    );

    // No record holds a secret's plaintext (or its base64).
    let records: String = fake
        .server
        .list("", "configmaps", Some("kube-system"))
        .iter()
        .filter(|c| c["metadata"]["labels"]["app.kubernetes.io/component"] == "homelab-revision")
        .map(|c| c.to_string())
        .collect();
    assert!(
        records.contains("Secret/vaultwarden/vaultwarden-admin"),
        "{records}"
    );
    for secret in plaintexts(lab.path()) {
        assert!(
            !records.contains(&secret),
            "a record holds a secret plaintext"
        );
    }
}

#[test]
fn a_no_op_apply_records_with_two_requests_and_keeps_the_configured_count() {
    let lab = apply_lab();
    lab.replace(
        "releases/environments.toml",
        "secrets = \"secrets/dev.yaml\"",
        "secrets = \"secrets/dev.yaml\"\nkeep_revisions = 2",
    );
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    apply_ok(&lab, &fake, &[]);
    fake.server.reset_requests();
    let run = apply_ok(&lab, &fake, &[]);
    assert!(run.stderr.contains("Recorded revision 3."), "{run}");
    let record: Vec<String> = fake
        .server
        .request_log()
        .iter()
        .filter(|r| r.uri.contains("/namespaces/kube-system/configmaps"))
        .map(|r| format!("{} {}", r.method, r.uri))
        .collect();
    assert_eq!(record.len(), 2, "a LIST and one apply: {record:#?}");
    let revisions = history(&lab, &fake);
    let numbers: Vec<&Value> = revisions.iter().map(|r| &r["revision"]).collect();
    assert_eq!(numbers, [2, 3], "two kept");
    let slots = fake.server.list("", "configmaps", Some("kube-system"));
    assert_eq!(
        slots
            .iter()
            .filter(|c| c["metadata"]["labels"]["app.kubernetes.io/component"] == "homelab-revision")
            .count(),
        2
    );
}

#[test]
fn a_bad_keep_count_is_refused_where_it_is_written() {
    let lab = apply_lab();
    lab.replace(
        "releases/environments.toml",
        "secrets = \"secrets/dev.yaml\"",
        "secrets = \"secrets/dev.yaml\"\nkeep_revisions = 0",
    );
    let run = lab.run(&["check"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("keeps 0 revisions; expected 1 to 100"),
        "{run}"
    );
}

#[test]
fn atomic_restores_a_release_whose_pre_upgrade_hook_fails() {
    let lab = apply_lab();
    lab.write(
        "releases/hooked/release.toml",
        "name = \"hooked\"\nnamespace = \"hooks\"\nvalues = [\"values.yaml\"]\n\n[chart]\npath = \"../../charts/hooked\"\n",
    );
    lab.write("releases/hooked/values.yaml", "schemaVersion: \"1\"\n");
    lab.write(".gitignore", ".cache/\nkubeconfig\n");
    git(&lab, &["init", "-q", "-b", "main"]);
    commit(&lab, "one");
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    lab.write("releases/hooked/values.yaml", "schemaVersion: \"2\"\n");
    commit(&lab, "schema 2");
    fake.server.fail(FailRule::new("Job", "hooked-migrate"));
    let run = homelab(
        &lab,
        &fake,
        &["apply", "-e", "dev", "--timeout", "20s", "--atomic"],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("error: Release `hooked` had a pre-install or pre-upgrade hook fail (see above); it was restored to revision 1 (commit "),
        "{run}"
    );
    let last = history(&lab, &fake).last().cloned().unwrap();
    assert_eq!(
        (
            last["cause"].clone(),
            last["restores"].clone(),
            last["outcome"].clone()
        ),
        (
            Value::from("atomic-restore"),
            Value::from(1),
            Value::from("succeeded")
        ),
        "{run}"
    );
}

/// The release names a revision recorded.
fn releases_of(revision: &Value) -> Vec<String> {
    revision["releases"]
        .as_object()
        .expect("releases")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn destroy_is_recorded_and_rollback_brings_the_last_apply_back() {
    let lab = git_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let applied = releases_of(&history(&lab, &fake)[0]);
    assert!(applied.len() > 2, "{applied:?}");

    let one = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=vaultwarden", "--yes"],
    );
    one.expect_code(0);
    assert!(one.stderr.contains("Recorded revision 2."), "{one}");
    let all = homelab(&lab, &fake, &["destroy", "-e", "dev", "--yes"]);
    all.expect_code(0);
    assert!(all.stderr.contains("Recorded revision 3."), "{all}");
    assert!(!fake.has("apps", "deployments", "site", "site"), "{all}");

    // The first names vaultwarden only; the second every release still there.
    let revisions = history(&lab, &fake);
    let rest: Vec<String> = applied
        .iter()
        .filter(|r| *r != "vaultwarden")
        .cloned()
        .collect();
    let summaries = summary(&revisions);
    assert_eq!(
        summaries[1],
        "2 \"destroy\" \"succeeded\" restores=null dirty=false changed=[\"vaultwarden\"]"
    );
    assert_eq!(
        summaries[2],
        format!(
            "3 \"destroy\" \"succeeded\" restores=null dirty=false changed={}",
            serde_json::to_string(&rest).expect("JSON")
        )
    );
    assert_eq!(releases_of(&revisions[2]), rest);
    assert!(
        revisions[2]["releases"]
            .as_object()
            .expect("releases")
            .values()
            .all(|r| r["objects"] == 0 && r["ready"] == false),
        "{revisions:?}"
    );

    // `status` shows each release destroyed, in the revision that did it, and what
    // the data-loss guard kept is not drift.
    let bin = super::status::fake_ssh("v1-none");
    let (_, doc) = super::status::status_json(&lab, &fake, bin.path());
    let shown = &doc["environments"][0]["releases"];
    for release in shown.as_array().expect("releases") {
        let by = if release["name"] == "vaultwarden" {
            2
        } else {
            3
        };
        assert_eq!(
            (
                &release["destroyed"],
                &release["revision"],
                &release["drift"]
            ),
            (&Value::Bool(true), &Value::from(by), &Value::from(0)),
            "{release}"
        );
    }
    let text = super::status::status(&lab, &fake, bin.path(), &["status", "-e", "dev"]);
    assert!(text.stdout.contains("3 (destroyed)"), "{text}");

    // A destroy is no rollback target; without --to, rollback picks revision 1.
    let refused = homelab(
        &lab,
        &fake,
        &["rollback", "-e", "dev", "--to", "3", "--yes"],
    );
    refused.expect_code(1);
    assert!(
        refused.stderr.contains(
            "error: Cannot roll back to revision 3: it destroyed its releases, so there is nothing to render again"
        ),
        "{refused}"
    );
    // Given --inventory, rollback uses it (the user said so) and says it is not the
    // commit's.
    let outside = tempfile::tempdir().expect("a folder outside the lab");
    let json = outside.path().join("inventory.json");
    std::fs::write(&json, lab.evaluated_inventory()).expect("write the inventory");
    let json = json.to_string_lossy().to_string();
    let back = homelab(
        &lab,
        &fake,
        &[
            "rollback",
            "-e",
            "dev",
            "--yes",
            "--timeout",
            "20s",
            "--inventory",
            &json,
        ],
    );
    back.expect_code(0);
    assert!(back.stderr.contains("back to revision 1 "), "{back}");
    assert!(
        back.stderr.contains(&format!(
            "warning: Rendering revision 1 with the inventory in {json} (--inventory), not the one in commit "
        )),
        "{back}"
    );
    assert!(fake.has("apps", "deployments", "site", "site"), "{back}");
    assert!(
        fake.has("apps", "deployments", "vaultwarden", "vaultwarden"),
        "{back}"
    );
    let revisions = history(&lab, &fake);
    assert_eq!(
        summary(&revisions).last().expect("a revision"),
        &format!(
            "4 \"rollback\" \"succeeded\" restores=1 dirty=false changed={}",
            serde_json::to_string(&applied).expect("JSON")
        )
    );
}
