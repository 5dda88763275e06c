//! `/scale` and `/status` over HTTP (registry/apps/*/storage `ScaleREST`,
//! test/integration/apiserver/apply/scale_test.go and status_test.go).

use serde_json::json;

use crate::support::*;

const SCALE: &str = "/apis/apps/v1/namespaces/default/deployments/web/scale";

/// scale_test.go TestScaleAllResources: the Scale reflects the object;
/// a PUT with a stale resourceVersion conflicts; replicas below zero are
/// invalid (apps validation `ValidateScale`).
#[tokio::test]
async fn scale_reads_and_writes_replicas() {
    let s = quiet_server().await;
    assert_eq!(
        apply(&s, DEPLOY, "applier", false, &deployment(2, "nginx:1"))
            .await
            .status,
        201
    );
    let scale = get(&s, SCALE).await;
    assert_eq!(scale.status, 200, "{}", scale.raw);
    assert_eq!(scale.body["kind"], "Scale");
    assert_eq!(scale.body["apiVersion"], "autoscaling/v1");
    assert_eq!(scale.body["spec"]["replicas"], 2);
    assert_eq!(scale.body["status"]["selector"], "app=web");

    let mut stale = scale.body.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["spec"]["replicas"] = json!(4);
    assert_eq!(put(&s, SCALE, &stale).await.status, 409);

    let mut fresh = scale.body.clone();
    fresh["spec"]["replicas"] = json!(4);
    let r = put(&s, &format!("{SCALE}?fieldManager=hpa"), &fresh).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["spec"]["replicas"], 4);
    let live = s.get("apps", "deployments", "default", "web").unwrap();
    assert_eq!(live["spec"]["replicas"], 4);
    assert!(managers(&live).contains(&("hpa".into(), "Update".into())));

    let bad = patch(
        &s,
        SCALE,
        "application/merge-patch+json",
        r#"{"spec":{"replicas":-1}}"#,
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.raw);
    let missing = get(
        &s,
        "/apis/apps/v1/namespaces/default/deployments/none/scale",
    )
    .await;
    assert_eq!(missing.status, 404);
    let no_scale = get(&s, "/apis/apps/v1/namespaces/default/daemonsets/web/scale").await;
    assert_eq!(no_scale.status, 404);
}

/// status_test.go TestApplyStatus: apply to `/status` writes only the
/// status and needs the object; a main-resource apply ignores status.
#[tokio::test]
async fn status_and_spec_writes_stay_apart() {
    let s = quiet_server().await;
    let missing = apply(
        &s,
        &format!("{DEPLOY}/status"),
        "reporter",
        false,
        &deployment(1, "x"),
    )
    .await;
    assert_eq!(missing.status, 404, "{}", missing.raw);
    apply(&s, DEPLOY, "applier", false, &deployment(1, "nginx:1")).await;
    let status = format!(
        "{}status: {{observedGeneration: 7}}\n",
        deployment(5, "other")
    );
    let r = apply(&s, &format!("{DEPLOY}/status"), "reporter", false, &status).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["status"]["observedGeneration"], 7);
    assert_eq!(r.body["spec"]["replicas"], 1);
    let e = r.body["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "reporter")
        .unwrap();
    assert_eq!(e["subresource"], "status");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {"f:observedGeneration": {}}})
    );

    let main = format!(
        "{}status: {{observedGeneration: 1}}\n",
        deployment(1, "nginx:2")
    );
    let r = apply(&s, DEPLOY, "applier", false, &main).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["status"]["observedGeneration"], 7);
}
