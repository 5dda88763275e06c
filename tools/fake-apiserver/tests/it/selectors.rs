//! LIST with label and field selectors, across and within namespaces.

use serde_json::{json, Value};

use crate::support::*;

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn label_and_field_selectors() {
    let s = quiet_server().await;
    post(
        &s,
        "/api/v1/namespaces",
        &json!({"metadata": {"name": "other"}}),
    )
    .await;
    for (ns, name, labels) in [
        ("default", "a", json!({"app": "web", "tier": "front"})),
        ("default", "b", json!({"app": "db"})),
        ("default", "c", json!({})),
        ("other", "d", json!({"app": "web"})),
    ] {
        let body = json!({"metadata": {"name": name, "labels": labels}});
        let r = post(&s, &format!("/api/v1/namespaces/{ns}/configmaps"), &body).await;
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    let cases = [
        ("labelSelector=app%3Dweb", vec!["a", "d"]),
        ("labelSelector=app%3D%3Dweb", vec!["a", "d"]),
        ("labelSelector=app!%3Dweb", vec!["b", "c"]),
        ("labelSelector=app+in+(web,db)", vec!["a", "b", "d"]),
        ("labelSelector=app+notin+(web)", vec!["b", "c"]),
        ("labelSelector=tier", vec!["a"]),
        ("labelSelector=!app", vec!["c"]),
        ("labelSelector=app%3Dweb,tier%3Dfront", vec!["a"]),
        ("fieldSelector=metadata.name%3Db", vec!["b"]),
        ("fieldSelector=metadata.namespace%3Dother", vec!["d"]),
        (
            "fieldSelector=metadata.name!%3Da&labelSelector=app",
            vec!["b", "d"],
        ),
    ];
    for (q, want) in cases {
        let r = get(&s, &format!("/api/v1/configmaps?{q}")).await;
        assert_eq!(r.status, 200, "{q}: {}", r.raw);
        assert_eq!(names(&r.body), want, "{q}");
    }
    let ns = get(
        &s,
        "/api/v1/namespaces/default/configmaps?labelSelector=app",
    )
    .await;
    assert_eq!(names(&ns.body), vec!["a", "b"]);
    assert_eq!(ns.body["kind"], "ConfigMapList");
    assert!(ns.body["metadata"]["resourceVersion"].is_string());
    let bad = get(&s, "/api/v1/configmaps?labelSelector=app+in+web").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let s = quiet_server().await;
    for i in 0..5 {
        post(
            &s,
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": format!("c{i}")}}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let r = get(
            &s,
            &format!("/api/v1/namespaces/default/configmaps?limit=2&continue={token}"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.raw);
        seen.extend(names(&r.body));
        match r.body["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, vec!["c0", "c1", "c2", "c3", "c4"]);
    let bad = get(
        &s,
        "/api/v1/namespaces/default/configmaps?limit=2&continue=zz",
    )
    .await;
    assert_eq!(bad.status, 400);
}
