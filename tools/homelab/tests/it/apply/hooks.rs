//! Helm hooks against the fake API server, with the `hooked` fixture chart: pre hooks
//! in weight order before the release, post hooks after it, `hook-succeeded` deleting,
//! test hooks never applied, hooks outside the apply set, no hooks on a no-op
//! re-apply, an upgrade that replaces the hook Job instead of patching it, a failed
//! test Pod's log, and `destroy` running the delete hooks around the deletion.

use serde_json::Value;

use fake_apiserver::FailRule;

use super::{apply_lab, apply_ok, homelab};
use crate::support::{FakeCluster, TestLab};

pub(super) fn hooked_lab() -> TestLab {
    let lab = apply_lab();
    lab.write(
        "releases/hooked/release.toml",
        "name = \"hooked\"\nnamespace = \"hooks\"\nvalues = [\"values.yaml\"]\n\n[chart]\npath = \"../../charts/hooked\"\n",
    );
    lab.write("releases/hooked/values.yaml", "schemaVersion: \"1\"\n");
    lab
}

fn uid(fake: &FakeCluster, plural: &str, name: &str) -> Value {
    fake.server
        .get("batch", plural, "hooks", name)
        .map(|j| j["metadata"]["uid"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn hooks_run_by_phase_and_an_upgrade_replaces_the_hook_job() {
    let lab = hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let install = apply_ok(&lab, &fake, &[]);
    let account = install
        .stdout
        .find("ServiceAccount/hooks/hooked-migrate (pre-install hook)");
    let job = install
        .stdout
        .find("Job/hooks/hooked-migrate (pre-install hook)");
    let config = install.stdout.find("ConfigMap/hooks/hooked-config");
    let post = install
        .stdout
        .find("Job/hooks/hooked-announce (post-install hook)");
    assert!(
        account.is_some() && account < job && job < config && config < post,
        "weight order, then the release, then its post hooks\n{install}"
    );
    let migrate = fake
        .server
        .get("batch", "jobs", "hooks", "hooked-migrate")
        .expect("the pre-install Job stays (before-hook-creation)");
    assert!(
        migrate["metadata"]["labels"]
            .get("applyset.kubernetes.io/part-of")
            .is_none(),
        "a hook is no member of the apply set: {migrate}"
    );
    assert!(
        !fake.has("batch", "jobs", "hooks", "hooked-announce"),
        "hook-succeeded deletes it\n{install}"
    );
    assert!(
        !fake.has("batch", "jobs", "hooks", "hooked-test"),
        "test hooks are never applied\n{install}"
    );
    let first = uid(&fake, "jobs", "hooked-migrate");

    let again = apply_ok(&lab, &fake, &[]);
    assert!(
        !again.stdout.contains(" hook)"),
        "a no-op runs no hooks\n{again}"
    );
    assert_eq!(uid(&fake, "jobs", "hooked-migrate"), first, "{again}");

    lab.write("releases/hooked/values.yaml", "schemaVersion: \"2\"\n");
    let upgrade = apply_ok(&lab, &fake, &[]);
    assert!(
        upgrade
            .stdout
            .contains("Job/hooks/hooked-migrate (pre-upgrade hook)"),
        "{upgrade}"
    );
    assert!(
        upgrade
            .stdout
            .contains("Job/hooks/hooked-announce (post-upgrade hook)"),
        "{upgrade}"
    );
    let replaced = uid(&fake, "jobs", "hooked-migrate");
    assert!(
        replaced != first && !replaced.is_null(),
        "the Job is replaced, not patched\n{upgrade}"
    );
    let job = fake
        .server
        .get("batch", "jobs", "hooks", "hooked-migrate")
        .unwrap_or_default();
    assert_eq!(
        job.pointer("/spec/template/spec/containers/0/args/2"),
        Some(&Value::from("2")),
        "{upgrade}"
    );
}

#[test]
fn test_runs_the_test_hooks_and_diff_shows_hooks() {
    let lab = hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);

    let diff = homelab(&lab, &fake, &["diff", "-e", "dev"]);
    diff.expect_code(0);
    assert!(
        diff.stdout.contains(
            "hook Job/hooks/hooked-migrate (pre-install,pre-upgrade): runs when release hooked changes"
        ),
        "{diff}"
    );
    assert!(
        diff.stdout.contains("hook Job/hooks/hooked-test (test)"),
        "{diff}"
    );

    let passed = homelab(&lab, &fake, &["test", "-e", "dev", "-l", "name=hooked"]);
    passed.expect_code(0);
    assert!(
        passed.stdout.contains("PASS     hooked (2 test(s))"),
        "{passed}"
    );
    assert!(
        !fake.has("batch", "jobs", "hooks", "hooked-test"),
        "hook-succeeded deletes it\n{passed}"
    );

    fake.server.fail(FailRule::new("Job", "hooked-test"));
    let failed = homelab(&lab, &fake, &["test", "-e", "dev"]);
    failed.expect_code(1);
    assert!(
        failed
            .stdout
            .contains("FAIL     hooked: The test hook Job/hooks/hooked-test of release hooked failed: BackoffLimitExceeded"),
        "{failed}"
    );
    assert!(
        fake.has("batch", "jobs", "hooks", "hooked-test"),
        "no hook-failed policy: a failed test stays to be looked at\n{failed}"
    );
}

#[test]
fn a_failed_test_pod_shows_its_log() {
    let lab = hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let mut config = fake.server.controller();
    config.pod_logs.insert(
        "hooked-test-pod".into(),
        "connecting to hooked-config\nwget: bad address 'hooked-config'\n".into(),
    );
    fake.server.set_controller(config);
    fake.server.fail(FailRule::new("Pod", "hooked-test-pod"));
    let failed = homelab(&lab, &fake, &["test", "-e", "dev", "-l", "name=hooked"]);
    failed.expect_code(1);
    for wanted in [
        "FAIL     hooked: The test hook Pod/hooks/hooked-test-pod of release hooked failed: container exited 1: Error",
        "last 20 lines of the log of Pod/hooks/hooked-test-pod:",
        "    wget: bad address 'hooked-config'",
    ] {
        assert!(failed.stdout.contains(wanted), "{wanted}\n{failed}");
    }
    assert!(
        !fake.has("batch", "jobs", "hooks", "hooked-test"),
        "the Job test passed before the Pod ran (weight order)\n{failed}"
    );
}

#[test]
fn destroy_runs_the_delete_hooks_around_the_deletion() {
    let lab = hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);

    let listed = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=hooked", "--dry-run"],
    );
    listed.expect_code(0);
    assert!(
        listed
            .stdout
            .contains("hook     Job/hooks/hooked-drain (pre-delete)")
            && listed
                .stdout
                .contains("hook     Job/hooks/hooked-farewell (post-delete)"),
        "{listed}"
    );
    assert!(!listed.stdout.contains("hooked-test"), "{listed}");

    let done = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=hooked", "--yes"],
    );
    done.expect_code(0);
    let at = |needle: &str| {
        done.stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} missing\n{done}"))
    };
    let drain = at("Job/hooks/hooked-drain (pre-delete hook)");
    let backup = at("Job/hooks/hooked-backup (pre-delete hook)");
    let config = at("pruned     ConfigMap/hooks/hooked-config");
    let farewell = at("Job/hooks/hooked-farewell (post-delete hook)");
    assert!(
        drain < backup && backup < config && config < farewell,
        "pre-delete by weight, then the release's objects, then post-delete\n{done}"
    );
    for job in ["hooked-drain", "hooked-backup", "hooked-farewell"] {
        assert!(
            !fake.has("batch", "jobs", "hooks", job),
            "hook-succeeded: {job}\n{done}"
        );
    }
    assert!(
        !fake.has("", "configmaps", "hooks", "hooked-config"),
        "{done}"
    );

    fake.server.reset_requests();
    let again = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=hooked", "--yes"],
    );
    again.expect_code(0);
    assert!(
        !again.stdout.contains("hook)"),
        "nothing to delete runs no hooks\n{again}"
    );
}

#[test]
fn a_failing_pre_delete_hook_deletes_nothing() {
    let lab = hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    fake.server.fail(FailRule::new("Job", "hooked-drain"));
    let failed = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "-l", "name=hooked", "--yes"],
    );
    failed.expect_code(1);
    assert!(
        failed.stderr.contains("The pre-delete hook Job/hooks/hooked-drain of release hooked failed: BackoffLimitExceeded"),
        "{failed}"
    );
    assert!(
        fake.has("", "configmaps", "hooks", "hooked-config"),
        "{failed}"
    );
    let skipped = homelab(
        &lab,
        &fake,
        &[
            "destroy",
            "-e",
            "dev",
            "-l",
            "name=hooked",
            "--yes",
            "--no-hooks",
        ],
    );
    skipped.expect_code(0);
    assert!(
        !fake.has("", "configmaps", "hooks", "hooked-config"),
        "{skipped}"
    );
}
