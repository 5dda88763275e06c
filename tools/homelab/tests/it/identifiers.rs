//! Issue 10's untrusted-repository cases for identifiers: each hostile value, put into
//! a copy of the reference lab, is refused by `homelab check` with its location and
//! exact message; and the ProxyCommand target never reaches `ssh`, even through
//! `deploy --plan`.

use crate::support::{four_host_lab, FakeHosts, Input, TestLab};

const INV: &str = "hosts/inventory.nix";
const TRAEFIK: &str = "releases/traefik/release.toml";

/// The reference lab with `from` replaced by `to` in `file` must fail `check` with the
/// snapshotted diagnostic.
fn refused(name: &str, file: &str, from: &str, to: &str) {
    let lab = TestLab::reference();
    assert!(lab.read(file).contains(from), "{file} has no {from:?}");
    lab.replace(file, from, to);
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!(name, run.stderr_normalized(), &run.command_normalized());
}

#[test]
fn ssh_target_that_is_an_option() {
    refused(
        "ssh_target_that_is_an_option",
        INV,
        "ssh = \"root@tokiwa\";",
        "ssh = \"-oProxyCommand=touch /tmp/pwned\";",
    );
}

#[test]
fn entry_point_name_with_a_newline() {
    refused(
        "entry_point_name_with_a_newline",
        TRAEFIK,
        "[entrypoints.web]",
        r#"[entrypoints."web\nserver { listen 2222; proxy_pass 10.0.0.1:22; }\n#"]"#,
    );
}

#[test]
fn ssh_key_with_a_newline() {
    refused(
        "ssh_key_with_a_newline",
        INV,
        "ayumi@laptop\"",
        "ayumi@laptop\\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAttackerKey mallory\"",
    );
}

#[test]
fn disk_path_that_leaves_dev() {
    refused(
        "disk_path_that_leaves_dev",
        INV,
        "\"/dev/disk/by-id/ata-reference-lab-1tb-ssd\"",
        "\"/dev/../etc/passwd # x\"",
    );
}

#[test]
fn cluster_name_yaml_reads_as_a_boolean() {
    refused(
        "cluster_name_yaml_reads_as_a_boolean",
        INV,
        "name = \"homelab\";",
        "name = \"on\";",
    );
}

#[test]
fn dns_domain_yaml_reads_as_a_number() {
    refused(
        "dns_domain_yaml_reads_as_a_number",
        INV,
        "dnsDomain = \"cluster.local\";",
        "dnsDomain = \"0777\";",
    );
}

#[test]
fn namespace_that_is_a_helm_option() {
    refused(
        "namespace_that_is_a_helm_option",
        TRAEFIK,
        "namespace = \"traefik\"",
        "namespace = \"--kube-version=0.0.1\"",
    );
}

/// The issue's reproduction: a host whose target is an `ssh` option, then
/// `deploy --plan --hosts-only`. Nothing may run, and the file it would create stays
/// absent.
#[test]
fn proxy_command_never_reaches_ssh() {
    let lab = four_host_lab();
    lab.write(
        "releases/app/release.toml",
        "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/app.yaml.hbs\"]\n",
    )
    .write(
        "releases/app/manifests/app.yaml.hbs",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    );
    let pwned = lab.path().join("pwned");
    let target = format!("-oProxyCommand=touch {}", pwned.display());
    lab.replace("inventory.json", "root@10.30.0.11", &target);
    let fakes = FakeHosts::new();
    for args in [&["--hosts-only", "--plan"][..], &["--hosts-only"][..]] {
        let run = fakes.deploy(lab.path(), args, &[], Input::Piped(""));
        assert_ne!(
            run.code,
            Some(0),
            "deploy {args:?} accepted the target:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("must not start with '-'"),
            "deploy {args:?} did not say why:\n{}",
            run.stderr
        );
    }
    assert!(
        fakes.calls().is_empty(),
        "programs ran: {:?}",
        fakes.calls()
    );
    assert!(!pwned.exists(), "the ProxyCommand ran");
}

/// The flake's rules (`nix/identifiers.nix`) judge the shared vectors as the Rust rules
/// do (`names::vectors`), and pass the reference inventory.
#[test]
fn nix_rules_agree_with_the_vectors() {
    let script = crate::support::repo_root().join("checks/identifiers/run.sh");
    let out = std::process::Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed (it needs nix-instantiate: apt-get install nix-bin):\n{}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
