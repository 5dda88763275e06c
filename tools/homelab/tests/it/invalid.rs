//! Every validation rule of `homelab check`, each broken once in a copy of the reference
//! lab, with the exact diagnostic it must produce (file, line, column, what was expected
//! and, where one is obvious, the fix).

use crate::support::TestLab;

const INV: &str = "hosts/inventory.nix";

/// One broken lab: `$lab` is a fresh copy of the reference lab to break; the test
/// asserts exit code 1 and snapshots stderr.
macro_rules! invalid {
    ($name:ident, |$lab:ident| $body:block) => {
        invalid!($name, [], |$lab| $body);
    };
    ($name:ident, [$(($k:expr, $v:expr)),*], |$lab:ident| $body:block) => {
        #[test]
        fn $name() {
            let $lab = TestLab::reference();
            $body
            let run = $lab.run_with(&["check"], &[$(($k, $v)),*]);
            run.expect_code(1);
            insta::assert_snapshot!(stringify!($name), run.stderr_normalized(), &run.command_normalized());
        }
    };
}

// Inventory: roles.
invalid!(no_control_plane, |lab| {
    lab.replace(INV, "\"control-plane\"\n", "");
});
invalid!(two_control_planes, |lab| {
    lab.replace(
        INV,
        "roles = [ \"worker\" ];",
        "roles = [ \"worker\" \"control-plane\" ];",
    );
});
invalid!(no_dns_host, |lab| {
    lab.replace(INV, "\"dns\"\n", "");
});
invalid!(two_ingress_hosts, |lab| {
    lab.replace(
        INV,
        "roles = [ \"worker\" ];",
        "roles = [ \"worker\" \"ingress\" ];",
    );
});
invalid!(entry_points_without_an_ingress_host, |lab| {
    lab.replace(INV, "\"ingress\"\n", "");
});
invalid!(unknown_role, |lab| {
    lab.replace(INV, "roles = [ \"worker\" ];", "roles = [ \"wroker\" ];");
});
invalid!(unknown_role_far_from_any, |lab| {
    lab.replace(INV, "roles = [ \"worker\" ];", "roles = [ \"gateway\" ];");
});
invalid!(dns_host_without_tailscale_address, |lab| {
    lab.replace(INV, "tailscaleAddress = \"100.101.10.11\";", "");
});
invalid!(storage_host_without_a_disk, |lab| {
    lab.replace(
        INV,
        "disks = [\n        {",
        "disks = builtins.filter (disk: false) [\n        {",
    );
});

// Inventory: addresses and networks.
invalid!(lan_address_outside_its_cidr, |lab| {
    lab.replace(
        INV,
        "lanAddress = \"192.168.10.21\";",
        "lanAddress = \"192.168.11.21\";",
    );
});
invalid!(tailscale_address_outside_its_cidr, |lab| {
    lab.replace(
        INV,
        "tailscaleAddress = \"100.101.10.21\";",
        "tailscaleAddress = \"100.200.10.21\";",
    );
});
invalid!(pod_and_service_cidrs_overlap, |lab| {
    lab.replace(
        INV,
        "serviceCidr = \"10.43.0.0/16\";",
        "serviceCidr = \"10.42.128.0/17\";",
    );
});
invalid!(pod_cidr_overlaps_the_lan, |lab| {
    lab.replace(
        INV,
        "podCidr = \"10.42.0.0/16\";",
        "podCidr = \"192.168.0.0/16\";",
    );
});
invalid!(cidr_that_does_not_parse, |lab| {
    lab.replace(
        INV,
        "podCidr = \"10.42.0.0/16\";",
        "podCidr = \"10.42.0.0/33\";",
    );
});
invalid!(cidr_with_host_bits, |lab| {
    lab.replace(
        INV,
        "podCidr = \"10.42.0.0/16\";",
        "podCidr = \"10.42.0.1/16\";",
    );
});
invalid!(address_that_does_not_parse, |lab| {
    lab.replace(
        INV,
        "lanAddress = \"192.168.10.21\";",
        "lanAddress = \"192.168.10.321\";",
    );
});
invalid!(two_hosts_share_an_address, |lab| {
    lab.replace(
        INV,
        "lanAddress = \"192.168.10.21\";",
        "lanAddress = \"192.168.10.22\";",
    );
});

// Inventory: names, labels and types.
invalid!(host_name_is_not_a_dns_label, |lab| {
    lab.replace(INV, "tokiwa = {", "Tokiwa_1 = {");
});
invalid!(label_key_is_invalid, |lab| {
    lab.replace(
        INV,
        "role = \"application\";",
        "\"-role\" = \"application\";",
    );
});
invalid!(label_value_is_invalid, |lab| {
    lab.replace(INV, "role = \"application\";", "role = \"web app\";");
});
invalid!(taint_effect_is_unknown, |lab| {
    lab.replace(
        INV,
        "effect = \"NoSchedule\";",
        "effect = \"NoScheduling\";",
    );
});
invalid!(system_is_unsupported, |lab| {
    lab.replace(
        INV,
        "system = \"aarch64-linux\";",
        "system = \"aarch64-darwin\";",
    );
});
invalid!(misspelt_inventory_attribute, |lab| {
    lab.replace(
        INV,
        "lanAddress = \"192.168.10.21\";",
        "lanAdress = \"192.168.10.21\";",
    );
});
invalid!(wrong_type_in_inventory, |lab| {
    lab.replace(INV, "apiPort = 6443;", "apiPort = \"6443\";");
});
invalid!(kubernetes_version_is_not_semver, |lab| {
    lab.replace(
        INV,
        "kubernetesVersion = \"1.34.1\";",
        "kubernetesVersion = \"1.34\";",
    );
});

