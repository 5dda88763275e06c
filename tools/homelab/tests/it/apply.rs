//! `homelab apply` and `homelab diff` against the in-process fake API server: the
//! reference lab's manifest-only releases plus the fixture chart releases applied and
//! compared with the live state, value changes and removed fields, conflicts with
//! another field manager, readiness timeouts, the context guard, diff snapshots, and
//! no secret plaintext in any output.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use fake_apiserver::FailRule;
use homelab_secrets::{ExposeSecret as _, KeySources};
use serde_json::{json, Value};

mod adopt;
mod converge;
mod delete_cost;
mod destroy;
mod fast_path;
mod hooks;
mod json_events;
mod lock;
mod policy;
mod prune;
mod revisions;
mod status;
mod takeover;
mod terminating;

use crate::support::{chart_lab, copy_tree, helm_shim, repo_root, FakeCluster, Run, TestLab};

fn admin_key() -> PathBuf {
    repo_root().join("checks/testdata/throwaway-admin-ayumi.agekey")
}

/// The fixture chart lab (webapp chart with a CRD and a custom resource, the `site`
/// manifest release) plus the reference lab's manifest-only releases, whose `needs`
/// point into this smaller lab so the stages stay interesting.
fn apply_lab() -> TestLab {
    let lab = chart_lab();
    let root = repo_root();
    for release in ["minio", "vaultwarden", "nextcloud"] {
        copy_tree(
            &root.join("releases").join(release),
            &lab.path().join("releases").join(release),
        );
    }
    lab.replace(
        "releases/minio/release.toml",
        "needs = [\"rook-ceph-cluster\"]",
        "needs = [\"webapp\"]",
    );
    lab.replace(
        "releases/vaultwarden/release.toml",
        "needs = [\"traefik\", \"rook-ceph-cluster\"]",
        "needs = [\"webapp\"]",
    );
    lab.replace(
        "releases/nextcloud/release.toml",
        "needs = [\"traefik\", \"rook-ceph-cluster\"]",
        "needs = [\"minio\"]",
    );
    lab
}

/// The environment a run of homelab against `fake` needs.
fn env_for(lab: &TestLab, fake: &FakeCluster) -> Vec<(&'static str, String)> {
    let text = |p: PathBuf| p.to_str().unwrap().to_string();
    vec![
        ("KUBECONFIG", text(fake.kubeconfig.clone())),
        ("SOPS_AGE_KEY_FILE", text(admin_key())),
        ("HOMELAB_HELM", text(helm_shim())),
        ("HOMELAB_CACHE_DIR", text(lab.path().join(".cache"))),
        ("NO_COLOR", "1".into()),
    ]
}

fn homelab(lab: &TestLab, fake: &FakeCluster, args: &[&str]) -> Run {
    let env = env_for(lab, fake);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = lab.run_with(args, &env);
    assert_no_plaintext(lab.path(), &run);
    run
}

/// Every value of the lab's dev secrets file (and its base64 form) that could not
/// also be an ordinary word: the user names `admin` and `velero` are part of object
/// names such as `nextcloud-admin`, which are not leaks.
fn plaintexts(lab: &Path) -> Vec<String> {
    let keys = KeySources {
        age_key_file: Some(admin_key()),
        ..KeySources::default()
    };
    let tree = homelab_secrets::decrypt_file_with(&lab.join("secrets/dev.yaml"), &keys)
        .expect("the throwaway admin key opens secrets/dev.yaml");
    let mut out = Vec::new();
    for path in tree.paths() {
        if let Some(v) = tree.get(&path) {
            let v = v.expose_secret().to_string();
            if v.len() >= 8 {
                out.push(base64::engine::general_purpose::STANDARD.encode(&v));
                out.push(v);
            }
        }
    }
    assert!(!out.is_empty(), "the secrets file holds values");
    out
}

fn assert_no_plaintext(lab: &Path, run: &Run) {
    for secret in plaintexts(lab) {
        assert!(
            !run.stdout.contains(&secret) && !run.stderr.contains(&secret),
            "a secret plaintext reached the output\n{run}"
        );
    }
}

