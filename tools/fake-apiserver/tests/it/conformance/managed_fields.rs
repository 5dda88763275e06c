//! managedFields written by clients (k8s.io/apiserver
//! `managedfields/internal` `decodeLiveOrNew`, and
//! test/integration/apiserver/apply/apply_test.go).

use serde_json::{json, Value};

use crate::support::*;

const CM: &str = "/api/v1/namespaces/default/configmaps/c";

async fn applied(s: &fake_apiserver::ServerHandle) -> Value {
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {l: v}}\ndata: {a: '1'}\n";
    let r = apply(s, CM, "applier", false, yaml).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    r.body
}

/// TestClearManagedFieldsWithUpdate: a PUT with `managedFields: [{}]`
/// resets them; the update itself changed nothing, so none remain.
#[tokio::test]
async fn an_update_with_an_empty_entry_clears_managed_fields() {
    let s = quiet_server().await;
    let mut obj = applied(&s).await;
    obj["metadata"]["managedFields"] = json!([{}]);
    let r = put(&s, CM, &obj).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(
        r.body["metadata"].get("managedFields").is_none(),
        "{}",
        r.raw
    );
}

/// TestClearManagedFieldsWithUpdateEmptyList and
/// TestClearManagedFieldsWithMergePatch: `[]` resets them too, and the
/// write's own changes are then the only ownership.
#[tokio::test]
async fn an_empty_list_resets_and_the_writer_owns_its_changes() {
    let s = quiet_server().await;
    applied(&s).await;
    let r = patch(
        &s,
        &format!("{CM}?fieldManager=editor"),
        "application/merge-patch+json",
        r#"{"metadata":{"managedFields":[]},"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(managers(&r.body), vec![("editor".into(), "Update".into())]);
    assert_eq!(
        r.body["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {"f:b": {}}})
    );
}

/// TestRenamingAppliedFieldManagers: a PUT that renames the applier's
/// entry is taken as sent; applying as the new name then conflicts with
/// no one and owns the fields.
#[tokio::test]
async fn a_put_renames_a_manager() {
    let s = quiet_server().await;
    let mut obj = applied(&s).await;
    obj["metadata"]["managedFields"][0]["manager"] = json!("renamed");
    let r = put(&s, CM, &obj).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(managers(&r.body), vec![("renamed".into(), "Apply".into())]);
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {l: w}}\ndata: {a: '2'}\n";
    let r = apply(&s, CM, "renamed", false, yaml).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["data"]["a"], "2");
}

/// decodeLiveOrNew: a list that does not decode (no operation) leaves the
/// live entries alone.
#[tokio::test]
async fn an_invalid_list_keeps_the_live_entries() {
    let s = quiet_server().await;
    let mut obj = applied(&s).await;
    obj["metadata"]["managedFields"] = json!([{"manager": "x"}]);
    let r = put(&s, CM, &obj).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(managers(&r.body), vec![("applier".into(), "Apply".into())]);
}

/// lastappliedmanager.go: for manager `kubectl`, conflicts with
/// `kubectl-client-side-apply` on fields whose live value equals
/// `last-applied-configuration` are forced; a field changed since (here by
/// hand, keeping the annotation) still conflicts.
#[tokio::test]
async fn kubectl_takes_over_unmodified_last_applied_fields_only() {
    let s = quiet_server().await;
    let last = r#"{"apiVersion":"v1","data":{"a":"1","b":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"default"}}"#;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last}},
        "data": {"a": "1", "b": "1"}});
    let r = post(
        &s,
        "/api/v1/namespaces/default/configmaps?fieldManager=kubectl-client-side-apply",
        &body,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '2', b: '1'}\n";
    let r = apply(&s, CM, "kubectl", false, yaml).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let annotation = r.body["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    assert!(annotation.contains(r#""a":"2""#), "{annotation}");

    let r = patch(
        &s,
        &format!("{CM}?fieldManager=kubectl-client-side-apply"),
        "application/merge-patch+json",
        r#"{"data":{"b":"hand"}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '2', b: '3'}\n";
    let r = apply(&s, CM, "kubectl", false, yaml).await;
    assert_eq!(r.status, 409, "{}", r.raw);
    let r = apply(
        &s,
        CM,
        "someone-else",
        false,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '9'}\n",
    )
    .await;
    assert_eq!(r.status, 409, "only kubectl is upgraded: {}", r.raw);
}
