//! Server-side apply cases (structured-merge-diff v6, k8s.io/apiserver's
//! endpoints/handlers).

use serde_json::{json, Value};

use crate::support::*;

/// A Deployment `web` with the given containers (YAML flow sequences).
fn with_containers(containers: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: {containers}
"
    )
}

fn fields_of<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["manager"] == manager))
        .map_or(&Value::Null, |e| &e["fieldsV1"])
}

fn ports_of(obj: &Value) -> &Value {
    &obj["spec"]["template"]["spec"]["containers"][0]["ports"]
}

const TCP80: &str = r#"k:{"containerPort":80,"protocol":"TCP"}"#;

/// structured-merge-diff merge/default_keys_test.go,
/// TestDefaultKeysFlat "apply_missing_defaulted_key_A": the item is keyed
/// by the schema default of `protocol`, which the applier does not own;
/// the stored object has it (core/v1 SetDefaults_ContainerPort).
#[tokio::test]
async fn a_port_without_protocol_is_keyed_by_the_default() {
    let s = quiet_server().await;
    let yaml = with_containers("[{name: web, image: nginx, ports: [{containerPort: 80}]}]");
    let r = apply(&s, DEPLOY, "default", false, &yaml).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        ports_of(&r.body),
        &json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    let ports = &fields_of(&r.body, "default")["f:spec"]["f:template"]["f:spec"]["f:containers"][r#"k:{"name":"web"}"#]
        ["f:ports"];
    assert_eq!(
        ports,
        &json!({TCP80: {".": {}, "f:containerPort": {}}}),
        "{}",
        r.raw
    );
    // Re-applying the same manifest changes nothing.
    let again = apply(&s, DEPLOY, "default", false, &yaml).await;
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(
        again.body["metadata"]["resourceVersion"],
        r.body["metadata"]["resourceVersion"]
    );
}

/// TestDefaultKeysFlat "apply_missing_defaulted_key_B": port 80 and port
/// 80/UDP are two items.
#[tokio::test]
async fn a_defaulted_and_an_explicit_protocol_are_two_items() {
    let s = quiet_server().await;
    let yaml = with_containers(
        "[{name: web, image: nginx, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}]}]",
    );
    let r = apply(&s, DEPLOY, "default", false, &yaml).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        ports_of(&r.body),
        &json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 80, "protocol": "UDP"}])
    );
    let ports = &fields_of(&r.body, "default")["f:spec"]["f:template"]["f:spec"]["f:containers"][r#"k:{"name":"web"}"#]
        ["f:ports"];
    assert_eq!(
        ports[r#"k:{"containerPort":80,"protocol":"UDP"}"#],
        json!({".": {}, "f:containerPort": {}, "f:protocol": {}})
    );
}

/// TestDefaultKeysFlat "apply_missing_defaulted_key_with_conflict": a
/// second applier that omits `protocol` addresses the same item and gets
/// one conflict, not a duplicate port.
#[tokio::test]
async fn an_omitted_protocol_conflicts_on_the_same_item() {
    let s = quiet_server().await;
    let one = with_containers(
        "[{name: web, image: nginx, ports: [{containerPort: 80, protocol: TCP, name: foo}]}]",
    );
    let two =
        with_containers("[{name: web, image: nginx, ports: [{containerPort: 80, name: bar}]}]");
    assert_eq!(
        apply(&s, DEPLOY, "apply-one", false, &one).await.status,
        201
    );
    let r = apply(&s, DEPLOY, "apply-two", false, &two).await;
    assert_eq!(r.status, 409, "{}", r.raw);
    assert_eq!(
        r.body["message"],
        r#"Apply failed with 1 conflict: conflict with "apply-one": .spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].name"#
    );
    let live = get(&s, DEPLOY).await;
    assert_eq!(
        ports_of(&live.body),
        &json!([{"containerPort": 80, "protocol": "TCP", "name": "foo"}])
    );
}

/// The same for a Service (ServicePort.protocol `+default="TCP"`, list-map
/// keys port and protocol).
#[tokio::test]
async fn service_ports_without_protocol_reapply_as_no_ops() {
    let s = quiet_server().await;
    let path = "/api/v1/namespaces/default/services/web";
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n";
    let r = apply(&s, path, "homelab", false, svc).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["spec"]["ports"][0]["protocol"], "TCP");
    let again = apply(&s, path, "homelab", false, svc).await;
    assert_eq!(
        again.body["metadata"]["resourceVersion"], r.body["metadata"]["resourceVersion"],
        "{}",
        again.raw
    );
    let explicit = svc.replace("targetPort: 8080", "targetPort: 8080, protocol: TCP");
    let shared = apply(&s, path, "other", false, &explicit).await;
    assert_eq!(shared.status, 200, "{}", shared.raw);
    assert_eq!(
        shared.body["spec"]["ports"].as_array().map(Vec::len),
        Some(1)
    );
}