/// `homelab render -e dev` parsed: the desired objects (Secret data redacted).
fn desired(lab: &TestLab, fake: &FakeCluster) -> Vec<Value> {
    let run = homelab(lab, fake, &["render", "-e", "dev"]);
    run.expect_code(0);
    homelab::render::yaml::parse_documents(&run.stdout)
        .expect("render prints YAML")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// Every field of `want` is in `live` with the same value (the server adds defaults).
pub(crate) fn contains(live: &Value, want: &Value) -> Result<(), String> {
    match (live, want) {
        (Value::Object(l), Value::Object(w)) => {
            for (k, wv) in w {
                let lv = l.get(k).ok_or_else(|| format!("missing `{k}`"))?;
                contains(lv, wv).map_err(|e| format!("{k}.{e}"))?;
            }
            Ok(())
        }
        (Value::Array(l), Value::Array(w)) if l.len() == w.len() => {
            for (i, (lv, wv)) in l.iter().zip(w).enumerate() {
                contains(lv, wv).map_err(|e| format!("[{i}]{e}"))?;
            }
            Ok(())
        }
        _ if live == want => Ok(()),
        _ => Err(format!(": live {live} != desired {want}")),
    }
}

fn apply_ok(lab: &TestLab, fake: &FakeCluster, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "-e", "dev", "--timeout", "20s"];
    args.extend_from_slice(extra);
    let run = homelab(lab, fake, &args);
    run.expect_code(0);
    run
}

#[test]
fn apply_reference_and_chart_releases_then_live_equals_desired() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let run = apply_ok(&lab, &fake, &[]);
    assert!(
        run.stdout.contains("Applied: 27 created, 0 configured"),
        "{run}"
    );

    let objects = desired(&lab, &fake);
    assert_eq!(objects.len(), 27);
    for obj in &objects {
        let live = fake
            .live(obj)
            .unwrap_or_else(|| panic!("not on the server: {obj}"));
        let mut want = obj.clone();
        if want["kind"] == "Secret" {
            // Rendered data is `<redacted>`; the real values are checked below.
            want.as_object_mut().unwrap().remove("data");
        }
        contains(&live, &want).unwrap_or_else(|e| panic!("{}: {e}", obj["metadata"]["name"]));
        let ours = live["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["manager"] == "homelab" && m["operation"] == "Apply");
        assert!(ours, "homelab owns {}", obj["metadata"]["name"]);
    }
    let secret = fake
        .server
        .get("", "secrets", "vaultwarden", "vaultwarden-admin")
        .unwrap();
    let token = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["ADMIN_TOKEN"].as_str().unwrap())
        .unwrap();
    assert!(
        plaintexts(lab.path()).contains(&String::from_utf8(token).unwrap()),
        "the Secret holds the decrypted value"
    );

    // Nothing left to do: the server's dry run equals the live state.
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(0);
    assert_eq!(
        diff.stdout,
        "0 to create, 0 to change, 27 unchanged, 0 to prune\n"
    );
}

#[test]
fn stages_follow_crds_namespaces_and_needs() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let run = apply_ok(&lab, &fake, &["--no-wait"]);
    let stages: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("stage "))
        .collect();
    insta::assert_debug_snapshot!(stages);
}

#[test]
fn a_value_change_is_exactly_that_field() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    lab.replace("releases/site/values.yaml", "replicas: 1", "replicas: 3");
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(2);
    insta::assert_snapshot!("diff_value_change", diff.stdout_normalized());

    apply_ok(&lab, &fake, &[]);
    let d = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["metadata"]["generation"], 2,
        "one change, one new generation"
    );
}

#[test]
fn a_field_removed_from_the_desired_state_disappears() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let before = fake
        .server
        .get("", "configmaps", "site", "site-config")
        .unwrap();
    assert!(before["data"]["storage-hosts"].is_string(), "{before}");
    let template = lab.read("releases/site/manifests/configmap.yaml.hbs");
    let kept: String = template
        .lines()
        .filter(|l| !l.contains("storage-hosts"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, template);
    lab.write("releases/site/manifests/configmap.yaml.hbs", &kept);
    apply_ok(&lab, &fake, &[]);
    let after = fake
        .server
        .get("", "configmaps", "site", "site-config")
        .unwrap();
    assert!(after["data"].get("storage-hosts").is_none(), "{after}");
    assert!(
        after["data"]["settings.yaml"].is_string(),
        "other keys stay"
    );
}

#[test]
fn a_conflict_is_reported_then_taken_over_with_force_conflicts() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let theirs = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "site", "namespace": "site"}, "spec": {"replicas": 5}});
    let (code, body) = fake.server.apply_as("kubectl-edit", &theirs, true);
    assert_eq!(code, 200, "{body}");
    lab.replace("releases/site/values.yaml", "replicas: 1", "replicas: 2");

    let diff = homelab(&lab, &fake, &["diff", "-e", "dev"]);
    diff.expect_code(1);
    insta::assert_snapshot!("diff_conflict", diff.stdout_normalized());

    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "20s"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("error: Deployment/site/site has 1 field(s) owned by other managers (.spec.replicas by \"kubectl-edit\"); rerun with --force-conflicts to take them over"),
        "{run}"
    );
    let d = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    assert_eq!(
        d["spec"]["replicas"], 5,
        "a conflict leaves the object alone"
    );

    apply_ok(&lab, &fake, &["--force-conflicts"]);
    let d = fake
        .server
        .get("apps", "deployments", "site", "site")
        .unwrap();
    assert_eq!(d["spec"]["replicas"], 2);
}

