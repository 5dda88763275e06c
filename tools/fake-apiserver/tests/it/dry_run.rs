//! `dryRun=All` on every write returns the result and stores nothing.

use serde_json::json;

use crate::support::*;

const CM: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn dry_run_writes_store_nothing() {
    let s = quiet_server().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
    let rv = s.resource_version();

    let r = post(&s, &format!("{CM}?dryRun=All"), &body).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["data"]["a"], "1");
    assert!(s.get("", "configmaps", "default", "c").is_none());

    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '2'}\n";
    let r = apply(&s, &format!("{CM}/c?dryRun=All"), "m", false, yaml).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(s.get("", "configmaps", "default", "c").is_none());
    assert_eq!(s.resource_version(), rv);

    assert_eq!(post(&s, CM, &body).await.status, 201);
    let rv = s.resource_version();
    let r = apply(&s, &format!("{CM}/c?dryRun=All"), "m", true, yaml).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["data"]["a"], "2",
        "the dry-run result shows the change"
    );
    assert_eq!(r.body["metadata"]["resourceVersion"], rv.to_string());
    let r = patch(
        &s,
        &format!("{CM}/c?dryRun=All"),
        "application/merge-patch+json",
        r#"{"data":{"b":"3"}}"#,
    )
    .await;
    assert_eq!(r.body["data"]["b"], "3");
    let mut replaced = s.get("", "configmaps", "default", "c").unwrap();
    replaced["data"] = json!({"z": "9"});
    assert_eq!(
        put(&s, &format!("{CM}/c?dryRun=All"), &replaced)
            .await
            .status,
        200
    );
    assert_eq!(delete(&s, &format!("{CM}/c?dryRun=All")).await.status, 200);
    assert_eq!(s.resource_version(), rv, "nothing was written");
    assert_eq!(
        s.get("", "configmaps", "default", "c").unwrap()["data"],
        json!({"a": "1"})
    );
}

#[tokio::test]
async fn dry_run_still_reports_conflicts_and_validation() {
    let s = quiet_server().await;
    apply(&s, DEPLOY, "a", false, &deployment(1, "x")).await;
    let r = apply(
        &s,
        &format!("{DEPLOY}?dryRun=All"),
        "b",
        false,
        &deployment(2, "x"),
    )
    .await;
    assert_eq!(r.status, 409);
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}});
    assert_eq!(
        post(&s, &format!("{CM}?dryRun=All"), &bad).await.status,
        422
    );
}
