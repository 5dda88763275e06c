//! Members the server is deleting (`deletionTimestamp` set, held by a finalizer):
//! `diff` shows them as recreated, `apply` waits until they are gone and creates them
//! again (or, at its timeout, names the finalizer), and pruning never counts a held
//! object as deleted.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::json;

use super::{apply_ok, homelab};
use crate::support::{chart_lab, FakeCluster};

const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/site/deployments/site";
const CONFIGMAP: &str = "/api/v1/namespaces/site/configmaps/site-config";

/// Sets the finalizers of the object at `path` (`null` removes them all).
fn set_finalizers(fake: &FakeCluster, path: &str, finalizers: serde_json::Value) {
    let patch = json!({"metadata": {"finalizers": finalizers}});
    let (code, body) = fake.server.call(
        Method::PATCH,
        &format!("{path}?fieldManager=holder"),
        "application/merge-patch+json",
        patch.to_string().as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
}

/// Adds a finalizer to the object at `path`, then deletes it: it stays, terminating.
fn hold_and_delete(fake: &FakeCluster, path: &str) {
    set_finalizers(fake, path, json!(["example.com/hold"]));
    let (code, body) = fake.server.call(Method::DELETE, path, "", b"");
    assert!(code == 200 || code == 202, "{code} {body}");
}

fn release(fake: &FakeCluster, path: &str) {
    set_finalizers(fake, path, serde_json::Value::Null);
}

fn terminating(fake: &FakeCluster) -> bool {
    fake.server
        .get("apps", "deployments", "site", "site")
        .is_some_and(|d| d["metadata"]["deletionTimestamp"].is_string())
}

#[test]
fn a_terminating_member_is_shown_waited_for_then_recreated() {
    let lab = chart_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    hold_and_delete(&fake, DEPLOYMENT);
    assert!(terminating(&fake));

    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(2);
    assert!(
        diff.stdout.contains("recreate Deployment/site/site: being deleted, held by finalizer(s) example.com/hold; apply waits until it is gone, then creates it again"),
        "{diff}"
    );

    let timed_out = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "1s"]);
    timed_out.expect_code(1);
    assert!(
        timed_out.stderr.contains("Deployment/site/site failed: it is being deleted and was still there after 1s (it is terminating, held by finalizer(s) example.com/hold)"),
        "{timed_out}"
    );
    assert!(terminating(&fake), "{timed_out}");

    // Released while apply waits (seen in the request log), the object is created anew.
    fake.server.reset_requests();
    let run = std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let polls = fake
                    .server
                    .request_log()
                    .iter()
                    .filter(|r| r.verb == "list" && r.uri.starts_with("/apis/apps/v1/deployments?"))
                    .count();
                // The first list is the member listing; the second is the wait's poll.
                if polls >= 2 || Instant::now() > deadline {
                    break;
                }
                std::thread::yield_now();
            }
            release(&fake, DEPLOYMENT);
        });
        let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "60s"]);
        waiter.join().unwrap();
        run
    });
    run.expect_code(0);
    assert!(
        run.stdout.contains("created    Deployment/site/site"),
        "{run}"
    );
    let live = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    assert!(live["metadata"]["deletionTimestamp"].is_null(), "{live}");
}

#[test]
fn pruning_waits_for_a_held_member_and_names_its_finalizer() {
    let lab = chart_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    set_finalizers(&fake, CONFIGMAP, json!(["example.com/hold"]));
    lab.replace(
        "releases/site/release.toml",
        "\"manifests/configmap.yaml.hbs\", ",
        "",
    );
    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "1s"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("pruning ConfigMap/site/site-config failed: deleted, but still on the server after 1s: it is terminating, held by finalizer(s) example.com/hold"),
        "{run}"
    );
    assert!(
        !run.stdout.contains("pruned     ConfigMap/site/site-config"),
        "{run}"
    );

    release(&fake, CONFIGMAP);
    let done = apply_ok(&lab, &fake, &[]);
    assert!(!fake.has("", "configmaps", "site", "site-config"), "{done}");
}
