//! Fault injection and request counting over real connections.

use std::time::{Duration, Instant};

use fake_apiserver::{Faults, Verb, VerbFaults};

use crate::support::*;

#[tokio::test]
async fn counters_by_verb_and_reset() {
    let s = quiet_server().await;
    get(&s, "/api").await;
    get(&s, "/api/v1/namespaces/default/configmaps").await;
    get(&s, "/api/v1/namespaces/default/configmaps/x").await;
    apply(&s, DEPLOY, "m", false, &deployment(1, "x")).await;
    delete(&s, DEPLOY).await;
    let c = s.requests();
    assert_eq!(c.total, 5);
    assert_eq!(
        (c.get(Verb::Discovery), c.get(Verb::List), c.get(Verb::Get)),
        (1, 1, 1)
    );
    assert_eq!((c.get(Verb::Patch), c.get(Verb::Delete)), (1, 1));
    assert_eq!(c.resource_requests(), 4);
    assert_eq!(s.request_log()[2].status, 404);
    s.reset_requests();
    assert_eq!(s.requests().total, 0);
    s.call(http::Method::GET, "/api/v1/namespaces", "", b"");
    assert_eq!(s.requests().total, 0, "direct calls are not counted");
}

#[tokio::test]
async fn errors_throttles_and_drops() {
    let s = quiet_server().await;
    s.set_faults(Faults::default().on(
        Verb::Patch,
        VerbFaults {
            error_rate: 1.0,
            ..Default::default()
        },
    ));
    let r = apply(&s, DEPLOY, "m", false, &deployment(1, "x")).await;
    assert_eq!(
        (r.status, r.body["reason"].as_str()),
        (500, Some("InternalError"))
    );
    assert!(s.get("apps", "deployments", "default", "web").is_none());
    assert_eq!(
        get(&s, DEPLOY).await.status,
        404,
        "other verbs are unaffected"
    );

    let mut f = Faults::default().on(
        Verb::Get,
        VerbFaults {
            throttle_rate: 1.0,
            ..Default::default()
        },
    );
    f.retry_after_secs = 3;
    s.set_faults(f);
    let r = get(&s, DEPLOY).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(r.body["details"]["retryAfterSeconds"], 3);

    s.set_faults(Faults::default().on(
        Verb::List,
        VerbFaults {
            drop_rate: 1.0,
            ..Default::default()
        },
    ));
    let dropped = send(
        s.addr(),
        "GET",
        "/api/v1/configmaps",
        "application/json",
        "",
    )
    .await;
    assert!(
        dropped.is_err(),
        "connection closed without a response: {dropped:?}"
    );

    s.set_faults(Faults::default().on(
        Verb::Patch,
        VerbFaults {
            drop_after_rate: 1.0,
            ..Default::default()
        },
    ));
    let dropped = send(
        s.addr(),
        "PATCH",
        &format!("{DEPLOY}?fieldManager=m"),
        "application/apply-patch+yaml",
        &deployment(1, "x"),
    )
    .await;
    assert!(dropped.is_err());
    assert!(
        s.get("apps", "deployments", "default", "web").is_some(),
        "processed before the drop"
    );

    let mut f = Faults::default().on(
        Verb::Get,
        VerbFaults {
            timeout_rate: 1.0,
            ..Default::default()
        },
    );
    f.hang = Duration::from_millis(200);
    s.set_faults(f);
    let start = Instant::now();
    assert!(send(s.addr(), "GET", DEPLOY, "application/json", "")
        .await
        .is_err());
    assert!(start.elapsed() >= Duration::from_millis(200));
    s.clear_faults();
    assert_eq!(get(&s, DEPLOY).await.status, 200);
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let s = quiet_server().await;
    s.set_latency(Duration::from_millis(50));
    let start = Instant::now();
    for _ in 0..3 {
        get(&s, "/version").await;
    }
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn seeded_faults_are_reproducible() {
    let s = quiet_server().await;
    let faults = Faults::default().on_resource_verbs(VerbFaults {
        error_rate: 0.3,
        throttle_rate: 0.2,
        ..Default::default()
    });
    let mut runs = Vec::new();
    for _ in 0..2 {
        s.set_faults(faults.clone());
        s.reseed_faults(7);
        let mut codes = Vec::new();
        for _ in 0..40 {
            codes.push(
                get(&s, "/api/v1/namespaces/default/configmaps")
                    .await
                    .status,
            );
        }
        runs.push(codes);
    }
    assert_eq!(runs[0], runs[1]);
    let failed = runs[0].iter().filter(|c| **c != 200).count();
    assert!((8..=32).contains(&failed), "{failed} of 40 failed");
}

#[tokio::test]
async fn control_endpoints_drive_the_binary() {
    let s = quiet_server().await;
    let r = send(
        s.addr(),
        "PUT",
        "/_fake/faults",
        "application/json",
        r#"{"latency": 1, "per_verb": {"create": {"error_rate": 1.0}}}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(s.faults().latency, Duration::from_millis(1));
    get(&s, "/api").await;
    let counts = send(s.addr(), "GET", "/_fake/requests", "", "")
        .await
        .unwrap();
    assert_eq!(counts.body["total"], 1, "control requests are not counted");
    send(s.addr(), "DELETE", "/_fake/requests", "", "")
        .await
        .unwrap();
    assert_eq!(s.requests().total, 0);
    let r = send(s.addr(), "PUT", "/_fake/controller", "application/json", r#"{"ready_delay": 10, "failing": [{"kind": "Job", "name": "j", "reason": "R", "message": "M"}]}"#).await.unwrap();
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(s.controller().failing.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_under_faults_all_get_answers() {
    let s = server().await;
    let mut f = Faults::latency(Duration::from_millis(2)).on_resource_verbs(VerbFaults {
        error_rate: 0.1,
        drop_rate: 0.1,
        ..Default::default()
    });
    f.retry_after_secs = 1;
    s.set_faults(f);
    let addr = s.addr();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            tokio::spawn(async move {
                let path = format!("/api/v1/namespaces/default/configmaps/c{i}?fieldManager=m");
                let body = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{i: '{i}'}}\n");
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    match send(addr, "PATCH", &path, "application/apply-patch+yaml", &body).await {
                        Ok(r) if r.status == 201 || r.status == 200 => return attempts,
                        Ok(r) => assert_eq!(r.status, 500, "{}", r.raw),
                        Err(_) => {}
                    }
                }
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let applied = s
        .list("", "configmaps", Some("default"))
        .into_iter()
        .filter(|c| c["metadata"]["name"] != "kube-root-ca.crt")
        .count();
    assert_eq!(applied, 64);
    assert_eq!(s.requests().get(Verb::Patch), total);
}
