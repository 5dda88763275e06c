//! The environment's Lease: a second run waits then gives up naming the holder, a
//! lease past its TTL is taken over, and SIGTERM releases the lease.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_apiserver::FailRule;
use http::Method;
use serde_json::json;

use super::{apply_lab, apply_ok, env_for, homelab};
use crate::support::FakeCluster;

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

fn hold(fake: &FakeCluster, holder: &str, renew: &str, ttl: i64) {
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "homelab-dev", "namespace": "kube-system"},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": ttl,
                 "acquireTime": renew, "renewTime": renew}});
    let (code, body) = fake.server.call(
        Method::POST,
        LEASES,
        "application/json",
        &serde_json::to_vec(&lease).unwrap(),
    );
    assert_eq!(code, 201, "{body}");
}

/// The environment's Lease, if any run holds it.
fn lease(fake: &FakeCluster) -> Option<serde_json::Value> {
    fake.server.get(
        "coordination.k8s.io",
        "leases",
        "kube-system",
        "homelab-dev",
    )
}

/// Whether the apply got as far as the `site` Deployment.
fn site_applied(fake: &FakeCluster) -> bool {
    fake.server
        .get("apps", "deployments", "site", "site")
        .is_some()
}

/// How many requests reached the environment's Lease since the counters were reset.
fn lease_attempts(server: &fake_apiserver::ServerHandle) -> usize {
    server
        .request_log()
        .iter()
        .filter(|r| r.uri.contains("/leases"))
        .count()
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[test]
fn a_held_lock_times_out_naming_the_holder() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    hold(&fake, "ayumi@laptop pid 4242", &now(), 300);
    let started = Instant::now();
    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--lock-timeout", "1s"]);
    run.expect_code(1);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        run.stderr
            .contains("Environment `dev` is locked by ayumi@laptop pid 4242"),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("waiting for the lock held by ayumi@laptop pid 4242"),
        "{run}"
    );
    assert!(!site_applied(&fake));
}

#[test]
fn an_expired_lease_is_taken_over_and_released() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    hold(
        &fake,
        "killed@host pid 1",
        "2020-01-01T00:00:00.000000Z",
        30,
    );
    let run = apply_ok(&lab, &fake, &[]);
    assert!(
        run.stdout
            .contains("took over the lock of killed@host pid 1"),
        "{run}"
    );
    assert!(lease(&fake).is_none(), "released after the run");
}

#[test]
fn sigterm_stops_the_run_and_releases_the_lease() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    // The webapp Deployment never becomes ready, so the run sits in its wait.
    fake.server.fail(
        FailRule::new("Deployment", "webapp-webapp")
            .with_reason("ImagePullBackOff", "Back-off pulling image"),
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_homelab"));
    command
        .arg("--root")
        .arg(lab.path())
        .args(["apply", "-e", "dev", "--timeout", "5m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env_for(&lab, &fake) {
        command.env(k, v);
    }
    let child = command.spawn().expect("homelab starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake
        .server
        .get("apps", "deployments", "web", "webapp-webapp")
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the run never reached the webapp stage"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(lease(&fake).is_some());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(lease(&fake).is_none(), "SIGTERM released the lease");
    assert!(!site_applied(&fake));
}

#[test]
fn a_second_run_waits_for_the_first_then_proceeds() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    hold(&fake, "first@host pid 1", &now(), 300);
    fake.server.reset_requests();
    let server = &fake.server;
    let run = std::thread::scope(|s| {
        s.spawn(|| {
            // Free the lease only once the run has tried it twice, so it has seen it held
            // and said so, however slowly the machine is running.
            let deadline = Instant::now() + Duration::from_secs(60);
            while lease_attempts(server) < 2 {
                assert!(Instant::now() < deadline, "the run never tried the lease");
                std::thread::sleep(Duration::from_millis(20));
            }
            let (code, _) = server.call(Method::DELETE, &format!("{LEASES}/homelab-dev"), "", b"");
            assert_eq!(code, 200);
        });
        homelab(
            &lab,
            &fake,
            &["apply", "-e", "dev", "--lock-timeout", "60s"],
        )
    });
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("waiting for the lock held by first@host pid 1"),
        "{run}"
    );
    assert!(run.stdout.contains("Applied: 27 created"), "{run}");
}
