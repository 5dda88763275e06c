//! Deletion as kube-apiserver and kube-controller-manager do it: finalizers
//! hold objects (registry `store.go` `Delete`, apimachinery
//! `ValidateNoNewFinalizers`), propagation policies (garbage collector
//! `attemptToDeleteItem`, `processDeletingDependentsItem`, orphaning), the
//! namespace controller, PVC protection, and the objects new namespaces
//! get.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const WAIT: Duration = Duration::from_secs(20);

fn owned_by(owner: &Value, name: &str, blocking: bool) -> Value {
    json!({"metadata": {"name": name, "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap",
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "blockOwnerDeletion": blocking}]}})
}

fn release(name: &str) -> String {
    format!("{CMS}/{name}")
}

async fn unhold(s: &fake_apiserver::ServerHandle, path: &str) -> Resp {
    patch(
        s,
        path,
        "application/merge-patch+json",
        r#"{"metadata":{"finalizers":null}}"#,
    )
    .await
}

#[tokio::test]
async fn finalizers_hold_deletion() {
    let s = quiet_server().await;
    post(
        &s,
        CMS,
        &json!({"metadata": {"name": "f", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let r = delete(&s, &release("f")).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(r.body["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(r.body["metadata"]["deletionGracePeriodSeconds"], 0);
    let got = get(&s, &release("f")).await;
    assert_eq!(got.status, 200, "a held object is still readable");
    assert!(got.body["metadata"]["deletionTimestamp"].is_string());

    let more = patch(
        &s,
        &release("f"),
        "application/merge-patch+json",
        r#"{"metadata":{"finalizers":["example.com/hold","example.com/more"]}}"#,
    )
    .await;
    assert_eq!(more.status, 422, "{}", more.raw);
    assert!(
        more.raw.contains("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\\\"example.com/more\\\"}"),
        "{}",
        more.raw
    );

    let r = unhold(&s, &release("f")).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(s.get("", "configmaps", "default", "f").is_none());
}

#[tokio::test]
async fn foreground_deletes_blocking_dependents_first() {
    let s = quiet_server().await;
    let owner = post(&s, CMS, &json!({"metadata": {"name": "owner"}}))
        .await
        .body;
    let mut dep = owned_by(&owner, "dep", true);
    dep["metadata"]["finalizers"] = json!(["example.com/hold"]);
    assert_eq!(post(&s, CMS, &dep).await.status, 201);

    let r = delete(
        &s,
        &format!("{}?propagationPolicy=Foreground", release("owner")),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert!(r.body["metadata"]["deletionTimestamp"].is_string());
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "configmaps", "default", "dep")
            .is_some_and(|d| d["metadata"]["deletionTimestamp"].is_string()))
            .await,
        "the dependent is deleted: {:?}",
        s.get("", "configmaps", "default", "dep")
    );
    let held = s.get("", "configmaps", "default", "owner");
    assert!(held.is_some(), "the owner waits for its blocking dependent");

    assert_eq!(unhold(&s, &release("dep")).await.status, 200);
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "configmaps", "default", "owner")
            .is_none())
            .await,
        "the owner goes after its dependents: {:?}",
        s.get("", "configmaps", "default", "owner")
    );
}

#[tokio::test]
async fn background_and_orphan_as_the_garbage_collector() {
    let s = quiet_server().await;
    let owner = post(&s, CMS, &json!({"metadata": {"name": "owner"}}))
        .await
        .body;
    post(&s, CMS, &owned_by(&owner, "dep1", false)).await;
    let r = delete(
        &s,
        &format!("{}?propagationPolicy=Background", release("owner")),
    )
    .await;
    assert_eq!(r.body["status"], "Success", "{}", r.raw);
    assert!(s.get("", "configmaps", "default", "owner").is_none());
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "configmaps", "default", "dep1")
            .is_none())
            .await
    );

    let owner = post(&s, CMS, &json!({"metadata": {"name": "owner"}}))
        .await
        .body;
    post(&s, CMS, &owned_by(&owner, "kept", true)).await;
    let r = send(
        s.addr(),
        "DELETE",
        &release("owner"),
        "application/json",
        r#"{"propagationPolicy":"Orphan"}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["metadata"]["finalizers"], json!(["orphan"]));
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "configmaps", "default", "owner")
            .is_none())
            .await
    );
    let kept = s
        .get("", "configmaps", "default", "kept")
        .expect("orphaned dependent stays");
    assert!(kept["metadata"].get("ownerReferences").is_none());

    let bad = delete(
        &s,
        &format!("{}?propagationPolicy=Sideways", release("kept")),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.raw);
}

