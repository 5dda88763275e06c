//! The real kubectl against the fake: server-side apply, get, delete,
//! conflicts, and ApplySet pruning (`KUBECTL_APPLYSET=true`).
//!
//! Needs a kubectl client (`$KUBECTL`, else `kubectl` on PATH); without one each
//! test fails, unless `HOMELAB_TEST_ALLOW_MISSING=kubectl` says to skip them on
//! purpose (CI never sets it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// The opt-out: a comma-separated list of programs whose absence skips the tests
/// that need them instead of failing them.
const ALLOW_MISSING: &str = "HOMELAB_TEST_ALLOW_MISSING";

/// The kubectl to run; `None` (after saying so on the real stderr, which the test
/// harness does not capture) only when it is missing and [`ALLOW_MISSING`] lists it.
fn kubectl_binary() -> Option<PathBuf> {
    let candidate = std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| "kubectl".into());
    let found = Command::new(&candidate)
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(candidate);
    }
    let allowed = std::env::var(ALLOW_MISSING).unwrap_or_default();
    if allowed.split(',').any(|p| p.trim() == "kubectl") {
        use std::io::Write as _;
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED, NOT RUN: {test} needs kubectl; {ALLOW_MISSING} allows it to be missing"
        );
        return None;
    }
    panic!(
        "kubectl not found ({}): install kubectl >= 1.27 (Kubernetes' apt repository; \
         `bash .ci/setup` checks it) or point KUBECTL at one; \
         {ALLOW_MISSING}=kubectl skips these tests on purpose",
        candidate.display()
    );
}

