//! Plain CRUD semantics: statuses of errors, optimistic concurrency,
//! namespaces (required), strategic merge and JSON patches, discovery
//! basics. Deletion is in `deletion.rs`.

use serde_json::json;

use crate::support::*;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn discovery_documents() {
    let s = server().await;
    assert_eq!(get(&s, "/version").await.body["major"], "1");
    let core = get(&s, "/api/v1").await.body;
    let names: Vec<&str> = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for n in [
        "namespaces",
        "configmaps",
        "secrets",
        "services",
        "serviceaccounts",
        "persistentvolumeclaims",
        "persistentvolumes",
        "events",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    for gv in [
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "apiextensions.k8s.io/v1",
        "coordination.k8s.io/v1",
    ] {
        assert_eq!(get(&s, &format!("/apis/{gv}")).await.status, 200, "{gv}");
    }
    let accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let mut stream = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req =
        format!("GET /apis HTTP/1.1\r\nHost: x\r\nAccept: {accept}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    assert!(
        out.contains(
            "content-type: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        ),
        "{out}"
    );
    assert!(out.contains("\"APIGroupDiscoveryList\""));
    assert_eq!(get(&s, "/apis/nope/v1").await.status, 404);
}

#[tokio::test]
async fn create_get_update_conflicts_and_errors() {
    let s = quiet_server().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    let created = post(&s, CMS, &body).await;
    assert_eq!(created.status, 201);
    let meta = &created.body["metadata"];
    assert_eq!(meta["uid"].as_str().unwrap().len(), 36);
    assert!(meta["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        meta.get("generation").is_none(),
        "ConfigMaps have no generation"
    );
    assert_eq!(
        created.body["metadata"]["managedFields"][0]["operation"],
        "Update"
    );
    assert_eq!(
        created.body["metadata"]["managedFields"][0]["manager"],
        "it-test"
    );

    let dup = post(&s, CMS, &body).await;
    assert_eq!(
        (dup.status, dup.body["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    assert_eq!(dup.body["message"], "configmaps \"c\" already exists");

    let mut stale = created.body.clone();
    stale["data"]["a"] = json!("2");
    let ok = put(&s, &format!("{CMS}/c"), &stale).await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_ne!(
        ok.body["metadata"]["resourceVersion"],
        created.body["metadata"]["resourceVersion"]
    );
    let conflict = put(&s, &format!("{CMS}/c"), &stale).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.body["reason"], "Conflict");
    assert!(conflict.body["message"]
        .as_str()
        .unwrap()
        .contains("the object has been modified"));

    let missing = get(&s, &format!("{CMS}/nope")).await;
    assert_eq!(
        (missing.status, missing.body["kind"].as_str()),
        (404, Some("Status"))
    );
    assert_eq!(missing.body["details"]["kind"], "configmaps");
    let invalid = post(
        &s,
        CMS,
        &json!({"metadata": {"name": "c2"}, "data": {"n": 1}}),
    )
    .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.body["details"]["causes"][0]["field"], "data[n]");
    let wrong_kind = post(
        &s,
        CMS,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
    )
    .await;
    assert_eq!(wrong_kind.status, 400);
    let no_ns = post(&s, "/api/v1/namespaces/ghost/configmaps", &body).await;
    assert_eq!(no_ns.status, 404);
    let generated = post(&s, CMS, &json!({"metadata": {"generateName": "gen-"}})).await;
    assert!(generated.body["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("gen-"));
    let unknown = send(
        s.addr(),
        "POST",
        "/api/v1/namespaces/default/widgets",
        "application/json",
        "{}",
    )
    .await
    .unwrap();
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn patches_merge_strategic_and_json() {
    let s = quiet_server().await;
    apply(&s, DEPLOY, "homelab", false, &deployment(1, "nginx:1")).await;
    let smp =
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}"#;
    let r = patch(&s, DEPLOY, "application/strategic-merge-patch+json", smp).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let jp = r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"test","path":"/metadata/name","value":"web"}]"#;
    let r = patch(&s, DEPLOY, "application/json-patch+json", jp).await;
    assert_eq!(r.body["spec"]["replicas"], 3);
    let bad = patch(
        &s,
        DEPLOY,
        "application/json-patch+json",
        r#"[{"op":"remove","path":"/nope"}]"#,
    )
    .await;
    assert_eq!(bad.status, 422);
    let r = patch(
        &s,
        DEPLOY,
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"app":null,"x":"y"}}}"#,
    )
    .await;
    assert_eq!(r.body["metadata"]["labels"], json!({"x": "y"}));
    let immutable = patch(
        &s,
        DEPLOY,
        "application/merge-patch+json",
        r#"{"spec":{"selector":{"matchLabels":{"app":"other"}}}}"#,
    )
    .await;
    assert_eq!(immutable.status, 422);
    assert!(immutable.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Deployment.apps \"web\" is invalid: "));
    let text = patch(&s, DEPLOY, "text/plain", "x").await;
    assert_eq!(text.status, 415);
}

#[tokio::test]
async fn leases_and_delete_collection() {
    let s = quiet_server().await;
    let lease = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let body = json!({"metadata": {"name": "homelab-prod", "labels": {"k": "v"}},
        "spec": {"holderIdentity": "me@host pid 1", "leaseDurationSeconds": 30}});
    let r = post(&s, lease, &body).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let mut taken = r.body.clone();
    taken["spec"]["holderIdentity"] = json!("other");
    assert_eq!(
        put(&s, &format!("{lease}/homelab-prod"), &taken)
            .await
            .status,
        200
    );
    assert_eq!(
        put(&s, &format!("{lease}/homelab-prod"), &taken)
            .await
            .status,
        409,
        "stale resourceVersion"
    );
    let r = delete(&s, &format!("{lease}?labelSelector=k%3Dv")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert!(s.list("coordination.k8s.io", "leases", None).is_empty());
}