#[tokio::test]
async fn namespace_terminates_then_goes() {
    let s = quiet_server().await;
    post(
        &s,
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "gone"}}),
    )
    .await;
    let cms = "/api/v1/namespaces/gone/configmaps";
    post(&s, cms, &json!({"metadata": {"name": "c"}})).await;
    post(
        &s,
        cms,
        &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .await;
    let r = delete(&s, "/api/v1/namespaces/gone").await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["status"]["phase"], "Terminating");
    assert_eq!(r.body["spec"]["finalizers"], json!(["kubernetes"]));

    let blocked = |s: &fake_apiserver::ServerHandle| {
        s.get("", "namespaces", "", "gone").is_some_and(|ns| {
            ns["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| c["message"] == "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances")
            })
        })
    };
    assert!(
        s.wait_until(WAIT, blocked).await,
        "{:?}",
        s.get("", "namespaces", "", "gone")
    );
    assert!(s.get("", "configmaps", "gone", "c").is_none());
    let refused = post(&s, cms, &json!({"metadata": {"name": "new"}})).await;
    assert_eq!(refused.status, 403, "{}", refused.raw);
    assert_eq!(
        refused.body["message"],
        "configmaps \"new\" is forbidden: unable to create new content in namespace gone because it is being terminated"
    );
    assert_eq!(
        refused.body["details"]["causes"][0]["reason"],
        "NamespaceTerminating"
    );

    assert_eq!(unhold(&s, &format!("{cms}/held")).await.status, 200);
    assert!(
        s.wait_until(WAIT, |s| s.get("", "namespaces", "", "gone").is_none())
            .await
    );
}

#[tokio::test]
async fn finalize_delay_keeps_namespaces_terminating() {
    let s = quiet_server().await;
    let mut c = s.controller();
    c.finalize_delay = Duration::from_secs(2);
    s.set_controller(c);
    post(
        &s,
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "slow"}}),
    )
    .await;
    post(
        &s,
        "/api/v1/namespaces/slow/configmaps",
        &json!({"metadata": {"name": "c"}}),
    )
    .await;
    assert_eq!(delete(&s, "/api/v1/namespaces/slow").await.status, 200);
    let ns = get(&s, "/api/v1/namespaces/slow").await;
    assert_eq!(ns.body["status"]["phase"], "Terminating", "{}", ns.raw);
    assert!(s.get("", "configmaps", "slow", "c").is_some());
    assert!(
        s.wait_until(WAIT, |s| s.get("", "namespaces", "", "slow").is_none())
            .await
    );
    assert!(s.get("", "configmaps", "slow", "c").is_none());
}

#[tokio::test]
async fn pvc_protection_waits_for_pods() {
    let s = quiet_server().await;
    let pvcs = "/api/v1/namespaces/default/persistentvolumeclaims";
    let pvc = post(
        &s,
        pvcs,
        &json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    assert_eq!(pvc.status, 201, "{}", pvc.raw);
    assert_eq!(
        pvc.body["metadata"]["finalizers"],
        json!(["kubernetes.io/pvc-protection"])
    );
    let pod = post(
        &s,
        "/api/v1/namespaces/default/pods",
        &json!({"metadata": {"name": "user"}, "spec": {
            "containers": [{"name": "c", "image": "busybox"}],
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}),
    )
    .await;
    assert_eq!(pod.status, 201, "{}", pod.raw);
    assert_eq!(delete(&s, &format!("{pvcs}/data")).await.status, 200);
    // Unrelated writes wake the controllers; the claim stays while in use.
    post(&s, CMS, &json!({"metadata": {"name": "nudge"}})).await;
    assert!(
        !s.wait_until(Duration::from_millis(300), |s| s
            .get("", "persistentvolumeclaims", "default", "data")
            .is_none())
            .await
    );
    delete(&s, "/api/v1/namespaces/default/pods/user").await;
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "persistentvolumeclaims", "default", "data")
            .is_none())
            .await
    );
}

#[tokio::test]
async fn new_namespaces_get_default_objects() {
    let s = server().await;
    post(
        &s,
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "fresh"}}),
    )
    .await;
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "serviceaccounts", "fresh", "default")
            .is_some()
            && s.get("", "configmaps", "fresh", "kube-root-ca.crt")
                .is_some())
            .await
    );
    let cm = s
        .get("", "configmaps", "fresh", "kube-root-ca.crt")
        .unwrap();
    assert_eq!(
        managers(&cm),
        vec![("kube-controller-manager".to_owned(), "Update".to_owned())]
    );
    assert!(cm["data"]["ca.crt"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(s.get("", "serviceaccounts", "default", "default").is_some());
}
