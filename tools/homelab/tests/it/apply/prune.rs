//! Pruning: members no longer desired are deleted after everything applied; foreign
//! objects never; PVCs and namespaces holding them only with `--allow-data-loss`; the
//! ApplySet parent records the set as kubectl would.

use http::Method;
use serde_json::json;

use super::{apply_lab, apply_ok, homelab};
use crate::support::FakeCluster;

#[test]
fn a_removed_object_is_pruned_and_foreign_objects_stay() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    // Another manager's ConfigMap without our labels, and one that claims our
    // ApplySet but lacks our managed-by label.
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "theirs", "namespace": "vaultwarden"}, "data": {"a": "b"}});
    assert_eq!(fake.server.apply_as("other", &foreign, false).0, 201);
    let id = fake
        .server
        .get("", "secrets", "kube-system", "homelab-dev")
        .unwrap()["metadata"]["labels"]["applyset.kubernetes.io/id"]
        .clone();
    let impostor = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "impostor", "namespace": "vaultwarden",
            "labels": {"applyset.kubernetes.io/part-of": id}}, "data": {"a": "b"}});
    assert_eq!(fake.server.apply_as("other", &impostor, false).0, 201);

    lab.replace(
        "releases/vaultwarden/release.toml",
        "  \"manifests/ingress.yaml.hbs\",\n",
        "",
    );
    let diff = homelab(&lab, &fake, &["diff", "-e", "dev", "--exit-code"]);
    diff.expect_code(2);
    assert!(
        diff.stdout
            .contains("prune Ingress/vaultwarden/vaultwarden"),
        "{diff}"
    );
    assert!(
        diff.stdout
            .ends_with("0 to create, 0 to change, 26 unchanged, 1 to prune\n"),
        "{diff}"
    );

    let dry = apply_ok(&lab, &fake, &["--dry-run"]);
    assert!(
        dry.stdout
            .contains("pruned (dry run) Ingress/vaultwarden/vaultwarden"),
        "{dry}"
    );
    assert!(fake.has(
        "networking.k8s.io",
        "ingresses",
        "vaultwarden",
        "vaultwarden"
    ));

    let run = apply_ok(&lab, &fake, &[]);
    assert!(
        run.stdout
            .contains("pruned     Ingress/vaultwarden/vaultwarden"),
        "{run}"
    );
    assert!(!fake.has(
        "networking.k8s.io",
        "ingresses",
        "vaultwarden",
        "vaultwarden"
    ));
    assert!(fake.has("", "configmaps", "vaultwarden", "theirs"));
    assert!(fake.has("", "configmaps", "vaultwarden", "impostor"));
}

#[test]
fn pvcs_and_their_namespaces_are_kept_without_allow_data_loss() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    // Drop the minio release (nextcloud needed it; it needs webapp now).
    lab.remove("releases/minio");
    lab.replace(
        "releases/nextcloud/release.toml",
        "needs = [\"minio\"]",
        "needs = [\"webapp\"]",
    );
    let run = apply_ok(&lab, &fake, &[]);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("pruned") || l.contains("kept"))
        .map(|l| l.split(" in ").next().unwrap_or(l))
        .collect();
    insta::assert_debug_snapshot!(lines);
    assert!(fake.has("", "persistentvolumeclaims", "minio", "minio-data"));
    assert!(fake.has("", "namespaces", "", "minio"));
    assert!(!fake.has("apps", "deployments", "minio", "minio"));
    let parent = fake
        .server
        .get("", "secrets", "kube-system", "homelab-dev")
        .unwrap();
    let kinds = parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"]
        .as_str()
        .unwrap();
    assert!(
        kinds.contains("PersistentVolumeClaim"),
        "kept members stay in the set: {kinds}"
    );

    let run = apply_ok(&lab, &fake, &["--allow-data-loss"]);
    assert!(
        run.stdout
            .contains("pruned     PersistentVolumeClaim/minio/minio-data"),
        "{run}"
    );
    assert!(run.stdout.contains("pruned     Namespace/minio"), "{run}");
    assert!(!fake.has("", "persistentvolumeclaims", "minio", "minio-data"));
}

#[test]
fn the_parent_secret_describes_the_set_as_kubectl_does() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let parent = fake
        .server
        .get("", "secrets", "kube-system", "homelab-dev")
        .unwrap();
    let a = &parent["metadata"]["annotations"];
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        a["applyset.kubernetes.io/tooling"],
        format!("homelab/{version}")
    );
    insta::assert_snapshot!(
        "parent_annotations",
        format!(
            "id: {}\ncontains-group-kinds: {}\nadditional-namespaces: {}\n",
            parent["metadata"]["labels"]["applyset.kubernetes.io/id"],
            a["applyset.kubernetes.io/contains-group-kinds"],
            a["applyset.kubernetes.io/additional-namespaces"]
        )
    );
    // Every member carries the parent's id.
    let (_, cm) = fake.server.call(
        Method::GET,
        "/api/v1/namespaces/site/configmaps/site-config",
        "",
        b"",
    );
    assert_eq!(
        cm["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        parent["metadata"]["labels"]["applyset.kubernetes.io/id"]
    );
}

#[test]
fn a_namespace_holding_foreign_objects_is_never_pruned() {
    let lab = apply_lab();
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "notes", "namespace": "minio"}, "data": {"a": "b"}});
    assert_eq!(fake.server.apply_as("someone-else", &foreign, false).0, 201);
    lab.remove("releases/minio");
    lab.replace(
        "releases/nextcloud/release.toml",
        "needs = [\"minio\"]",
        "needs = [\"webapp\"]",
    );
    // Even with the data-loss guard lifted, the namespace stays for the foreign object.
    let run = apply_ok(&lab, &fake, &["--allow-data-loss"]);
    assert!(
        run.stdout.contains("Namespace/minio")
            && run
                .stdout
                .contains("homelab does not own (ConfigMap/notes)"),
        "{run}"
    );
    assert!(fake.has("", "namespaces", "", "minio"));
    assert!(fake.has("", "configmaps", "minio", "notes"));
    assert!(!fake.has("", "persistentvolumeclaims", "minio", "minio-data"));
    assert!(!fake.has("apps", "deployments", "minio", "minio"));
}
