//! What deleting costs: `destroy` of N members across k kinds sends one DELETE per
//! member, and its waits list each kind once per poll round — never a GET per object
//! or a listing of every kind per object. Measured as the growth from 3×10 to 3×40
//! extra objects: deletes grow by the objects added, lists and gets not at all.

use fake_apiserver::RequestCounts;

use super::{apply_ok, homelab};
use crate::support::{chart_lab, FakeCluster};

/// `per_kind` ConfigMaps, ServiceAccounts and Roles in release `site`.
fn manifest(per_kind: usize) -> String {
    let mut out = String::new();
    for i in 0..per_kind {
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-{i}\ndata:\n  i: \"{i}\"\n\
             ---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: extra-{i}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: extra-{i}\nrules: []\n"
        ));
    }
    out
}

/// Requests of `destroy -e dev --yes --allow-data-loss` after applying the lab with
/// `per_kind` extra objects of each of three kinds.
fn destroy_requests(per_kind: usize) -> RequestCounts {
    let lab = chart_lab();
    lab.write(
        "releases/site/manifests/extra.yaml.hbs",
        &manifest(per_kind),
    );
    lab.replace(
        "releases/site/release.toml",
        "\"manifests/deployment.yaml.hbs\"]",
        "\"manifests/deployment.yaml.hbs\", \"manifests/extra.yaml.hbs\"]",
    );
    let fake = FakeCluster::start(lab.path(), "kind-homelab");
    apply_ok(&lab, &fake, &[]);
    fake.server.reset_requests();
    let run = homelab(
        &lab,
        &fake,
        &["destroy", "-e", "dev", "--yes", "--allow-data-loss"],
    );
    run.expect_code(0);
    assert!(!fake.has("", "configmaps", "site", "extra-0"), "{run}");
    assert!(!fake.has("", "namespaces", "", "site"), "{run}");
    fake.server.requests()
}

#[test]
fn deleting_n_objects_costs_n_deletes_plus_lists_per_kind() {
    let small = destroy_requests(10);
    let large = destroy_requests(40);
    let grew = |verb: &str| {
        let get = |c: &RequestCounts| c.by_verb.get(verb).copied().unwrap_or(0) as i64;
        get(&large) - get(&small)
    };
    let context = format!("10 per kind: {small:?}\n40 per kind: {large:?}");
    println!("{context}");
    assert_eq!(grew("delete"), 90, "one DELETE per added object\n{context}");
    assert_eq!(grew("get"), 0, "no GET per object\n{context}");
    // Poll rounds depend on the machine's speed, not on N; allow a few more rounds.
    assert!(grew("list") <= 9, "lists do not grow with N\n{context}");
}