/// structured-merge-diff merge/update.go `prune` and `addBackOwnedItems`:
/// the items the applier no longer applies are removed and only items some
/// manager owns are added back; a field another manager set inside the item
/// does not own the item, so the whole container goes.
#[tokio::test]
async fn dropping_an_item_another_manager_touched_removes_the_whole_item() {
    let s = quiet_server().await;
    let both = with_containers("[{name: web, image: nginx}, {name: side, image: busybox}]");
    assert_eq!(apply(&s, DEPLOY, "homelab", false, &both).await.status, 201);
    let touched = patch(
        &s,
        &format!("{DEPLOY}?fieldManager=controller"),
        "application/strategic-merge-patch+json",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"side","imagePullPolicy":"Always"}]}}}}"#,
    )
    .await;
    assert_eq!(touched.status, 200, "{}", touched.raw);
    let one = with_containers("[{name: web, image: nginx}]");
    let r = apply(&s, DEPLOY, "homelab", false, &one).await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let containers = &r.body["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers
            .as_array()
            .map(|c| c.iter().map(|c| c["name"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("web")]),
        "{}",
        r.raw
    );
}

/// The counterpart (merge/multiple_appliers_test.go
/// TestMultipleAppliersNestedType): an item another applier also applies
/// stays, with that applier's fields.
#[tokio::test]
async fn an_item_another_applier_owns_stays() {
    let s = quiet_server().await;
    let both = with_containers("[{name: web, image: nginx}, {name: side, image: busybox}]");
    assert_eq!(apply(&s, DEPLOY, "homelab", false, &both).await.status, 201);
    let side = with_containers("[{name: side, image: busybox}]");
    assert_eq!(apply(&s, DEPLOY, "other", false, &side).await.status, 200);
    let r = apply(
        &s,
        DEPLOY,
        "homelab",
        false,
        &with_containers("[{name: web, image: nginx}]"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(
        r.body["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx"}, {"name": "side", "image": "busybox"}])
    );
}

/// k8s.io/apiserver pkg/endpoints/handlers/patch.go (`applyPatch`): an
/// apply that creates but names a uid fails with 409 and creates nothing.
#[tokio::test]
async fn create_by_apply_with_a_uid_is_a_conflict() {
    let s = quiet_server().await;
    let path = "/api/v1/namespaces/default/configmaps/ghost";
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ghost, uid: 6d1c0f4e-0000-4000-8000-000000000001}\ndata: {a: b}\n";
    let r = apply(&s, path, "homelab", false, cm).await;
    assert_eq!(r.status, 409, "{}", r.raw);
    assert_eq!(r.body["reason"], "Conflict");
    assert_eq!(
        r.body["message"],
        "Operation cannot be fulfilled on configmaps \"ghost\": uid mismatch: the provided object specified uid 6d1c0f4e-0000-4000-8000-000000000001, and no existing object was found"
    );
    assert_eq!(get(&s, path).await.status, 404);
}

/// k8s.io/apimachinery pkg/util/managedfields/internal/capmanagers.go
/// (capmanagers_test.go TestCapManagersManagerMergesEntries): more than 10
/// Update managers fold the oldest into one `ancient-changes` entry per
/// apiVersion; Apply entries are not counted.
#[tokio::test]
async fn update_managers_are_capped_at_ten() {
    let s = quiet_server().await;
    let path = "/api/v1/namespaces/default/configmaps/busy";
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: busy}\ndata: {applied: x}\n";
    assert_eq!(apply(&s, path, "homelab", false, cm).await.status, 201);
    let mut last = Value::Null;
    for n in 0..12 {
        let r = patch(
            &s,
            &format!("{path}?fieldManager=updater-{n:02}"),
            "application/merge-patch+json",
            &format!(r#"{{"data":{{"k{n}":"v"}}}}"#),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        last = r.body;
    }
    let entries = managers(&last);
    let updates: Vec<&str> = entries
        .iter()
        .filter(|(_, op)| op == "Update")
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(updates.len(), 10, "{entries:?}");
    assert!(updates.contains(&"ancient-changes"), "{entries:?}");
    assert!(entries.contains(&("homelab".to_owned(), "Apply".to_owned())));
    assert!(!updates.contains(&"updater-00") && updates.contains(&"updater-11"));
    let ancient = fields_of(&last, "ancient-changes");
    assert_eq!(
        ancient["f:data"],
        json!({"f:k0": {}, "f:k1": {}, "f:k2": {}}),
        "{ancient}"
    );
}
