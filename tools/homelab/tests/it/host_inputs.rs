//! The host input digest: homelab's (Rust), Nix's (`nix/host-inputs.nix` evaluated by
//! the real `nix-instantiate`) and the build's (`modules/host-inputs/record.sh` run by
//! bash) agree on the reference lab; changing any file in the set changes it and a file
//! outside does not; and `deploy` and `deploy --plan` skip exactly the hosts whose
//! system records the repository's digest, with `--rebuild` evaluating them anyway.

use std::path::Path;
use std::process::Command;

use homelab::lab::host_inputs::{self, HostInputs};

use crate::support::{four_host_lab, repo_root, FakeHosts, Input, Run, TestLab};

fn inputs_of(root: &Path) -> HostInputs {
    host_inputs::load(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .unwrap_or_else(|| panic!("{} has no nix/host-inputs.json", root.display()))
}

/// `nix-instantiate --eval` of the repository's `nix/host-inputs.nix` on `root`.
fn nix_digest(root: &Path, state: &Path) -> String {
    let expr = format!(
        "let h = import {}; in h.digest ./. (h.entries ./.)",
        repo_root().join("nix/host-inputs.nix").display()
    );
    let out = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &expr])
        .current_dir(root)
        .env("NIX_STATE_DIR", state)
        .output()
        .expect("running nix-instantiate (apt-get install nix-bin)");
    assert!(
        out.status.success(),
        "nix-instantiate failed in {}:\n{}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON string")
}

/// The reference lab's host input files, copied into a fresh folder.
fn copy_of_the_set() -> (tempfile::TempDir, HostInputs) {
    let repo = repo_root();
    let inputs = inputs_of(&repo);
    let dir = tempfile::tempdir().expect("tempdir");
    for file in &inputs.files {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(repo.join(file), &to).expect("copy");
    }
    (dir, inputs)
}

