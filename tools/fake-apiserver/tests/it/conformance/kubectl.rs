//! kubectl 1.32 against the fake, in the flows whose server side upstream
//! defines: the client-side → server-side apply upgrade, `scale`,
//! `apply --server-side --subresource=status` and `delete
//! --cascade=foreground` (a `kind: List` is in `kubectl.rs`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::kubectl::Kubectl;
use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

fn deployment_yaml(image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default, labels: {{app: web}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - {{name: web, image: '{image}', ports: [{{containerPort: 80}}]}}
"
    )
}

fn entry<'a>(obj: &'a Value, manager: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
}

/// kubectl apply.go (server-side branch) with client-go
/// `util/csaupgrade.UpgradeManagedFieldsPatch`, and the apiserver's
/// `managedfields/internal/lastappliedmanager.go` (conflicts on fields the
/// last-applied annotation still describes are forced for `kubectl`):
/// test/integration/apiserver/apply TestUpgradeClientSideToServerSideApply.
/// The image changed between the two applies; no conflict, and the
/// `kubectl-client-side-apply` entry is gone into `kubectl`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_apply_upgrades_to_server_side() {
    let s = server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    let v1 = k.write("v1.yaml", &deployment_yaml("nginx:1.26"));
    let csa = k.run(&["apply", "-f", v1.to_str().unwrap()], &[]).await;
    assert!(csa.ok, "{}", csa.stderr);
    let live = s.get("apps", "deployments", "default", "web").unwrap();
    assert!(entry(&live, "kubectl-client-side-apply").is_some());

    let v2 = k.write("v2.yaml", &deployment_yaml("nginx:1.27"));
    let ssa = k.apply(&v2, &[]).await;
    assert!(ssa.ok, "{}", ssa.stderr);
    let live = s.get("apps", "deployments", "default", "web").unwrap();
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    let managers = managers(&live);
    assert!(
        !managers
            .iter()
            .any(|(m, _)| m == "kubectl-client-side-apply"),
        "{managers:?}"
    );
    let own = entry(&live, "kubectl").expect("kubectl's Apply entry");
    assert_eq!(own["operation"], "Apply");
    assert!(
        own["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][r#"k:{"name":"web"}"#]
            ["f:image"]
            .is_object(),
        "{own}"
    );
    let annotation = live["metadata"]["annotations"]
        ["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    assert!(annotation.contains("nginx:1.27"), "{annotation}");
}

/// registry/apps/deployment/storage `ScaleREST` and
/// test/integration/apiserver/apply/scale_test.go (TestScaleAllResources:
/// `/scale` writes own `spec.replicas` with `subresource: scale`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_scale() {
    let s = server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    let file = k.write("d.yaml", &deployment_yaml("nginx:1.27"));
    assert!(k.apply(&file, &[]).await.ok);
    let r = k
        .run(
            &["scale", "deployment/web", "--replicas=3", "-n", "default"],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    let live = s.get("apps", "deployments", "default", "web").unwrap();
    assert_eq!(live["spec"]["replicas"], 3);
    assert_eq!(live["metadata"]["generation"], 2);
    let scale = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["subresource"] == "scale")
        .expect("an entry for the scale subresource");
    assert_eq!(scale["operation"], "Update");
    assert_eq!(scale["apiVersion"], "apps/v1");
    assert_eq!(scale["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));
    // The applier's replicas now conflict with the scaler, as upstream.
    let again = k.apply(&file, &[]).await;
    assert!(!again.ok);
    assert!(again.stderr.contains(".spec.replicas"), "{}", again.stderr);
}

/// test/integration/apiserver/apply/status_test.go (TestApplyStatus):
/// apply to `/status` changes only the status and records
/// `subresource: status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_server_side_to_status() {
    let s = server().await;
    let mut c = s.controller();
    c.enabled = false;
    s.set_controller(c);
    let Some(k) = Kubectl::new(&s) else { return };
    let file = k.write("d.yaml", &deployment_yaml("nginx:1.27"));
    assert!(k.apply(&file, &[]).await.ok);
    let status = k.write(
        "status.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec: {replicas: 9}
status:
  conditions:
  - {type: Custom, status: 'True', reason: Set, message: by hand}
",
    );
    let r = k
        .apply(
            &status,
            &["--subresource=status", "--field-manager=reporter"],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    let live = s.get("apps", "deployments", "default", "web").unwrap();
    assert_eq!(live["status"]["conditions"][0]["type"], "Custom");
    assert_eq!(
        live["spec"]["replicas"], 1,
        "spec is not written through /status"
    );
    let e = entry(&live, "reporter").expect("the status applier's entry");
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["operation"], "Apply");
    assert!(e["fieldsV1"].get("f:spec").is_none(), "{e}");
}

/// kubectl `delete --cascade=foreground` sends `propagationPolicy:
/// Foreground`; the registry's `store.go` Delete sets `foregroundDeletion`
/// and the garbage collector deletes blocking dependents first
/// (garbagecollector.go `processDeletingDependentsItem`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cascade_foreground() {
    let s = server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    let file = k.write("d.yaml", &deployment_yaml("nginx:1.27"));
    assert!(k.apply(&file, &[]).await.ok);
    let owner = s.get("apps", "deployments", "default", "web").unwrap();
    let dep = json!({"metadata": {"name": "dep", "finalizers": ["example.com/hold"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
            "uid": owner["metadata"]["uid"], "blockOwnerDeletion": true}]}});
    assert_eq!(
        post(&s, "/api/v1/namespaces/default/configmaps", &dep)
            .await
            .status,
        201
    );
    let r = k
        .run(
            &[
                "delete",
                "deployment/web",
                "-n",
                "default",
                "--cascade=foreground",
                "--wait=false",
            ],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    let held = s
        .get("apps", "deployments", "default", "web")
        .expect("held");
    assert_eq!(
        held["metadata"]["finalizers"],
        json!(["foregroundDeletion"])
    );
    assert!(
        s.wait_until(WAIT, |s| s
            .get("", "configmaps", "default", "dep")
            .is_some_and(|d| d["metadata"]["deletionTimestamp"].is_string()))
            .await
    );
    assert!(s.get("apps", "deployments", "default", "web").is_some());
    let r = k
        .run(
            &[
                "patch",
                "configmap/dep",
                "-n",
                "default",
                "--type=merge",
                "-p",
                r#"{"metadata":{"finalizers":null}}"#,
            ],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    let r = k
        .run(
            &[
                "wait",
                "--for=delete",
                "deployment/web",
                "-n",
                "default",
                "--timeout=20s",
            ],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
}
