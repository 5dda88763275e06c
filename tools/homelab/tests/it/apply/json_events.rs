//! `-o json` runs always end with a `finished` event, failures included, and its
//! request count is what the fake API server's own log received.

use serde_json::Value;

use fake_apiserver::FailRule;

use super::{apply_lab, apply_ok, homelab};
use crate::support::{FakeCluster, Run};

/// The JSON lines of stdout; panics with the run on a line that is not JSON.
fn events(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{run}")))
        .collect()
}

/// The last event, which must be `finished`.
fn finished(run: &Run) -> Value {
    let all = events(run);
    let last = all.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "finished", "the last event\n{run}");
    last
}

/// The requests the fake received, with its log to show when they differ.
fn received(fake: &FakeCluster) -> (u64, String) {
    let log = fake
        .server
        .request_log()
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.uri, r.status))
        .collect::<Vec<_>>()
        .join("\n");
    (fake.server.requests().total, log)
}

#[test]
fn a_successful_apply_counts_every_request_it_sent() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let run = homelab(
        &lab,
        &fake,
        &["-o", "json", "apply", "-e", "dev", "--timeout", "20s"],
    );
    run.expect_code(0);
    let end = finished(&run);
    let (sent, log) = received(&fake);
    assert_eq!(end["requests"], sent, "{run}\n--- fake's log ---\n{log}");
}

#[test]
fn an_apply_that_cannot_render_ends_with_a_finished_event() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    lab.write(
        "releases/webapp/values.yaml.hbs",
        "replicaCount: [unclosed\n",
    );
    let run = homelab(&lab, &fake, &["-o", "json", "apply", "-e", "dev"]);
    run.expect_code(1);
    let all = events(&run);
    assert_eq!(all.len(), 2, "an error and the end\n{run}");
    assert_eq!(all[0]["event"], "error", "{run}");
    let end = finished(&run);
    assert_eq!(end["ok"], false, "{run}");
    assert_eq!(end["requests"], 0, "{run}");
    assert!(
        run.stderr.contains("Refusing to touch the cluster"),
        "{run}"
    );
}

#[test]
fn an_apply_failing_on_the_cluster_says_so_on_stderr_too() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    fake.server.fail(FailRule::new("Deployment", "site"));
    let run = homelab(
        &lab,
        &fake,
        &["-o", "json", "apply", "-e", "dev", "--timeout", "2s"],
    );
    run.expect_code(1);
    let end = finished(&run);
    assert_eq!(end["ok"], false, "{run}");
    assert_eq!(end["notReady"], 1, "{run}");
    let (sent, log) = received(&fake);
    assert_eq!(end["requests"], sent, "{run}\n--- fake's log ---\n{log}");
    assert!(
        run.stderr
            .contains("error: Deployment/site/site is not ready"),
        "{run}"
    );
}

#[test]
fn destroy_counts_its_listing_and_ends_with_finished_when_it_fails() {
    let lab = super::hooks::hooked_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);

    fake.server.reset_requests();
    let done = homelab(
        &lab,
        &fake,
        &[
            "-o",
            "json",
            "destroy",
            "-e",
            "dev",
            "-l",
            "name=site",
            "--yes",
        ],
    );
    done.expect_code(0);
    let end = finished(&done);
    let (sent, log) = received(&fake);
    assert_eq!(
        end["requests"], sent,
        "the listing is counted\n{done}\n--- fake's log ---\n{log}"
    );

    fake.server.fail(FailRule::new("Job", "hooked-drain"));
    fake.server.reset_requests();
    let failed = homelab(
        &lab,
        &fake,
        &["-o", "json", "destroy", "-e", "dev", "--yes"],
    );
    failed.expect_code(1);
    let end = finished(&failed);
    assert_eq!(end["ok"], false, "{failed}");
    let (sent, log) = received(&fake);
    assert_eq!(end["requests"], sent, "{failed}\n--- fake's log ---\n{log}");
    assert!(failed.stderr.contains("hooked-drain"), "{failed}");

    let dry = homelab(
        &lab,
        &fake,
        &["-o", "json", "destroy", "-e", "dev", "--dry-run"],
    );
    dry.expect_code(0);
    assert_eq!(finished(&dry)["ok"], true, "{dry}");
}
