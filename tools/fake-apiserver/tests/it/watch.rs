//! Watches: ADDED/MODIFIED/DELETED lines, filtered, ending at the timeout.

use http::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Opens a watch, runs `during` while it is open, returns its events.
async fn watch(
    s: &fake_apiserver::ServerHandle,
    path_and_query: &str,
    during: impl FnOnce(),
) -> Vec<Value> {
    let mut stream = TcpStream::connect(s.addr()).await.unwrap();
    let req = format!("GET {path_and_query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    during();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).await.unwrap();
    rest.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn watch_streams_changes_until_timeout() {
    let s = quiet_server().await;
    let cm = |name: &str, label: &str| {
        json!({"metadata": {"name": name, "labels": {"app": label}}}).to_string()
    };
    s.call(
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        cm("old", "web").as_bytes(),
    );
    let rv = s.resource_version();
    let events = watch(&s, &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=1&labelSelector=app%3Dweb"), || {
        s.call(Method::POST, "/api/v1/namespaces/default/configmaps", "application/json", cm("a", "web").as_bytes());
        s.call(Method::POST, "/api/v1/namespaces/default/configmaps", "application/json", cm("other", "db").as_bytes());
        s.call(Method::PATCH, "/api/v1/namespaces/default/configmaps/a", "application/merge-patch+json", br#"{"data":{"k":"v"}}"#);
        s.call(Method::DELETE, "/api/v1/namespaces/default/configmaps/old", "", b"");
    })
    .await;
    assert_eq!(
        summary(&events),
        vec![
            ("ADDED".into(), "a".into()),
            ("MODIFIED".into(), "a".into()),
            ("DELETED".into(), "old".into())
        ]
    );
    assert_eq!(events[1]["object"]["data"]["k"], "v");
}

#[tokio::test]
async fn watch_without_version_starts_with_current_objects() {
    let s = quiet_server().await;
    let events = watch(
        &s,
        "/api/v1/namespaces?watch=true&timeoutSeconds=1&sendInitialEvents=true",
        || {},
    )
    .await;
    let kinds: Vec<String> = summary(&events).into_iter().map(|(t, _)| t).collect();
    assert_eq!(kinds, vec!["ADDED", "ADDED", "ADDED", "ADDED", "BOOKMARK"]);
    assert_eq!(
        events[4]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[tokio::test]
async fn watch_errors() {
    let s = quiet_server().await;
    let r = get(&s, "/apis/example.com/v1/widgets?watch=true").await;
    assert_eq!(r.status, 404);
    let r = get(&s, "/api/v1/configmaps?watch=true&resourceVersion=nope").await;
    assert_eq!(r.status, 400);
}