#[test]
fn rust_nix_and_the_build_agree_on_the_reference_lab() {
    let (copy, inputs) = copy_of_the_set();
    let state = tempfile::tempdir().expect("nix state");
    assert!(inputs.files.len() > 20, "{:?}", inputs.files);
    assert_eq!(
        inputs_of(copy.path()).digest,
        inputs.digest,
        "a copy of the set alone"
    );
    assert_eq!(
        nix_digest(copy.path(), state.path()),
        inputs.digest.as_str(),
        "nix/host-inputs.nix and homelab disagree"
    );

    // What the system build runs (modules/host-inputs.nix): it writes the listing and
    // accepts only the digest evaluation computed.
    let out_dir = tempfile::tempdir().expect("out");
    let record = |digest: &str| {
        let out = out_dir.path().join("inputs");
        let run = Command::new("bash")
            .arg(repo_root().join("modules/host-inputs/record.sh"))
            .arg(copy.path())
            .arg(digest)
            .arg(&out)
            .args(&inputs.entries)
            .output()
            .expect("running bash");
        (run, out)
    };
    let (run, out) = record(inputs.digest.as_str());
    assert!(
        run.status.success(),
        "record.sh refused the right digest:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let listing = std::fs::read_to_string(&out).expect("the listing");
    let listed: Vec<&str> = listing.lines().map(|l| &l[66..]).collect();
    assert_eq!(listed, inputs.files, "record.sh lists other files");
    let wrong = format!("v1-{}", "0".repeat(64));
    let (run, _) = record(&wrong);
    assert!(!run.status.success(), "record.sh accepted a wrong digest");
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("in evaluation"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn the_build_reads_odd_names_and_missing_paths_as_homelab_and_nix_do() {
    let lab = tempfile::tempdir().expect("lab");
    for (path, text) in [
        (
            "nix/host-inputs.json",
            "[\"-x\", \"a b\", \"missing\", \"nix/host-inputs.json\"]",
        ),
        ("-x/-f.nix", "{ }\n"),
        ("a b/c d.nix", "{ }\n"),
    ] {
        let to = lab.path().join(path);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::write(to, text).expect("write");
    }
    let inputs = inputs_of(lab.path());
    assert_eq!(
        inputs.files,
        ["-x/-f.nix", "a b/c d.nix", "nix/host-inputs.json"]
    );
    let state = tempfile::tempdir().expect("nix state");
    assert_eq!(nix_digest(lab.path(), state.path()), inputs.digest.as_str());
    let out = tempfile::tempdir().expect("out");
    let run = Command::new("bash")
        .arg(repo_root().join("modules/host-inputs/record.sh"))
        .arg(lab.path())
        .arg(inputs.digest.as_str())
        .arg(out.path().join("inputs"))
        .args(&inputs.entries)
        .output()
        .expect("running bash");
    assert!(
        run.status.success(),
        "record.sh disagrees:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn every_file_in_the_set_changes_the_digest_and_nothing_outside_does() {
    let (copy, inputs) = copy_of_the_set();
    let before = inputs.digest.clone();
    for file in &inputs.files {
        let path = copy.path().join(file);
        let text = std::fs::read(&path).expect("read");
        let mut edited = text.clone();
        edited.push(b'\n');
        std::fs::write(&path, &edited).expect("write");
        assert_ne!(
            inputs_of(copy.path()).digest,
            before,
            "editing {file} left the digest as it was"
        );
        std::fs::write(&path, &text).expect("restore");
    }
    for outside in [
        "README.md",
        "releases/site/release.toml",
        "docs/x.md",
        "hosts.nix",
    ] {
        let path = copy.path().join(outside);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "outside the set\n").expect("write");
    }
    assert_eq!(inputs_of(copy.path()).digest, before);
    // A new file inside a listed folder is an input too, for Nix as for homelab.
    std::fs::write(copy.path().join("modules/new.nix"), "{ }\n").expect("write");
    let added = inputs_of(copy.path()).digest;
    assert_ne!(added, before);
    let state = tempfile::tempdir().expect("nix state");
    assert_eq!(nix_digest(copy.path(), state.path()), added.as_str());
}

/// The four-host lab with host inputs: a module folder, a host folder and the list.
fn lab() -> TestLab {
    let lab = four_host_lab();
    lab.write(
        "nix/host-inputs.json",
        "[\"hosts\", \"modules\", \"nix/host-inputs.json\"]\n",
    )
    .write("hosts/cp/default.nix", "{ }\n")
    .write("modules/default.nix", "{ imports = [ ]; }\n")
    .write("README.md", "a lab\n");
    lab
}

fn deploy(hosts: &FakeHosts, lab: &TestLab, args: &[&str]) -> Run {
    let mut all = vec!["--hosts-only"];
    all.extend_from_slice(args);
    hosts.deploy(lab.path(), &all, &[], Input::Piped(""))
}

/// The hosts `nix build` was run for, sorted (`--plan` builds them in parallel).
fn built(hosts: &FakeHosts) -> Vec<String> {
    let mut names: Vec<String> = hosts
        .builds()
        .iter()
        .filter_map(|c| {
            Some(
                c.split("#nixosConfigurations.")
                    .nth(1)?
                    .split('.')
                    .next()?
                    .to_string(),
            )
        })
        .collect();
    names.sort();
    names
}

fn ssh_calls(hosts: &FakeHosts) -> usize {
    hosts
        .calls()
        .iter()
        .filter(|c| c.starts_with("ssh "))
        .count()
}

#[test]
fn deploy_skips_hosts_whose_inputs_did_not_change() {
    let lab = lab();
    let hosts = FakeHosts::new();
    let first = deploy(&hosts, &lab, &[]);
    first.expect_code(0);
    assert_eq!(built(&hosts), ["cp", "w1", "w2", "w3"], "{first}");
    assert_eq!(hosts.activated(), ["cp", "w1", "w2", "w3"], "{first}");

    // Nothing changed: one SSH round trip per host, nothing built or activated.
    hosts.forget_calls();
    let again = deploy(&hosts, &lab, &[]);
    again.expect_code(0);
    assert_eq!(built(&hosts), Vec::<String>::new(), "{again}");
    assert_eq!(ssh_calls(&hosts), 4, "{:?}", hosts.calls());
    assert!(
        again.stdout.contains(
            "4 hosts already current (host inputs unchanged, not evaluated): cp, w1, w2, w3"
        ),
        "{again}"
    );
    assert!(
        again
            .stderr
            .contains("[w2] runs what the repository builds"),
        "{again}"
    );

    // A file outside the set (a doc, a release) changes nothing.
    lab.write("README.md", "a lab, edited\n")
        .write(
            "releases/app/release.toml",
            "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"app.yaml.hbs\"]\n",
        )
        .write(
            "releases/app/app.yaml.hbs",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
        );
    hosts.forget_calls();
    let outside = deploy(&hosts, &lab, &["--plan"]);
    outside.expect_code(0);
    assert_eq!(built(&hosts), Vec::<String>::new(), "{outside}");
    assert_eq!(ssh_calls(&hosts), 4, "{:?}", hosts.calls());
    assert!(
        outside.stdout.contains("cp  unchanged (host inputs v1-"),
        "{outside}"
    );
    assert!(outside.stdout.contains("Nothing to deploy"), "{outside}");

    // `--rebuild` evaluates every host; each still runs the built system.
    hosts.forget_calls();
    let rebuild = deploy(&hosts, &lab, &["--plan", "--rebuild"]);
    rebuild.expect_code(0);
    assert_eq!(built(&hosts), ["cp", "w1", "w2", "w3"], "{rebuild}");
    assert!(rebuild.stdout.contains("Nothing to deploy"), "{rebuild}");

    // A dry run says the probe decides.
    let dry = deploy(&hosts, &lab, &["--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout
            .contains("# a host whose system records host inputs v1-"),
        "{dry}"
    );

    // A file in the set: every host is evaluated (and, its system changed, switched).
    lab.write(
        "modules/default.nix",
        "{ imports = [ ./tailscale.nix ]; }\n",
    );
    hosts.forget_calls();
    let inside = deploy(&hosts, &lab, &["--plan"]);
    inside.expect_code(0);
    assert_eq!(built(&hosts), ["cp", "w1", "w2", "w3"], "{inside}");
}

#[test]
fn a_bad_list_stops_the_deploy_before_any_host_is_touched() {
    let lab = lab();
    lab.write(
        "nix/host-inputs.json",
        "[\n  \"hosts\",\n  \"../../etc\"\n]\n",
    );
    let hosts = FakeHosts::new();
    let run = deploy(&hosts, &lab, &[]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("nix/host-inputs.json:3:3: `../../etc` has an empty, `.` or `..` part"),
        "{run}"
    );
    assert!(hosts.calls().is_empty(), "{:?}", hosts.calls());
    // `--rebuild` does not read the list at all.
    deploy(&hosts, &lab, &["--rebuild"]).expect_code(0);
}

#[test]
fn a_no_op_deploy_of_the_reference_lab_touches_nothing_and_status_shows_every_host_current() {
    let lab = TestLab::full_reference();
    let inventory = lab.evaluated_inventory();
    lab.write("inventory.json", &inventory);
    let doc: serde_json::Value = serde_json::from_str(&inventory).expect("JSON");
    let targets: Vec<(String, String)> = doc["hosts"]
        .as_object()
        .expect("hosts")
        .iter()
        .map(|(name, h)| (name.clone(), h["ssh"].as_str().expect("ssh").to_string()))
        .collect();
    assert_eq!(targets.len(), 3);

    let hosts = FakeHosts::new();
    // Each host runs the system the fake `nix` builds from this lab, digest included.
    deploy(&hosts, &lab, &["--plan", "--rebuild"]).expect_code(0);
    for (name, target) in &targets {
        hosts.up_to_date(target, name);
    }
    let kubeconfig = lab.path().join("no-kubeconfig");
    let env = [("KUBECONFIG", kubeconfig.to_str().expect("UTF-8"))];
    hosts.forget_calls();

    let run = hosts.deploy(lab.path(), &["--hosts-only"], &env, Input::Piped(""));
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "3 hosts already current (host inputs unchanged, not evaluated): yomogi, hanaakari, tokiwa\n",
        "{run}"
    );
    assert!(
        hosts.events().is_empty(),
        "something was activated, rebooted or rolled back: {:?}",
        hosts.events()
    );
    assert_eq!(built(&hosts), Vec::<String>::new());
    assert_eq!(ssh_calls(&hosts), 3, "{:?}", hosts.calls());

    let status = hosts.homelab(
        lab.path(),
        &["-o", "json", "status"],
        &env,
        Input::Piped(""),
    );
    status.expect_code(0);
    let doc: serde_json::Value =
        serde_json::from_str(&status.stdout).unwrap_or_else(|e| panic!("{e}\n{status}"));
    let digest = inputs_of(lab.path()).digest;
    assert_eq!(doc["inputs"], digest.as_str(), "{status}");
    for host in doc["hosts"].as_array().expect("hosts") {
        assert_eq!(
            (
                host["reachable"].as_bool(),
                host["generation"].as_str(),
                host["inputs"].as_str()
            ),
            (Some(true), Some("current"), Some(digest.as_str())),
            "{status}"
        );
    }
}
