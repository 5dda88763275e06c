//! `homelab deploy --hosts-only`, driven against fake `nix`, `nixos-rebuild` and `ssh`
//! programs on PATH that record every call: magic rollback (activate, confirm over a
//! new connection, a lost connection rolled back by the host's timer), order,
//! `--no-rollback` parallelism, selection, dry runs and stopping at the first failure.

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

    fn activated(&self) -> Vec<String> {
        self.0.activated()
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
    let out = fakes.deploy(lab.path(), &["--dry-run", "--parallel", "2"], &[]);
    out.expect_code(0);
    insta::assert_snapshot!(stable(&out.stdout, lab.path()));
    assert!(
        fakes.calls().is_empty(),
        "a dry run ran {:?}",
        fakes.calls()
    );
}

#[test]
fn control_plane_first_then_one_at_a_time_with_magic_rollback() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[]);
    out.expect_code(0);
    assert_eq!(out.stdout, "Deployed 4 hosts: cp, w1, w2, w3\n");
    assert_eq!(fakes.activated(), ["cp", "w1", "w2", "w3"]);

    // Every host is probed before anything is built; then each host in turn: build,
    // copy, one look, activate, and a confirmation over a new connection.
    let calls = fakes.calls();
    assert!(
        calls[..4]
            .iter()
            .all(|c| c.ends_with(" /run/current-system/etc/homelab/inputs")),
        "{calls:#?}"
    );
    let cp: Vec<String> = calls[4..9].iter().map(|c| stable(c, lab.path())).collect();
    insta::assert_snapshot!(cp.join("\n"));
    let events = fakes.events();
    let expected: Vec<String> = ["2", "11", "12", "13"]
        .iter()
        .flat_map(|last| ["activate", "confirm"].map(|e| format!("{e} root@10.30.0.{last}")))
        .collect();
    assert_eq!(events, expected, "one host at a time, each confirmed");
    assert_eq!(
        fakes.0.current("root@10.30.0.11"),
        "/nix/store/new-nixos-system-w1"
    );

    // Each line of a host's output reaches the terminal with the host's name.
    let stderr = &out.stderr;
    assert!(
        stderr.contains(
            "[w2] copying path '/nix/store/new-nixos-system-w2' to 'ssh://root@10.30.0.12'"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("[w2] confirmed; the boot entry is the new system"),
        "{stderr}"
    );
}

#[test]
fn a_host_that_loses_its_network_after_activation_rolls_back_by_itself() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(
        lab.path(),
        &["--confirm-timeout", "1s"],
        &[("FAKE_LOSE_AFTER_ACTIVATE", "root@10.30.0.11")],
    );
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(fakes.activated(), ["cp", "w1"], "nothing after w1: {out}");
    let events = fakes.events();
    assert!(
        !events.contains(&"confirm root@10.30.0.11".to_string()),
        "w1 was never confirmed, so its boot entry never changed: {events:#?}"
    );
    assert!(
        events.contains(&"expired-rolled-back root@10.30.0.11".to_string()),
        "the host's timer switched back: {events:#?}"
    );
    assert_eq!(
        fakes.0.current("root@10.30.0.11"),
        "/nix/store/old-nixos-system"
    );
    let stderr = &out.stderr;
    assert!(
        stderr.contains("  failed:      w1 (rolled back: the SSH connection was lost during activation (`ssh` exit status: 255: Connection to root@10.30.0.11 closed by remote host.); it runs /nix/store/old-nixos-system again)\n"),
        "{stderr}"
    );
    assert!(stderr.contains("  not started: w2, w3\n"), "{stderr}");
}

#[test]
fn a_host_already_running_its_system_is_left_alone() {
    let lab = lab();
    let fakes = Fakes::new(true);
    for (target, host) in [("2", "cp"), ("11", "w1"), ("12", "w2"), ("13", "w3")] {
        fakes.0.up_to_date(&format!("root@10.30.0.{target}"), host);
    }
    let out = fakes.deploy(lab.path(), &[], &[]);
    out.expect_code(0);
    assert!(fakes.activated().is_empty(), "{:#?}", fakes.calls());
    assert!(
        fakes.events().is_empty(),
        "no activation, reboot or rollback"
    );
    assert!(
        out.stderr.contains("[w3] already runs this system"),
        "{out}"
    );
}