// Inventory: Nix itself.
invalid!(malformed_nix, |lab| {
    lab.replace(INV, "apiPort = 6443;", "apiPort = 6443");
});
invalid!(nix_evaluation_error, |lab| {
    lab.replace(INV, "apiPort = 6443;", "apiPort = apiPortFromSomewhere;");
});
invalid!(
    nix_is_not_installed,
    [("HOMELAB_NIX_INSTANTIATE", "/nonexistent/nix-instantiate")],
    |lab| {}
);
invalid!(inventory_is_missing, |lab| {
    lab.remove(INV);
});
invalid!(nix_error_without_a_position, |lab| {
    lab.write(
        "hosts/inventory.nix",
        "builtins.fromJSON ''{\"domain\": }''",
    );
});

#[test]
fn inventory_json_is_malformed() {
    let lab = TestLab::reference();
    lab.write(
        "inventory.json",
        "{\n  \"domain\": \"example.org\",\n  \"hosts\": {,}\n}\n",
    );
    let run = lab.run(&["check", "--inventory", "inventory.json"]);
    run.expect_code(1);
    insta::assert_snapshot!(
        "inventory_json_is_malformed",
        run.stderr_normalized(),
        &run.command_normalized()
    );
}

#[test]
fn inventory_json_names_the_field_it_rejects() {
    let lab = TestLab::reference();
    let json = lab
        .evaluated_inventory()
        .replace("\"apiPort\":6443", "\"apiPort\":\"6443\"");
    lab.write("inventory.json", &json);
    let run = lab.run(&["check", "--inventory", "inventory.json"]);
    run.expect_code(1);
    insta::assert_snapshot!(
        "inventory_json_names_the_field",
        run.stderr_normalized(),
        &run.command_normalized()
    );
}

// Releases: the file itself.
invalid!(malformed_toml, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "namespace = \"monitoring\"",
        "namespace = \"monitoring",
    );
});
invalid!(misspelt_release_key, |lab| {
    lab.replace("releases/loki/release.toml", "namespace =", "namspace =");
});
invalid!(misspelt_chart_key, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "version = \"6.38.0\"",
        "verison = \"6.38.0\"",
    );
});
invalid!(wrong_type_in_release, |lab| {
    lab.replace(
        "releases/vector/release.toml",
        "needs = [\"loki\"]",
        "needs = \"loki\"",
    );
});
invalid!(folder_without_release_toml, |lab| {
    lab.write("releases/jellyfin/values.yaml", "{}\n");
});
invalid!(release_name_does_not_match_its_folder, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "name = \"loki\"",
        "name = \"loki-stack\"",
    );
});

// Releases: names and dependencies.
invalid!(release_name_is_not_a_dns_label, |lab| {
    std::fs::rename(
        lab.path().join("releases/minio"),
        lab.path().join("releases/MinIO"),
    )
    .unwrap();
    lab.replace(
        "releases/MinIO/release.toml",
        "name = \"minio\"",
        "name = \"MinIO\"",
    );
    lab.replace(
        "releases/velero/release.toml",
        "needs = [\"minio\"]",
        "needs = [\"MinIO\"]",
    );
});
invalid!(namespace_is_not_a_dns_label, |lab| {
    lab.replace(
        "releases/minio/release.toml",
        "namespace = \"minio\"",
        "namespace = \"backups.minio\"",
    );
});
invalid!(needs_an_unknown_release, |lab| {
    lab.replace(
        "releases/vector/release.toml",
        "needs = [\"loki\"]",
        "needs = [\"lokki\"]",
    );
});
invalid!(needs_itself, |lab| {
    lab.replace(
        "releases/vector/release.toml",
        "needs = [\"loki\"]",
        "needs = [\"vector\"]",
    );
});
invalid!(needs_form_a_cycle, |lab| {
    lab.replace(
        "releases/rook-ceph/release.toml",
        "environments = [\"prod\"]",
        "needs = [\"traefik\"]\nenvironments = [\"prod\"]",
    );
});

// Releases: entry points.
invalid!(node_port_outside_the_range, |lab| {
    lab.replace(
        "releases/traefik/release.toml",
        "node_port = 30080",
        "node_port = 8080",
    );
});
invalid!(node_port_used_twice, |lab| {
    lab.replace(
        "releases/minio/release.toml",
        "\n[[secrets]]",
        "\n[entrypoints.s3]\nnode_port = 30443\n\n[[secrets]]",
    );
});
invalid!(proxy_port_used_twice, |lab| {
    lab.replace(
        "releases/traefik/release.toml",
        "listen = 443",
        "listen = 80",
    );
});

