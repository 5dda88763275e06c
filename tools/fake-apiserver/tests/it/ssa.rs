//! Server-side apply: ownership, conflicts, force, removal, no-op applies.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn apply_creates_then_updates_with_owned_fields() {
    let s = server().await;
    let created = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(
        managers(&created.body),
        vec![("homelab".to_owned(), "Apply".to_owned())]
    );
    let fields = &created.body["metadata"]["managedFields"][0]["fieldsV1"];
    assert!(
        fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["."]
            .is_object()
    );
    assert_eq!(fields["f:spec"]["f:selector"], json!({}));
    let updated = apply(&s, DEPLOY, "homelab", false, &deployment(3, "nginx:1")).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["spec"]["replicas"], 3);
}

#[tokio::test]
async fn conflicting_manager_gets_409_listing_fields_then_forces() {
    let s = server().await;
    apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    let r = apply(&s, DEPLOY, "other", false, &deployment(5, "nginx:2")).await;
    assert_eq!(r.status, 409, "{}", r.raw);
    assert_eq!(r.body["reason"], "Conflict");
    assert_eq!(
        r.body["message"],
        "Apply failed with 2 conflicts: conflicts with \"homelab\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
    let causes = r.body["details"]["causes"].as_array().unwrap();
    assert_eq!(causes[0]["reason"], "FieldManagerConflict");
    assert_eq!(causes[0]["field"], ".spec.replicas");
    assert_eq!(causes[0]["message"], "conflict with \"homelab\"");

    let forced = apply(&s, DEPLOY, "other", true, &deployment(5, "nginx:2")).await;
    assert_eq!(forced.status, 200, "{}", forced.raw);
    assert_eq!(forced.body["spec"]["replicas"], 5);
    // The previous owner lost the fields; applying its old values conflicts now.
    let back = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    assert_eq!(back.status, 409);
    assert!(back.body["message"]
        .as_str()
        .unwrap()
        .contains("conflicts with \"other\""));
}

#[tokio::test]
async fn update_operations_are_owners_too() {
    let s = server().await;
    apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    let r = patch(
        &s,
        &format!("{DEPLOY}?fieldManager=kubectl-scale"),
        "application/merge-patch+json",
        r#"{"spec":{"replicas":4}}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(managers(&r.body).contains(&("kubectl-scale".to_owned(), "Update".to_owned())));
    let again = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
}

#[tokio::test]
async fn same_value_is_shared_and_not_a_conflict() {
    let s = quiet_server().await;
    apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    let r = apply(&s, DEPLOY, "other", false, &deployment(2, "nginx:1")).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(managers(&r.body).len(), 2);
}

#[tokio::test]
async fn removed_field_disappears_unless_someone_else_owns_it() {
    let s = server().await;
    let cm = "/api/v1/namespaces/default/configmaps/c";
    let full = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: '1', b: '2'}}\ndata: {x: '1', y: '2'}\n";
    apply(&s, cm, "homelab", false, full).await;
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {y: '2'}\n";
    assert_eq!(apply(&s, cm, "other", false, other).await.status, 200);
    let less =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: '1'}}\ndata: {x: '1'}\n";
    let r = apply(&s, cm, "homelab", false, less).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["metadata"]["labels"], json!({"a": "1"}));
    assert_eq!(
        r.body["data"],
        json!({"x": "1", "y": "2"}),
        "y is still owned by other"
    );
    let none = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let r = apply(&s, cm, "homelab", false, none).await;
    assert!(r.body["metadata"].get("labels").is_none(), "{}", r.raw);
    assert_eq!(r.body["data"], json!({"y": "2"}));
}

#[tokio::test]
async fn removed_container_and_env_items_disappear() {
    let s = server().await;
    let two = deployment(1, "nginx:1").replace(
        "        ports: [{containerPort: 80}]\n",
        "        env: [{name: A, value: '1'}, {name: B, value: '2'}]\n      - name: side\n        image: busybox\n",
    );
    let r = apply(&s, DEPLOY, "homelab", false, &two).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    let one = deployment(1, "nginx:1").replace(
        "        ports: [{containerPort: 80}]\n",
        "        env: [{name: B, value: '2'}]\n",
    );
    let r = apply(&s, DEPLOY, "homelab", false, &one).await;
    let containers = &r.body["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers.as_array().unwrap().len(), 1, "{containers}");
    assert_eq!(containers[0]["env"], json!([{"name": "B", "value": "2"}]));
    assert!(containers[0].get("ports").is_none());
}

#[tokio::test]
async fn no_op_apply_keeps_resource_version() {
    let s = quiet_server().await;
    let first = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    let rv = first.body["metadata"]["resourceVersion"].clone();
    let again = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    assert_eq!(again.status, 200);
    // The controller may have written status in between; compare with the live object.
    let live = get(&s, DEPLOY).await;
    assert_eq!(
        again.body["metadata"]["resourceVersion"],
        live.body["metadata"]["resourceVersion"]
    );
    let before = s.resource_version();
    let third = apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    assert_eq!(s.resource_version(), before, "a no-op apply must not write");
    assert_eq!(
        third.body["metadata"]["resourceVersion"],
        live.body["metadata"]["resourceVersion"]
    );
    assert_ne!(rv, serde_json::Value::Null);
}

#[tokio::test]
async fn apply_errors_are_statuses() {
    let s = server().await;
    let r = patch(
        &s,
        DEPLOY,
        "application/apply-patch+yaml",
        &deployment(1, "x"),
    )
    .await;
    assert_eq!(r.status, 422, "fieldManager is required: {}", r.raw);
    let r = apply(
        &s,
        DEPLOY,
        "m",
        false,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\n",
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("does not match the name on the URL"));
    let r = apply(&s, DEPLOY, "m", false, ": not yaml: [").await;
    assert_eq!(r.status, 400);
    let r = apply(
        &s,
        "/api/v1/namespaces/nope/configmaps/c",
        "m",
        false,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["message"], "namespaces \"nope\" not found");
}

#[tokio::test]
async fn managed_fields_survive_json_round_trip_via_get() {
    let s = server().await;
    apply(&s, DEPLOY, "homelab", false, &deployment(2, "nginx:1")).await;
    let live = get(&s, DEPLOY).await;
    let entry = live.body["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "homelab")
        .unwrap()
        .clone();
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(entry["apiVersion"], "apps/v1");
    assert!(entry["time"].is_string());
}
