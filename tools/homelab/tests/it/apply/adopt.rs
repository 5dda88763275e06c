//! Taking over what Helm installed: objects Helm created (manager `helm`, operation
//! Update, its labels and annotations) and listed in its release Secrets are shown as
//! "adopt" by `diff`, refused by `apply` without `--adopt`, taken over with it (only
//! differing values conflict, named with the manager), and Helm's release Secrets stay
//! unless `--forget-helm-release`. What Helm had that the lab does not render is listed
//! with the command that removes it, never pruned.

use std::io::Write as _;

use base64::Engine as _;
use http::Method;
use serde_json::{json, Value};

use super::{apply_lab, desired, homelab};
use crate::support::{FakeCluster, TestLab};

/// The rendered objects of release `site` that Helm would have installed, as Helm
/// writes them: without homelab's labels and annotations, with Helm's.
fn as_helm_made(objects: &[Value]) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| o["metadata"]["labels"]["homelab.dev/release"] == "site")
        .filter(|o| o["kind"] == "Deployment" || o["kind"] == "ConfigMap")
        .map(|o| {
            let mut o = o.clone();
            let meta = o["metadata"].as_object_mut().unwrap();
            let mut labels = meta["labels"].as_object().cloned().unwrap_or_default();
            labels.retain(|k, _| !k.starts_with("homelab.dev/") && !k.starts_with("applyset."));
            labels.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
            meta.insert("labels".into(), Value::Object(labels));
            meta.insert(
                "annotations".into(),
                json!({"meta.helm.sh/release-name": "site", "meta.helm.sh/release-namespace": "site"}),
            );
            o
        })
        .collect()
}

/// Creates `objects` as Helm 3 does (POST, manager `helm`) and records them in the
/// release Secrets of `site/site`, revisions 1 and 2 (the newest lists them all).
fn helm_install(fake: &FakeCluster, objects: &[Value]) {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "site"}});
    create_as(fake, "kubectl-create", &namespace);
    for o in objects {
        create_as(fake, "helm", o);
    }
    let manifest: Vec<String> = objects.iter().map(|o| format!("---\n{o}\n")).collect();
    for revision in [1, 2] {
        create_as(fake, "helm", &release_secret(revision, &manifest.concat()));
    }
}

fn create_as(fake: &FakeCluster, manager: &str, object: &Value) {
    let path = fake.server.object_path(object);
    let collection = path.rsplit_once('/').unwrap().0;
    let body = serde_json::to_vec(object).unwrap();
    let (code, answer) = fake.server.call(
        Method::POST,
        &format!("{collection}?fieldManager={manager}"),
        "application/json",
        &body,
    );
    assert_eq!(code, 201, "creating {object} as {manager}: {answer}");
}

/// `sh.helm.release.v1.site.v<revision>` as Helm 3 stores it: base64 of gzip of JSON.
fn release_secret(revision: u64, manifest: &str) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let release = json!({"name": "site", "namespace": "site", "version": revision,
        "info": {"status": "deployed"}, "manifest": manifest});
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(release.to_string().as_bytes()).unwrap();
    let helm = b64.encode(gz.finish().unwrap());
    json!({"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.site.v{revision}"), "namespace": "site",
            "labels": {"owner": "helm", "name": "site", "status": "deployed", "version": revision.to_string()}},
        "data": {"release": b64.encode(helm)}})
}

fn live_deployment(fake: &FakeCluster) -> Value {
    fake.server
        .get("apps", "deployments", "site", "site")
        .expect("Deployment site/site")
}

fn run(lab: &TestLab, fake: &FakeCluster, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["apply", "-e", "dev", "-l", "site", "--timeout", "20s"];
    args.extend_from_slice(extra);
    homelab(lab, fake, &args)
}

