//! `homelab deploy --hosts-only`, driven against fake `nixos-rebuild` and `ssh`
//! programs on PATH that record every call: order, parallelism, selection, dry runs and
//! stopping at the first failure.

use std::path::Path;

use crate::support::{four_host_lab, FakeHosts, Input, Run, TestLab};

/// The four-host lab with one manifest-only release.
fn lab() -> TestLab {
    let lab = four_host_lab();
    lab.write(
        "releases/app/release.toml",
        "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/app.yaml.hbs\"]\n",
    )
    .write(
        "releases/app/manifests/app.yaml.hbs",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    );
    lab
}

/// The fakes, run as `homelab deploy --hosts-only ARGS`.
struct Fakes(FakeHosts);

impl Fakes {
    fn new(with_nixos_rebuild: bool) -> Fakes {
        Fakes(if with_nixos_rebuild {
            FakeHosts::new()
        } else {
            FakeHosts::without(&["nixos-rebuild"])
        })
    }

    fn calls(&self) -> Vec<String> {
        self.0.calls()
    }

    fn rebuilt(&self) -> Vec<String> {
        self.0.rebuilt()
    }

    fn events(&self) -> Vec<String> {
        self.0.events()
    }

    fn deploy(&self, lab: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["--hosts-only"];
        all.extend_from_slice(args);
        self.0.deploy(lab, &all, env, Input::Piped(""))
    }
}

/// Replaces the temporary lab path so snapshots are stable.
fn stable(s: &str, lab: &Path) -> String {
    s.replace(&lab.display().to_string(), "<lab>")
}

#[test]
fn dry_run_prints_the_commands_and_runs_nothing() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--dry-run", "--jobs", "2"], &[]);
    out.expect_code(0);
    insta::assert_snapshot!(stable(&out.stdout, lab.path()));
    assert!(
        fakes.calls().is_empty(),
        "a dry run ran {:?}",
        fakes.calls()
    );
}

#[test]
fn control_plane_first_then_the_rest_in_parallel() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--jobs", "2"], &[("FAKE_SLEEP", "0.3")]);
    out.expect_code(0);
    assert_eq!(out.stdout, "Deployed 4 hosts: cp, w1, w2, w3\n");

    // Every host is probed before anything is rebuilt.
    let calls = fakes.calls();
    assert!(
        calls[..4]
            .iter()
            .all(|c| c.starts_with("ssh -o BatchMode=yes")),
        "{calls:#?}"
    );
    assert!(
        calls[4..]
            .iter()
            .all(|c| c.starts_with("nixos-rebuild switch --flake ")),
        "{calls:#?}"
    );
    assert_eq!(
        calls[4],
        format!(
            "nixos-rebuild switch --flake {}#cp --target-host root@10.30.0.2",
            lab.path().display()
        )
    );

    let events = fakes.events();
    assert_eq!(
        events[..2],
        ["start cp", "end cp"],
        "the control plane finishes first: {events:#?}"
    );
    let mut running = 0;
    let mut most = 0;
    for e in &events {
        running += if e.starts_with("start") { 1 } else { -1 };
        most = most.max(running);
    }
    assert_eq!(
        most, 2,
        "workers run two at a time with --jobs 2: {events:#?}"
    );

    // Each line of a host's output reaches the terminal with the host's name.
    let stderr = &out.stderr;
    assert!(
        stderr.contains("[w2] building the system configuration for w2..."),
        "{stderr}"
    );
    assert!(
        stderr.contains("[w2] copying closure to root@10.30.0.12"),
        "{stderr}"
    );
}

#[test]
fn stops_at_the_first_failure_with_a_summary() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--jobs", "1"], &[("FAKE_FAIL", "w1")]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        fakes.rebuilt(),
        ["cp", "w1"],
        "nothing starts after w1 failed"
    );
    let stderr = &out.stderr;
    let summary = &stderr[stderr.find("--- last lines from w1").expect("tail of w1")..];
    insta::assert_snapshot!(summary);
}

#[test]
fn a_failed_control_plane_starts_no_worker() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[("FAKE_FAIL", "cp")]);
    assert_eq!(out.code, Some(1));
    assert_eq!(fakes.rebuilt(), ["cp"]);
    let stderr = &out.stderr;
    assert!(stderr.contains("  succeeded:   -\n"), "{stderr}");
    assert!(
        stderr.contains("  failed:      cp (nixos-rebuild exit status: 1)\n"),
        "{stderr}"
    );
    assert!(stderr.contains("  not started: w1, w2, w3\n"), "{stderr}");
}

#[test]
fn an_unreachable_host_stops_the_deploy_before_any_change() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[("FAKE_UNREACHABLE", "root@10.30.0.12")]);
    assert_eq!(out.code, Some(1));
    assert!(fakes.rebuilt().is_empty(), "{:#?}", fakes.calls());
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn only_the_selected_hosts() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(
        lab.path(),
        &["--host", "w3", "--host", "w1", "--jobs", "1"],
        &[],
    );
    out.expect_code(0);
    assert_eq!(fakes.rebuilt(), ["w1", "w3"]);
    assert_eq!(out.stdout, "Deployed 2 hosts: w1, w3\n");
}

#[test]
fn an_unknown_host_is_refused() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--host", "w4"], &[]);
    assert_eq!(out.code, Some(1));
    assert!(fakes.calls().is_empty());
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn a_missing_nixos_rebuild_is_named() {
    let lab = lab();
    let fakes = Fakes::new(false);
    let out = fakes.deploy(lab.path(), &["--host", "w1"], &[]);
    assert_eq!(out.code, Some(1));
    let stderr = &out.stderr;
    assert!(
        stderr.contains("w1 (could not run `nixos-rebuild`: No such file or directory (os error 2); `nix run .#deploy` puts nixos-rebuild and ssh on PATH)"),
        "{stderr}"
    );
}

#[test]
fn deploy_without_an_environment_needs_hosts_only() {
    let lab = lab();
    let out = lab.run(&["deploy"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("--hosts-only"));
}

#[test]
fn the_environment_must_exist() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let ok = fakes.deploy(lab.path(), &["-e", "prod", "--dry-run"], &[]);
    ok.expect_code(0);
    let out = fakes.deploy(lab.path(), &["-e", "staging"], &[]);
    assert_eq!(out.code, Some(1));
    assert!(fakes.calls().is_empty());
    assert_eq!(
        out.stderr,
        "error: Environment `staging` is not in releases/environments.toml\n  help: the environments are prod\n"
    );
}