#[test]
fn a_wait_timeout_is_reported_with_its_reason() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    fake.server.fail(
        FailRule::new("Deployment", "webapp-webapp")
            .in_namespace("web")
            .with_reason("ImagePullBackOff", "Back-off pulling image \"webapp:1.0\""),
    );
    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--timeout", "1s"]);
    run.expect_code(1);
    let report: Vec<&str> = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.contains("not ready") || l.contains("event:") || l.contains("Apply failed"))
        .map(|l| l.split(" in ").next().unwrap_or(l))
        .collect();
    insta::assert_debug_snapshot!(report);
    assert!(
        !fake.has("apps", "deployments", "site", "site"),
        "later stages are not started"
    );
}

#[test]
fn the_context_guard_refuses_another_context() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "homelab-prod");
    let run = homelab(&lab, &fake, &["apply", "-e", "dev"]);
    run.expect_code(1);
    insta::assert_snapshot!("context_refused", run.stderr_normalized());
    // Only what the server makes itself: namespaces, their default ServiceAccount and
    // their `kube-root-ca.crt`.
    assert!(fake.server.all_objects().iter().all(|o| {
        let name = o["metadata"]["name"].as_str().unwrap_or("");
        match o["kind"].as_str().unwrap_or("") {
            "Namespace" => true,
            "ServiceAccount" => name == "default",
            "ConfigMap" => name == "kube-root-ca.crt",
            _ => false,
        }
    }));

    // Naming it without --force-context is refused too; with it the run proceeds.
    let named = homelab(
        &lab,
        &fake,
        &["diff", "-e", "dev", "--context", "homelab-prod"],
    );
    named.expect_code(1);
    assert!(
        named
            .stderr
            .contains("but `--context` names `homelab-prod`"),
        "{named}"
    );
    let usage = homelab(&lab, &fake, &["apply", "-e", "dev", "--force-context"]);
    usage.expect_code(2);
    let forced = homelab(
        &lab,
        &fake,
        &[
            "apply",
            "-e",
            "dev",
            "--context",
            "homelab-prod",
            "--force-context",
            "--no-wait",
        ],
    );
    forced.expect_code(0);
    assert!(
        forced
            .stderr
            .contains("warning: using context `homelab-prod`"),
        "{forced}"
    );
}

#[test]
fn diff_of_an_empty_cluster_and_a_changed_secret() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let first = homelab(
        &lab,
        &fake,
        &["diff", "-e", "dev", "-l", "site", "--exit-code"],
    );
    first.expect_code(2);
    insta::assert_snapshot!("diff_create_site", first.stdout_normalized());
    apply_ok(&lab, &fake, &[]);
    lab.replace(
        "releases/site/release.toml",
        "ADMIN_TOKEN = \"vaultwarden.admin_token\"",
        "ADMIN_TOKEN = \"nextcloud.admin_password\"",
    );
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(2);
    insta::assert_snapshot!("diff_secret_change", diff.stdout_normalized());
}

#[test]
fn dry_run_stores_nothing_and_json_is_an_event_stream() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let before = fake.server.all_objects().len();
    let run = homelab(
        &lab,
        &fake,
        &["-o", "json", "apply", "-e", "dev", "--dry-run"],
    );
    run.expect_code(0);
    assert_eq!(
        fake.server.all_objects().len(),
        before,
        "a dry run stores nothing"
    );
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(events[0]["event"], "started");
    assert_eq!(events[0]["dryRun"], true);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["ok"], true);
    assert_eq!(last["created"], 27);
    assert_eq!(
        events.iter().filter(|e| e["event"] == "applied").count(),
        27
    );
}

#[test]
fn a_server_error_names_the_object_and_the_message() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    lab.replace(
        "releases/site/manifests/deployment.yaml.hbs",
        "    matchLabels:\n      app: site",
        "    matchLabels:\n      app: elsewhere",
    );
    let run = homelab(&lab, &fake, &["apply", "-e", "dev", "--no-wait"]);
    run.expect_code(1);
    let failed: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    insta::assert_debug_snapshot!(failed);
}