#[test]
fn helm_installed_objects_are_adopted_only_with_adopt() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let mut helm_made = as_helm_made(&desired(&lab, &fake));
    assert_eq!(helm_made.len(), 2, "{helm_made:?}");
    helm_made.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "site-legacy", "namespace": "site",
            "labels": {"app.kubernetes.io/managed-by": "Helm"}}, "data": {"old": "yes"}}));
    helm_install(&fake, &helm_made);

    let diff = homelab(
        &lab,
        &fake,
        &["diff", "-e", "dev", "-l", "site", "--exit-code"],
    );
    diff.expect_code(2);
    for line in [
        "adopt Deployment/site/site: installed by Helm release site/site; `homelab apply --adopt` takes it over",
        "adopt ConfigMap/site/site-config: installed by Helm release site/site",
        "helm-leftover ConfigMap/site/site-legacy (Helm release site/site): not rendered by the lab, never pruned; remove it with: kubectl --context kind-homelab delete configmaps/site-legacy -n site",
        "2 to adopt from Helm",
    ] {
        assert!(diff.stdout.contains(line), "missing {line:?}\n{diff}");
    }

    let refused = run(&lab, &fake, &[]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("error: ConfigMap/site/site-config failed: it was installed by Helm release site/site (revision 2); rerun with --adopt to take it over from Helm"),
        "{refused}"
    );
    let untouched = live_deployment(&fake);
    assert_eq!(
        untouched["metadata"]["labels"]["app.kubernetes.io/managed-by"], "Helm",
        "{refused}"
    );

    let adopted = run(&lab, &fake, &["--adopt"]);
    adopted.expect_code(0);
    assert!(
        adopted.stdout.contains("adopted    Deployment/site/site"),
        "{adopted}"
    );
    assert!(
        adopted
            .stdout
            .contains("kubectl --context kind-homelab delete configmaps/site-legacy -n site"),
        "{adopted}"
    );
    let live = live_deployment(&fake);
    let labels = &live["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "homelab", "{live}");
    assert!(
        labels["applyset.kubernetes.io/part-of"].is_string(),
        "{live}"
    );
    let managers: Vec<(&str, &str)> = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap(),
                m["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(managers.contains(&("homelab", "Apply")), "{managers:?}");
    assert!(
        fake.has("", "configmaps", "site", "site-legacy"),
        "never pruned"
    );
    assert!(fake.has("", "secrets", "site", "sh.helm.release.v1.site.v2"));

    // Adopted objects are members: a re-apply is a no-op and the diff is clean.
    let again = run(&lab, &fake, &[]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("unchanged  Deployment/site/site"),
        "{again}"
    );
    let clean = homelab(
        &lab,
        &fake,
        &["diff", "-e", "dev", "-l", "site", "--exit-code"],
    );
    clean.expect_code(0);

    let usage = run(&lab, &fake, &["--forget-helm-release"]);
    usage.expect_code(2);
    let forget = run(&lab, &fake, &["--adopt", "--forget-helm-release"]);
    forget.expect_code(0);
    assert!(
        forget
            .stdout
            .contains("forgot Helm release Secret site/sh.helm.release.v1.site.v1"),
        "{forget}"
    );
    assert!(!fake.has("", "secrets", "site", "sh.helm.release.v1.site.v1"));
    assert!(!fake.has("", "secrets", "site", "sh.helm.release.v1.site.v2"));
    assert!(
        fake.has("", "configmaps", "site", "site-legacy"),
        "still never pruned"
    );
}

#[test]
fn values_that_differ_from_helms_conflict_by_manager() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    let mut helm_made = as_helm_made(&desired(&lab, &fake));
    for o in helm_made.iter_mut().filter(|o| o["kind"] == "Deployment") {
        o["spec"]["replicas"] = json!(3);
    }
    helm_install(&fake, &helm_made);

    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "-l", "site"]);
    diff.expect_code(1);
    assert!(
        diff.stdout.contains("    .spec.replicas owned by \"helm\""),
        "{diff}"
    );

    let run = run(&lab, &fake, &["--adopt"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("error: Deployment/site/site has 1 field(s) owned by other managers (.spec.replicas by \"helm\")"),
        "{run}"
    );
    assert_eq!(live_deployment(&fake)["spec"]["replicas"], 3, "left alone");
}
