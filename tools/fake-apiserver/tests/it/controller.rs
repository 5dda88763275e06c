//! The simulated controllers: readiness after a delay, Jobs completing, and
//! objects kept failing with a reason, a message and an Event.

use std::time::{Duration, Instant};

use fake_apiserver::FailRule;
use serde_json::Value;

use crate::support::*;

async fn wait_for(
    s: &fake_apiserver::ServerHandle,
    path: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..400 {
        let r = get(s, path).await;
        if ok(&r.body) {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("condition on {path} never held");
}

#[tokio::test]
async fn deployments_become_ready_after_the_delay() {
    let s = server().await;
    s.set_ready_delay(Duration::from_millis(200));
    let start = Instant::now();
    apply(&s, DEPLOY, "homelab", false, &deployment(3, "nginx:1")).await;
    let early = get(&s, DEPLOY).await.body;
    assert!(early["status"].get("readyReplicas").is_none());
    let ready = wait_for(&s, DEPLOY, |d| d["status"]["observedGeneration"] == 1).await;
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(ready["status"]["availableReplicas"], 3);
    assert_eq!(ready["status"]["updatedReplicas"], 3);
    apply(&s, DEPLOY, "homelab", false, &deployment(3, "nginx:2")).await;
    let next = get(&s, DEPLOY).await.body;
    assert_eq!(next["metadata"]["generation"], 2);
    assert_eq!(next["status"]["observedGeneration"], 1, "not observed yet");
    wait_for(&s, DEPLOY, |d| d["status"]["observedGeneration"] == 2).await;
}

#[tokio::test]
async fn jobs_complete_and_statefulsets_and_daemonsets_roll_out() {
    let s = server().await;
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}\n";
    apply(
        &s,
        "/apis/batch/v1/namespaces/default/jobs/j",
        "m",
        false,
        job,
    )
    .await;
    let done = wait_for(&s, "/apis/batch/v1/namespaces/default/jobs/j", |j| {
        j["status"]["succeeded"] == 1
    })
    .await;
    assert!(done["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Complete"));
    let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 2\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: c, image: postgres}]}\n";
    apply(
        &s,
        "/apis/apps/v1/namespaces/default/statefulsets/db",
        "m",
        false,
        sts,
    )
    .await;
    wait_for(
        &s,
        "/apis/apps/v1/namespaces/default/statefulsets/db",
        |o| o["status"]["readyReplicas"] == 2,
    )
    .await;
    let ds = sts
        .replace("StatefulSet", "DaemonSet")
        .replace("  replicas: 2\n  serviceName: db\n", "");
    apply(
        &s,
        "/apis/apps/v1/namespaces/default/daemonsets/db",
        "m",
        false,
        &ds,
    )
    .await;
    wait_for(&s, "/apis/apps/v1/namespaces/default/daemonsets/db", |o| {
        o["status"]["numberReady"] == 3
    })
    .await;
}

#[tokio::test]
async fn failing_objects_report_reason_and_event() {
    let s = server().await;
    s.fail(FailRule::new("Deployment", "web").with_reason(
        "ProgressDeadlineExceeded",
        "image nginx:404 cannot be pulled",
    ));
    apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:404")).await;
    let d = wait_for(&s, DEPLOY, |d| d["status"]["observedGeneration"] == 1).await;
    assert!(d["status"].get("availableReplicas").is_none());
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(progressing["status"], "False");
    assert_eq!(progressing["message"], "image nginx:404 cannot be pulled");
    let events = get(
        &s,
        "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb",
    )
    .await
    .body;
    let e = &events["items"][0];
    assert_eq!(e["type"], "Warning");
    assert_eq!(e["reason"], "ProgressDeadlineExceeded");
    assert_eq!(e["involvedObject"]["kind"], "Deployment");
}

#[tokio::test]
async fn pods_run_to_completion_and_serve_their_configured_log() {
    let s = server().await;
    let pod = |name: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  restartPolicy: Never\n  containers: [{{name: c, image: busybox}}]\n")
    };
    let mut config = s.controller();
    config
        .pod_logs
        .insert("bad".into(), "line one\nwget: bad address\n".into());
    s.set_controller(config);
    s.fail(FailRule::new("Pod", "bad"));
    for name in ["good", "bad"] {
        let path = format!("/api/v1/namespaces/default/pods/{name}");
        apply(&s, &path, "m", false, &pod(name)).await;
    }
    let good = wait_for(&s, "/api/v1/namespaces/default/pods/good", |p| {
        p["status"]["phase"] == "Succeeded"
    })
    .await;
    assert_eq!(
        good["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );
    let bad = wait_for(&s, "/api/v1/namespaces/default/pods/bad", |p| {
        p["status"]["phase"] == "Failed"
    })
    .await;
    assert_eq!(
        bad["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Error"
    );
    let log = get(&s, "/api/v1/namespaces/default/pods/bad/log").await;
    assert_eq!(log.status, 200, "{}", log.raw);
    assert!(
        log.raw.ends_with("line one\nwget: bad address\n"),
        "{}",
        log.raw
    );
    assert_eq!(log.header("content-type"), Some("text/plain"));
    let empty = get(&s, "/api/v1/namespaces/default/pods/good/log").await;
    assert_eq!((empty.status, empty.raw.as_str()), (200, ""));
    let missing = get(&s, "/api/v1/namespaces/default/pods/nobody/log").await;
    assert_eq!(missing.status, 404);
}
