//! What prune and destroy keep whatever the flags: objects with Helm's
//! `helm.sh/resource-policy: keep`, and a namespace another release of the environment
//! still uses (a `-l` destroy of the release that renders the Namespace object).

use super::{apply_lab, apply_ok, homelab};
use crate::support::FakeCluster;

const KEEP: &str =
    "metadata:\n  name: site-config\n  annotations:\n    helm.sh/resource-policy: keep\n";

#[test]
fn keep_policy_objects_survive_prune_and_destroy_with_allow_data_loss() {
    let lab = apply_lab();
    lab.replace(
        "releases/site/manifests/configmap.yaml.hbs",
        "metadata:\n  name: site-config\n",
        KEEP,
    );
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);

    // Dropped from the release: apply keeps it, as `helm upgrade` would.
    lab.replace(
        "releases/site/release.toml",
        "manifests = [\"manifests/configmap.yaml.hbs\", \"manifests/deployment.yaml.hbs\"]",
        "manifests = [\"manifests/deployment.yaml.hbs\"]",
    );
    let pruned = apply_ok(&lab, &fake, &["--allow-data-loss"]);
    assert!(
        fake.has("", "configmaps", "site", "site-config"),
        "{pruned}"
    );

    let dry = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "--dry-run", "--allow-data-loss"],
    );
    dry.expect_code(0);
    assert!(
        dry.stdout.contains(
            "keep     ConfigMap/site/site-config: it carries helm.sh/resource-policy: keep"
        ),
        "{dry}"
    );
    assert!(
        dry.stdout.contains(
            "keep     Namespace/site: it holds kept object(s) (ConfigMap/site/site-config)"
        ),
        "{dry}"
    );
    let done = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "--yes", "--allow-data-loss"],
    );
    done.expect_code(0);
    assert!(fake.has("", "configmaps", "site", "site-config"), "{done}");
    assert!(fake.has("", "namespaces", "", "site"), "{done}");
    assert!(!fake.has("apps", "deployments", "site", "site"), "{done}");
    assert!(!fake.has("", "namespaces", "", "minio"), "{done}");
}

#[test]
fn a_shared_namespace_survives_a_selected_destroy_of_the_release_that_renders_it() {
    let lab = apply_lab();
    lab.replace(
        "releases/site/release.toml",
        "namespace = \"site\"",
        "namespace = \"web\"",
    );
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    let namespace = fake
        .server
        .get("", "namespaces", "", "web")
        .expect("namespace web applied");
    assert_eq!(
        namespace["metadata"]["labels"]["homelab.dev/release"], "webapp",
        "the first release in apply order renders the Namespace object"
    );

    let run = homelab(
        &lab,
        &fake,
        &[
            "destroy",
            "-e",
            "dev",
            "-l",
            "name=webapp",
            "--yes",
            "--allow-data-loss",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("keep     Namespace/web: release(s) site of the environment still use it"),
        "{run}"
    );
    assert!(fake.has("", "namespaces", "", "web"), "{run}");
    assert!(fake.has("apps", "deployments", "web", "site"), "{run}");
    assert!(
        !fake.has("apps", "deployments", "web", "webapp-webapp"),
        "{run}"
    );

    // Once no release uses it, the namespace goes with the last one.
    let all = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "--yes", "--allow-data-loss"],
    );
    all.expect_code(0);
    assert!(!fake.has("", "namespaces", "", "web"), "{all}");
}