#[test]
fn the_inventory_confirm_timeout_is_used_unless_overridden() {
    let lab = lab();
    let mut inventory: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lab.path().join("inventory.json")).expect("read"),
    )
    .expect("JSON");
    inventory["hosts"]["w1"]["confirmTimeout"] = 90.into();
    lab.write("inventory.json", &inventory.to_string());
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--dry-run", "--host", "w1"], &[]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("homelab-activate activate /nix/store/SYSTEM-w1 90\n"),
        "{out}"
    );
    let out = fakes.deploy(
        lab.path(),
        &["--dry-run", "--host", "w1", "--confirm-timeout", "2m"],
        &[],
    );
    assert!(
        out.stdout
            .contains("homelab-activate activate /nix/store/SYSTEM-w1 120\n"),
        "{out}"
    );
}

#[test]
fn no_rollback_switches_with_nixos_rebuild_in_parallel() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(
        lab.path(),
        &["--no-rollback", "--parallel", "2"],
        &[("FAKE_SLEEP", "0.3")],
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "Deployed 4 hosts: cp, w1, w2, w3\n");
    let calls = fakes.calls();
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
        "workers run two at a time with --parallel 2: {events:#?}"
    );
}

#[test]
fn stops_at_the_first_failure_with_a_summary() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[("FAKE_BUILD_FAIL", "w1")]);
    assert_eq!(out.code, Some(1));
    assert_eq!(fakes.activated(), ["cp"], "nothing starts after w1 failed");
    let stderr = &out.stderr;
    let summary = &stderr[stderr.find("--- last lines from w1").expect("tail of w1")..];
    insta::assert_snapshot!(summary);
}

#[test]
fn a_failed_control_plane_starts_no_worker() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[("FAKE_BUILD_FAIL", "cp")]);
    assert_eq!(out.code, Some(1));
    assert!(fakes.activated().is_empty());
    let stderr = &out.stderr;
    assert!(stderr.contains("  succeeded:   -\n"), "{stderr}");
    assert!(
        stderr.contains("  failed:      cp (`nix` exit status: 1: error: builder for '/nix/store/x-nixos-system-cp.drv' failed with exit code 1)\n"),
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
    assert!(fakes.activated().is_empty(), "{:#?}", fakes.calls());
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn only_the_selected_hosts() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--host", "w3", "--host", "w1"], &[]);
    out.expect_code(0);
    assert_eq!(fakes.activated(), ["w1", "w3"]);
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
    let out = fakes.deploy(lab.path(), &["--host", "w1", "--no-rollback"], &[]);
    assert_eq!(out.code, Some(1));
    assert!(fakes.rebuilt().is_empty());
    let stderr = &out.stderr;
    assert!(
        stderr.contains("w1 (could not run `nixos-rebuild`: No such file or directory (os error 2); `nix run .#deploy` puts nix, nixos-rebuild and ssh on PATH)"),
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

/// `nix build`'s output reaches `ssh` (which hands it to the remote shell) only once it
/// is a store path: anything else stops the host before any copy or activation.
#[test]
fn a_build_output_that_is_not_a_store_path_never_reaches_ssh() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(
        lab.path(),
        &["--host", "w1"],
        &[("FAKE_BUILD_PRINTS", "/nix/store/x; reboot")],
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "w1 (`nix build` printed no system path: `/nix/store/x; reboot` is not a store path"
        ),
        "{out}"
    );
    let after_build: Vec<String> = fakes
        .calls()
        .into_iter()
        .skip_while(|c| !c.starts_with("nix build"))
        .skip(1)
        .collect();
    assert!(after_build.is_empty(), "{after_build:#?}");
}
