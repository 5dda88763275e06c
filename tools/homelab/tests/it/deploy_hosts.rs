//! `homelab deploy --hosts-only`, driven against fake `nixos-rebuild` and `ssh`
//! programs on PATH that record every call: order, parallelism, selection, dry runs and
//! stopping at the first failure.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

/// A lab of four hosts: a control plane and three workers.
fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let host = |roles: &[&str], last: u8| {
        json!({
            "system": "x86_64-linux",
            "roles": roles,
            "lanAddress": format!("10.30.0.{last}"),
            "tailscaleAddress": format!("100.80.0.{last}"),
            "ssh": format!("root@10.30.0.{last}"),
        })
    };
    let inventory = json!({
        "domain": "example.com",
        "cluster": {
            "name": "deploy", "kubernetesVersion": "1.34.1", "lanCidr": "10.30.0.0/24",
            "tailscaleCidr": "100.64.0.0/10", "podCidr": "10.42.0.0/16",
            "serviceCidr": "10.43.0.0/16", "apiPort": 6443, "dnsDomain": "cluster.local",
            "upstreamDns": ["1.1.1.1"]
        },
        "hosts": {
            "w3": host(&["worker"], 13),
            "cp": host(&["control-plane", "dns"], 2),
            "w1": host(&["worker"], 11),
            "w2": host(&["worker"], 12),
        }
    });
    std::fs::write(root.join("inventory.json"), inventory.to_string()).expect("inventory");
    let release = root.join("releases/app");
    std::fs::create_dir_all(release.join("manifests")).expect("mkdir");
    std::fs::write(
        root.join("releases/environments.toml"),
        "[environments.prod]\ncontext = \"deploy-prod\"\nsecrets = \"secrets/prod.yaml\"\n",
    )
    .expect("environments.toml");
    std::fs::write(
        release.join("release.toml"),
        "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/app.yaml.hbs\"]\n",
    )
    .expect("release.toml");
    std::fs::write(
        release.join("manifests/app.yaml.hbs"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    )
    .expect("manifest");
    dir
}

const FAKE_NIXOS_REBUILD: &str = r#"#!/bin/sh
# Records its call, prints like nixos-rebuild, fails for $FAKE_FAIL.
flake="$3"
host="${flake##*#}"
echo "nixos-rebuild $*" >> "$FAKE_CALLS"
echo "start $host" >> "$FAKE_EVENTS"
echo "building the system configuration for $host..."
# stdout and stderr are separate pipes: a pause keeps the summary's tail in order.
sleep 0.1
echo "copying closure to $5" >&2
sleep "${FAKE_SLEEP:-0}"
if [ "$host" = "${FAKE_FAIL:-}" ]; then
  echo "error: switching $host failed: the unit kubelet.service did not start" >&2
  echo "end $host" >> "$FAKE_EVENTS"
  exit 1
fi
echo "end $host" >> "$FAKE_EVENTS"
"#;

const FAKE_SSH: &str = r#"#!/bin/sh
# Records its call; $FAKE_UNREACHABLE cannot be reached.
echo "ssh $*" >> "$FAKE_CALLS"
target="$5"
if [ "$target" = "${FAKE_UNREACHABLE:-}" ]; then
  echo "ssh: connect to host $target port 22: Connection refused" >&2
  exit 255
fi
"#;

struct Fakes {
    dir: tempfile::TempDir,
}

impl Fakes {
    fn new(with_nixos_rebuild: bool) -> Fakes {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut programs = vec![("ssh", FAKE_SSH)];
        if with_nixos_rebuild {
            programs.push(("nixos-rebuild", FAKE_NIXOS_REBUILD));
        }
        for (name, script) in programs {
            let path = dir.path().join("bin").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, script).expect("write fake");
            make_executable(&path);
        }
        Fakes { dir }
    }

    fn calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("calls"))
    }

    fn events(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("events"))
    }

    fn deploy(&self, lab: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let path = format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_homelab"));
        cmd.arg("--root")
            .arg(lab)
            .arg("--inventory")
            .arg(lab.join("inventory.json"))
            .arg("deploy")
            .arg("--hosts-only")
            .args(args)
            .env("PATH", path)
            .env("FAKE_CALLS", self.dir.path().join("calls"))
            .env("FAKE_EVENTS", self.dir.path().join("events"))
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run homelab")
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Replaces the temporary lab path so snapshots are stable.
fn stable(s: &str, lab: &Path) -> String {
    s.replace(&lab.display().to_string(), "<lab>")
}

fn rebuilt(calls: &[String]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.starts_with("nixos-rebuild"))
        .map(|c| {
            c.split('#')
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn dry_run_prints_the_commands_and_runs_nothing() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--dry-run", "--jobs", "2"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(stable(&text(&out.stdout), lab.path()));
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
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Deployed 4 hosts: cp, w1, w2, w3\n");

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
    let stderr = text(&out.stderr);
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
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        rebuilt(&fakes.calls()),
        ["cp", "w1"],
        "nothing starts after w1 failed"
    );
    let stderr = text(&out.stderr);
    let summary = &stderr[stderr.find("--- last lines from w1").expect("tail of w1")..];
    insta::assert_snapshot!(summary);
}

#[test]
fn a_failed_control_plane_starts_no_worker() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &[], &[("FAKE_FAIL", "cp")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rebuilt(&fakes.calls()), ["cp"]);
    let stderr = text(&out.stderr);
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
    assert_eq!(out.status.code(), Some(1));
    assert!(rebuilt(&fakes.calls()).is_empty(), "{:#?}", fakes.calls());
    insta::assert_snapshot!(text(&out.stderr));
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
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rebuilt(&fakes.calls()), ["w1", "w3"]);
    assert_eq!(text(&out.stdout), "Deployed 2 hosts: w1, w3\n");
}

#[test]
fn an_unknown_host_is_refused() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let out = fakes.deploy(lab.path(), &["--host", "w4"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(fakes.calls().is_empty());
    insta::assert_snapshot!(text(&out.stderr));
}

#[test]
fn a_missing_nixos_rebuild_is_named() {
    let lab = lab();
    let fakes = Fakes::new(false);
    let out = fakes.deploy(lab.path(), &["--host", "w1"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("w1 (could not run `nixos-rebuild`: No such file or directory (os error 2); `nix run .#deploy` puts nixos-rebuild and ssh on PATH)"),
        "{stderr}"
    );
}

#[test]
fn deploy_without_an_environment_needs_hosts_only() {
    let lab = lab();
    let out = Command::new(env!("CARGO_BIN_EXE_homelab"))
        .arg("--root")
        .arg(lab.path())
        .arg("deploy")
        .output()
        .expect("run homelab");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--hosts-only"));
}

#[test]
fn the_environment_must_exist() {
    let lab = lab();
    let fakes = Fakes::new(true);
    let ok = fakes.deploy(lab.path(), &["-e", "prod", "--dry-run"], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let out = fakes.deploy(lab.path(), &["-e", "staging"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(fakes.calls().is_empty());
    assert_eq!(
        text(&out.stderr),
        "error: Environment `staging` is not in releases/environments.toml\n  help: the environments are prod\n"
    );
}