// Releases: files and charts.
invalid!(values_file_is_missing, |lab| {
    lab.remove("releases/loki/values.yaml");
});
invalid!(manifest_is_missing, |lab| {
    lab.remove("releases/minio/manifests/service.yaml.hbs");
});
invalid!(file_outside_the_release_folder, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "values = [\"values.yaml\"]",
        "values = [\"../grafana/values.yaml.hbs\"]",
    );
});
invalid!(chart_version_is_not_semver, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "version = \"6.38.0\"",
        "version = \"6.38\"",
    );
});
invalid!(chart_version_is_a_range, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "version = \"6.38.0\"",
        "version = \"^6.38.0\"",
    );
});
invalid!(chart_without_a_version, |lab| {
    lab.replace("releases/loki/release.toml", "version = \"6.38.0\"", "");
});
invalid!(chart_with_both_path_and_repository, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "version = \"6.38.0\"",
        "version = \"6.38.0\"\npath = \"chart\"",
    );
});
invalid!(local_chart_without_chart_yaml, |lab| {
    lab.replace("releases/loki/release.toml", "repository = \"https://grafana.github.io/helm-charts\"\nname = \"loki\"\nversion = \"6.38.0\"", "path = \"chart\"");
});
invalid!(oci_chart_repository_with_uppercase_path, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "https://grafana.github.io/helm-charts",
        "oci://ghcr.io/Grafana/helm-charts",
    );
});
invalid!(chart_repository_is_not_a_url, |lab| {
    lab.replace(
        "releases/loki/release.toml",
        "https://grafana.github.io/helm-charts",
        "grafana",
    );
});
invalid!(release_deploys_nothing, |lab| {
    lab.write(
        "releases/empty/release.toml",
        "name = \"empty\"\nnamespace = \"empty\"\n",
    );
});

// Releases: environments and secrets.
invalid!(overlay_for_an_undefined_environment, |lab| {
    lab.replace(
        "releases/traefik/release.toml",
        "[overlays.prod]",
        "[overlays.production]",
    );
});
invalid!(restricted_to_an_undefined_environment, |lab| {
    lab.replace(
        "releases/rook-ceph/release.toml",
        "environments = [\"prod\"]",
        "environments = [\"staging\"]",
    );
});
invalid!(secret_key_is_invalid, |lab| {
    lab.replace(
        "releases/vaultwarden/release.toml",
        "ADMIN_TOKEN =",
        "\"ADMIN TOKEN\" =",
    );
});
invalid!(secret_path_is_invalid, |lab| {
    lab.replace(
        "releases/vaultwarden/release.toml",
        "\"vaultwarden.admin_token\"",
        "\"vaultwarden..admin_token\"",
    );
});
invalid!(secret_path_not_in_the_secrets_file, |lab| {
    lab.replace(
        "releases/vaultwarden/release.toml",
        "\"vaultwarden.admin_token\"",
        "\"vaultwarden.admin_tokn\"",
    );
});
invalid!(secret_path_through_a_value, |lab| {
    lab.replace(
        "releases/vaultwarden/release.toml",
        "\"vaultwarden.admin_token\"",
        "\"vaultwarden.admin_token.value\"",
    );
});
invalid!(secrets_file_is_not_sops, |lab| {
    lab.write(
        "secrets/dev.yaml",
        "vaultwarden:\n    admin_token: plaintext-oops\n",
    );
});
invalid!(secret_declared_twice, |lab| {
    lab.replace(
        "releases/grafana/release.toml",
        "[[secrets]]",
        "[[secrets]]\nname = \"grafana-admin\"\ndata = { x = \"grafana.x\" }\n\n[[secrets]]",
    );
});

// Environments.
invalid!(environments_file_is_missing, |lab| {
    lab.remove("releases/environments.toml");
});
invalid!(misspelt_environment_key, |lab| {
    lab.replace(
        "releases/environments.toml",
        "context = \"kind-homelab\"",
        "contxt = \"kind-homelab\"",
    );
});
invalid!(no_environments, |lab| {
    lab.write("releases/environments.toml", "environments = {}\n");
});
invalid!(secrets_file_is_missing, |lab| {
    lab.remove("secrets/prod.yaml");
});

#[test]
fn empty_repository() {
    let lab = TestLab::empty();
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!(
        "empty_repository",
        run.stderr_normalized(),
        &run.command_normalized()
    );
}

#[test]
fn problems_are_reported_together_and_as_json() {
    let lab = TestLab::reference();
    lab.replace(
        "releases/vector/release.toml",
        "needs = [\"loki\"]",
        "needs = [\"lokki\"]",
    );
    lab.replace(
        INV,
        "lanAddress = \"192.168.10.21\";",
        "lanAddress = \"192.168.11.21\";",
    );
    let run = lab.run(&["check", "--output", "json"]);
    run.expect_code(1);
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    insta::assert_json_snapshot!("problems_as_json", json);
}
