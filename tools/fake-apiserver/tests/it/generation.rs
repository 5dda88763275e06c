//! `generation` moves on spec changes only; `resourceVersion` on every
//! stored change; status writes go through `/status` only.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn generation_follows_spec_changes() {
    let s = quiet_server().await;
    let r = apply(&s, DEPLOY, "homelab", false, &deployment(1, "nginx:1")).await;
    assert_eq!(r.body["metadata"]["generation"], 1);
    let rv1: u64 = r.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let labels = patch(
        &s,
        DEPLOY,
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"extra":"x"}}}"#,
    )
    .await;
    assert_eq!(
        labels.body["metadata"]["generation"], 1,
        "metadata changes keep the generation"
    );
    let rv2: u64 = labels.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);

    let status = patch(
        &s,
        &format!("{DEPLOY}/status"),
        "application/merge-patch+json",
        r#"{"status":{"replicas":7}}"#,
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.raw);
    assert_eq!(status.body["status"]["replicas"], 7);
    assert_eq!(
        status.body["metadata"]["generation"], 1,
        "status changes keep the generation"
    );
    let sub = status.body["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["subresource"] == "status");
    assert!(sub);

    let ignored = patch(
        &s,
        DEPLOY,
        "application/merge-patch+json",
        r#"{"status":{"replicas":1}}"#,
    )
    .await;
    assert_eq!(
        ignored.body["status"]["replicas"], 7,
        "the main resource ignores status"
    );

    let spec = apply(&s, DEPLOY, "homelab", false, &deployment(1, "nginx:2")).await;
    assert_eq!(spec.body["metadata"]["generation"], 2);
    assert_eq!(spec.body["metadata"]["uid"], r.body["metadata"]["uid"]);
    assert_eq!(
        spec.body["metadata"]["creationTimestamp"],
        r.body["metadata"]["creationTimestamp"]
    );
}

#[tokio::test]
async fn defaults_are_filled_and_unowned() {
    let s = quiet_server().await;
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n";
    let r = apply(
        &s,
        "/api/v1/namespaces/default/services/web",
        "homelab",
        false,
        svc,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["spec"]["type"], "ClusterIP");
    assert!(r.body["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .starts_with("10.96."));
    let fields = &r.body["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"];
    assert!(fields.get("f:clusterIP").is_none());
    // A Service's selector is `+mapType=atomic`: owned as one leaf.
    assert_eq!(fields["f:selector"], json!({}));
    let again = apply(
        &s,
        "/api/v1/namespaces/default/services/web",
        "homelab",
        false,
        svc,
    )
    .await;
    assert_eq!(
        again.body["metadata"]["resourceVersion"],
        r.body["metadata"]["resourceVersion"]
    );
}