pub(crate) struct Kubectl {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

pub(crate) struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    pub(crate) fn new(server: &fake_apiserver::ServerHandle) -> Option<Kubectl> {
        let bin = kubectl_binary()?;
        let dir = tempfile::tempdir().unwrap();
        server
            .write_kubeconfig(&dir.path().join("kubeconfig"))
            .unwrap();
        Some(Kubectl { bin, dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Runs kubectl off the runtime's threads so the server keeps serving.
    pub(crate) async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(self.path("kubeconfig"))
            .args(args);
        cmd.env("HOME", self.dir.path()).env_remove("KUBECONFIG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let shown = format!("{cmd:?}");
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let run = Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!("$ {shown}\n{}{}", run.stdout, run.stderr);
        run
    }
}

impl Kubectl {
    /// `kubectl apply --server-side EXTRA -f FILE`.
    pub(crate) async fn apply(&self, file: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["apply", "--server-side"];
        args.extend_from_slice(extra);
        args.extend(["-f", file.to_str().unwrap()]);
        self.run(&args, &[]).await
    }

    /// `kubectl rollout status WHAT -n NS --timeout=20s`.
    async fn rollout_status(&self, what: &str, namespace: &str) -> Run {
        self.run(
            &["rollout", "status", what, "-n", namespace, "--timeout=20s"],
            &[],
        )
        .await
    }
}

fn file(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MANIFESTS: &str = "apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: demo, labels: {app: web}}
data: {a: '1'}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: 'nginx:1.27', ports: [{containerPort: 80}]}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_get_delete() {
    let s = quiet_server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    let m = k.write("all.yaml", MANIFESTS);
    let r = k.apply(&m, &[]).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(
        r.stdout.contains("deployment.apps/web serverside-applied"),
        "{}",
        r.stdout
    );

    let r = k
        .run(
            &[
                "get",
                "deployment",
                "web",
                "-n",
                "demo",
                "-o",
                "json",
                "--show-managed-fields",
            ],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    let d: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(d["metadata"]["managedFields"][0]["manager"], "kubectl");
    let r = k
        .run(
            &["get", "cm", "-n", "demo", "-l", "app=web", "-o", "name"],
            &[],
        )
        .await;
    assert_eq!(r.stdout.trim(), "configmap/cfg");
    let r = k.run(&["get", "deployments", "-n", "demo"], &[]).await;
    let table = "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    0/2";
    assert!(r.stdout.starts_with(table), "{}", r.stdout);

    // A change is one field; re-applying the same is a no-op.
    let changed = k.write(
        "changed.yaml",
        &MANIFESTS.replace("replicas: 2", "replicas: 4"),
    );
    assert!(k.apply(&changed, &[]).await.ok);
    assert_eq!(
        s.get("apps", "deployments", "demo", "web").unwrap()["spec"]["replicas"],
        4
    );
    let rv = s.resource_version();
    assert!(k.apply(&changed, &[]).await.ok);
    assert_eq!(
        s.resource_version(),
        rv,
        "re-applying the same manifests writes nothing"
    );

    // Another manager conflicts, then forces.
    let r = k.apply(&m, &["--field-manager", "other"]).await;
    assert!(!r.ok);
    assert!(
        r.stderr
            .contains("conflict with \"kubectl\": .spec.replicas"),
        "{}",
        r.stderr
    );
    let r = k
        .apply(&m, &["--field-manager", "other", "--force-conflicts"])
        .await;
    assert!(r.ok, "{}", r.stderr);

    let r = k
        .run(
            &[
                "diff",
                "--server-side",
                "--field-manager",
                "other",
                "-f",
                file(&m),
            ],
            &[],
        )
        .await;
    assert!(r.ok, "no differences: {}", r.stderr);

    let r = k
        .run(&["delete", "deployment", "web", "-n", "demo"], &[])
        .await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("deployment.apps \"web\" deleted"));
    assert!(s.get("apps", "deployments", "demo", "web").is_none());
    let r = k.run(&["delete", "namespace", "demo"], &[]).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(s.get("", "configmaps", "demo", "cfg").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applyset_prune() {
    let s = server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    k.write(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n",
    );
    assert!(k.apply(&k.path("ns.yaml"), &[]).await.ok);
    for i in 0..3 {
        k.write(&format!("set/cm{i}.yaml"), &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: demo}}\ndata: {{k: v{i}}}\n"));
    }
    // A foreign ConfigMap without the applyset label is never pruned.
    let foreign = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foreign", "namespace": "demo"}});
    assert_eq!(s.apply_as("someone-else", &foreign, false).0, 201);
    let dir = k.path("set");
    let args = [
        "apply",
        "--server-side",
        "--prune",
        "--applyset=secret/homelab-set",
        "-n",
        "demo",
        "-f",
        file(&dir),
    ];
    let env = [("KUBECTL_APPLYSET", "true")];
    let r = k.run(&args, &env).await;
    assert!(r.ok, "{}", r.stderr);
    let parent = s
        .get("", "secrets", "demo", "homelab-set")
        .expect("ApplySet parent Secret");
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("applyset-"));
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap"
    );
    let member = s.get("", "configmaps", "demo", "c0").unwrap();
    assert_eq!(
        member["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        id.as_str()
    );

    std::fs::remove_file(dir.join("cm2.yaml")).unwrap();
    let r = k.run(&args, &env).await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("configmap/c2 pruned"), "{}", r.stdout);
    assert!(s.get("", "configmaps", "demo", "c2").is_none());
    assert!(s.get("", "configmaps", "demo", "c1").is_some());
    assert!(s.get("", "configmaps", "demo", "foreign").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_waits_through_watches() {
    let s = server().await;
    s.set_ready_delay(std::time::Duration::from_millis(300));
    let Some(k) = Kubectl::new(&s) else { return };
    let m = k.write("all.yaml", MANIFESTS);
    assert!(k.apply(&m, &[]).await.ok);
    let r = k.rollout_status("deployment/web", "demo").await;
    assert!(r.ok, "{}", r.stderr);
    assert!(r.stdout.contains("successfully rolled out"), "{}", r.stdout);
    let r = k
        .run(
            &[
                "wait",
                "--for=condition=Available",
                "deployment/web",
                "-n",
                "demo",
                "--timeout=20s",
            ],
            &[],
        )
        .await;
    assert!(r.ok, "{}", r.stderr);
    s.fail(
        fake_apiserver::FailRule::new("Deployment", "web")
            .with_reason("ProgressDeadlineExceeded", "image cannot be pulled"),
    );
    let changed = k.write(
        "changed.yaml",
        &MANIFESTS.replace("nginx:1.27", "nginx:404"),
    );
    assert!(k.apply(&changed, &[]).await.ok);
    let r = k.rollout_status("deployment/web", "demo").await;
    assert!(!r.ok);
    assert!(
        r.stderr.contains("exceeded its progress deadline"),
        "{}",
        r.stderr
    );
}

/// kubectl validates a `kind: List` client-side against `/openapi/v2`
/// (k8s.io/kubectl pkg/cmd/util QueryParamVerifierV3.HasSupport answers
/// "unsupported" for List), then applies each item; both apply modes work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_a_kind_list() {
    let s = quiet_server().await;
    let Some(k) = Kubectl::new(&s) else { return };
    let list = k.write(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n\
         - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: default}, data: {x: '1'}}\n\
         - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: default}, data: {y: '2'}}\n",
    );
    let csa = k.run(&["apply", "-f", file(&list)], &[]).await;
    assert!(csa.ok, "{}", csa.stderr);
    assert!(csa.stdout.contains("configmap/a created"), "{}", csa.stdout);
    let ssa = k.apply(&list, &["--force-conflicts"]).await;
    assert!(ssa.ok, "{}", ssa.stderr);
    for name in ["a", "b"] {
        let got = get(&s, &format!("/api/v1/namespaces/default/configmaps/{name}")).await;
        assert_eq!(got.status, 200, "{}", got.raw);
    }
}
