//! A first `homelab apply` over objects another tool made: kubectl's client-side apply
//! (manager `kubectl-client-side-apply`, operation Update, the last-applied
//! annotation) is taken over without conflicts where the values are equal, and a
//! differing value is a conflict naming that manager. A Deployment whose ports lack
//! `protocol` (the server defaults it, and keys the port by it) applies, re-applies as
//! a no-op and diffs clean.

use http::Method;
use serde_json::{json, Value};

use super::{apply_ok, desired, homelab};
use crate::support::{chart_lab, FakeCluster};

/// A rendered object as `kubectl apply` (client-side) would have created it.
fn create_client_side(fake: &FakeCluster, rendered: &Value) {
    let mut o = rendered.clone();
    let meta = o["metadata"].as_object_mut().unwrap();
    meta.remove("labels");
    meta.insert(
        "annotations".into(),
        json!({"kubectl.kubernetes.io/last-applied-configuration": rendered.to_string()}),
    );
    let path = fake.server.object_path(&o);
    let collection = path.rsplit_once('/').unwrap().0;
    let (code, answer) = fake.server.call(
        Method::POST,
        &format!("{collection}?fieldManager=kubectl-client-side-apply"),
        "application/json",
        &serde_json::to_vec(&o).unwrap(),
    );
    assert_eq!(code, 201, "{answer}");
}

fn site_objects(objects: &[Value]) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| o["metadata"]["labels"]["homelab.dev/release"] == "site")
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "ConfigMap")
        .cloned()
        .collect()
}

fn make_namespace(fake: &FakeCluster) {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "site"}});
    let (code, answer) = fake.server.call(
        Method::POST,
        "/api/v1/namespaces?fieldManager=kubectl-client-side-apply",
        "application/json",
        &serde_json::to_vec(&ns).unwrap(),
    );
    assert_eq!(code, 201, "{answer}");
}

#[test]
fn client_side_applied_objects_are_taken_over_without_conflicts() {
    let lab = chart_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    make_namespace(&fake);
    for o in site_objects(&desired(&lab, &fake)) {
        create_client_side(&fake, &o);
    }
    let run = apply_ok(&lab, &fake, &[]);
    assert!(
        run.stdout.contains("configured Deployment/site/site"),
        "{run}"
    );
    let live = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    let managers: Vec<&str> = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"homelab"), "{managers:?}");
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(0);
}

#[test]
fn a_differing_client_side_value_conflicts_by_manager() {
    let lab = chart_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    make_namespace(&fake);
    for mut o in site_objects(&desired(&lab, &fake)) {
        if o["kind"] == "Deployment" {
            o["spec"]["replicas"] = json!(4);
        }
        create_client_side(&fake, &o);
    }
    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "20s"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Deployment/site/site has 1 field(s) owned by other managers (.spec.replicas by \"kubectl-client-side-apply\")"),
        "{run}"
    );
}

#[test]
fn ports_without_protocol_apply_reapply_as_a_noop_and_diff_clean() {
    let lab = chart_lab();
    lab.replace(
        "releases/site/manifests/deployment.yaml.hbs",
        "          image: nginx:1.27\n",
        "          image: nginx:1.27\n          ports:\n            - containerPort: 8080\n              name: http\n",
    );
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let before = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    let ports = &before["spec"]["template"]["spec"]["containers"][0]["ports"];
    assert_eq!(ports[0]["protocol"], "TCP", "defaulted: {ports}");

    let again = apply_ok(&lab, &fake, &["--no-skip"]);
    let after = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    assert_eq!(
        before["metadata"]["resourceVersion"], after["metadata"]["resourceVersion"],
        "a re-apply of the same ports writes nothing\n{again}"
    );
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(0);

    // Another applier naming the protocol shares the port instead of adding one.
    let theirs = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "site", "namespace": "site"},
        "spec": {"selector": {"matchLabels": {"app": "site"}}, "template": {"spec": {"containers": [
            {"name": "site", "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http"}]}]}}}});
    let (code, body) = fake.server.apply_as("other", &theirs, false);
    assert_eq!(code, 200, "{body}");
    let live = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    let ports = live["spec"]["template"]["spec"]["containers"][0]["ports"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(ports, 1, "{live}");
}
