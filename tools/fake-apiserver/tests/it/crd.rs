//! A CRD becomes a served resource once Established: discovery (legacy and
//! aggregated) lists it, its objects support every verb, its schema's
//! list-map keys drive server-side apply, and deleting it removes them.

use serde_json::json;

use crate::support::*;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd], listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              parts:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [id]
                items: {type: object}
";

const CRD_PATH: &str =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com";
const WIDGET: &str = "/apis/example.com/v1/namespaces/default/widgets/w";

async fn wait_established(s: &fake_apiserver::ServerHandle) {
    for _ in 0..200 {
        if get(s, "/apis/example.com/v1").await.status == 200 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("CRD never became served");
}

#[tokio::test]
async fn crd_becomes_served_and_unserved() {
    let s = server().await;
    assert_eq!(get(&s, "/apis/example.com/v1").await.status, 404);
    let r = apply(&s, CRD_PATH, "homelab", false, CRD).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    wait_established(&s).await;
    let crd = get(&s, CRD_PATH).await.body;
    let conditions = crd["status"]["conditions"].as_array().unwrap();
    assert!(conditions
        .iter()
        .any(|c| c["type"] == "Established" && c["status"] == "True"));

    let list = get(&s, "/apis/example.com/v1").await.body;
    assert_eq!(list["resources"][0]["name"], "widgets");
    assert_eq!(list["resources"][0]["shortNames"], json!(["wd"]));
    let groups = get(&s, "/apis").await.body;
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["name"] == "example.com"));
    let aggregated = send(s.addr(), "GET", "/apis", "application/json", "")
        .await
        .unwrap();
    assert_eq!(aggregated.status, 200);

    let w1 = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {parts: [{id: a, n: 1}, {id: b, n: 2}]}\n";
    let r = apply(&s, WIDGET, "homelab", false, w1).await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(r.body["metadata"]["generation"], 1);
    let other = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {parts: [{id: c, n: 3}]}\n";
    let r = apply(&s, WIDGET, "other", false, other).await;
    assert_eq!(
        r.status, 200,
        "list-map items are owned separately: {}",
        r.raw
    );
    assert_eq!(r.body["spec"]["parts"].as_array().unwrap().len(), 3);
    let list = get(&s, "/apis/example.com/v1/widgets").await.body;
    assert_eq!(list["kind"], "WidgetList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    assert_eq!(delete(&s, CRD_PATH).await.status, 200);
    assert_eq!(get(&s, "/apis/example.com/v1").await.status, 404);
    assert!(s.list("example.com", "widgets", None).is_empty());
}

#[tokio::test]
async fn crd_waits_for_the_controller_delay() {
    let s = server().await;
    s.set_ready_delay(std::time::Duration::from_millis(300));
    apply(&s, CRD_PATH, "homelab", false, CRD).await;
    let early = get(&s, WIDGET).await;
    assert_eq!(early.status, 404, "not served before Established");
    wait_established(&s).await;
    assert_eq!(get(&s, WIDGET).await.status, 404);
    assert_eq!(
        get(&s, WIDGET).await.body["message"],
        "widgets.example.com \"w\" not found"
    );
}
