//! `homelab deploy -e ENV` across both layers: fake `nix`, `nixos-rebuild` and `ssh`
//! programs on PATH record every call, and the in-process fake API server is the
//! cluster. Covers the order (hosts by role, then the cluster), `--plan` (both layers
//! shown, nothing changed), confirmation (on a real pseudo-terminal through util-linux
//! `script`, and piped with the hidden `--confirm-from-stdin`), `--yes`, `--hosts-only`,
//! `--cluster-only`, `--dry-run`, and a host failure that leaves the cluster alone.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fake_apiserver::{Config, FakeApiServer, ServerHandle};
use serde_json::json;

use crate::support::{Run, TestLab};

const FAKE_NIX: &str = r#"#!/bin/sh
# `nix build --no-link --print-out-paths [--store …] <flake>#nixosConfigurations.<host>.…`
echo "nix $*" >> "$FAKE_DIR/calls"
for arg; do installable="$arg"; done
host="${installable#*#nixosConfigurations.}"
host="${host%%.*}"
if [ "$host" = "${FAKE_BUILD_FAIL:-}" ]; then
  echo "error: builder for '/nix/store/x-nixos-system-$host.drv' failed with exit code 1" >&2
  exit 1
fi
echo "/nix/store/new-nixos-system-$host"
"#;

const FAKE_NIXOS_REBUILD: &str = r#"#!/bin/sh
echo "nixos-rebuild $*" >> "$FAKE_DIR/calls"
host="${3##*#}"
if [ "$host" = "${FAKE_FAIL:-}" ]; then
  echo "error: switching $host failed: the unit kubelet.service did not start" >&2
  exit 1
fi
"#;

const FAKE_SSH: &str = r#"#!/bin/sh
# `ssh -o BatchMode=yes -o ConnectTimeout=10 <target> <command…>`
echo "ssh $*" >> "$FAKE_DIR/calls"
target="$5"
if [ "$target" = "${FAKE_UNREACHABLE:-}" ]; then
  echo "ssh: connect to host $target port 22: Connection refused" >&2
  exit 255
fi
if [ "$6" = readlink ]; then
  if [ -f "$FAKE_DIR/current/$target" ]; then cat "$FAKE_DIR/current/$target"
  else echo "/nix/store/old-nixos-system"; fi
fi
"#;

/// A lab of four hosts (a control plane and three workers) and one environment whose
/// release holds the ConfigMaps `keep` and `old`.
fn lab() -> TestLab {
    let lab = TestLab::empty();
    let host = |roles: &[&str], last: u8| {
        json!({
            "system": "x86_64-linux", "roles": roles,
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
            "w3": host(&["worker"], 13), "cp": host(&["control-plane", "dns"], 2),
            "w1": host(&["worker"], 11), "w2": host(&["worker"], 12),
        }
    });
    lab.write("inventory.json", &inventory.to_string())
        .write(
            "releases/environments.toml",
            "[environments.prod]\ncontext = \"deploy-prod\"\nsecrets = \"secrets/prod.yaml\"\n",
        )
        .write(
            "releases/app/release.toml",
            "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/keep.yaml.hbs\", \"manifests/old.yaml.hbs\"]\n",
        )
        .write("releases/app/manifests/keep.yaml.hbs", &config_map("keep", "1"))
        .write("releases/app/manifests/old.yaml.hbs", &config_map("old", "1"));
    lab
}

fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"
    )
}

/// The lab after a change: `keep` changed and `old` no longer declared.
fn change(lab: &TestLab) {
    lab.write(
        "releases/app/release.toml",
        "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/keep.yaml.hbs\"]\n",
    )
    .write(
        "releases/app/manifests/keep.yaml.hbs",
        &config_map("keep", "2"),
    )
    .remove("releases/app/manifests/old.yaml.hbs");
}

/// The fake programs, the fake cluster and its kubeconfig.
struct World {
    lab: TestLab,
    fakes: tempfile::TempDir,
    server: ServerHandle,
    kubeconfig: PathBuf,
    // Declared last: dropped after the server it drives.
    _runtime: tokio::runtime::Runtime,
}

impl World {
    fn new() -> World {
        let lab = lab();
        let fakes = tempfile::tempdir().expect("tempdir");
        for (name, script) in [
            ("nix", FAKE_NIX),
            ("nixos-rebuild", FAKE_NIXOS_REBUILD),
            ("ssh", FAKE_SSH),
        ] {
            let path = fakes.path().join("bin").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, script).expect("write fake");
            make_executable(&path);
        }
        std::fs::create_dir_all(fakes.path().join("current")).expect("mkdir");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(FakeApiServer::start(Config::default()))
            .expect("the fake API server starts");
        let kubeconfig = lab.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            server.kubeconfig_yaml_for("deploy-prod", "default"),
        )
        .expect("kubeconfig");
        World {
            lab,
            fakes,
            server,
            kubeconfig,
            _runtime: runtime,
        }
    }

    /// `homelab deploy ARGS` with `stdin` as its input.
    fn deploy(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        self.run(false, args, env, stdin)
    }

    /// `homelab deploy ARGS` on a pseudo-terminal (util-linux `script`), typing
    /// `stdin`; stdout and stderr arrive together on stdout.
    fn deploy_on_terminal(&self, args: &[&str], stdin: &str) -> Run {
        self.run(true, args, &[], stdin)
    }

    fn run(&self, terminal: bool, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        let lab = self.lab.path();
        let inventory = lab.join("inventory.json");
        let mut argv: Vec<&str> = vec![
            env!("CARGO_BIN_EXE_homelab"),
            "--root",
            lab.to_str().expect("a UTF-8 path"),
            "--inventory",
            inventory.to_str().expect("a UTF-8 path"),
            "deploy",
        ];
        argv.extend_from_slice(args);
        let mut cmd = if terminal {
            let quoted: Vec<String> = argv.iter().map(|a| format!("'{a}'")).collect();
            let mut script = Command::new("script");
            script
                .args(["-q", "-e", "-c", &quoted.join(" "), "/dev/null"])
                .env("SHELL", "/bin/sh");
            script
        } else {
            let mut direct = Command::new(argv[0]);
            direct.args(&argv[1..]);
            direct
        };
        cmd.current_dir(lab)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.fakes.path().join("bin").display()),
            )
            .env("FAKE_DIR", self.fakes.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOMELAB_CACHE_DIR", lab.join(".cache"))
            .env("NO_COLOR", "1")
            .env_remove("HOMELAB_ROOT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("running homelab");
        let mut input = child.stdin.take().expect("stdin");
        // The program may exit without reading; a broken pipe is then fine.
        let _ = input.write_all(stdin.as_bytes());
        drop(input);
        let output = child.wait_with_output().expect("waiting for homelab");
        Run {
            command: format!("homelab deploy {}", args.join(" ")),
            dir: lab.to_path_buf(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.fakes.path().join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn forget_calls(&self) {
        let _ = std::fs::remove_file(self.fakes.path().join("calls"));
    }

    /// The host `target` already runs what the fake `nix` builds for `host`.
    fn up_to_date(&self, target: &str, host: &str) {
        std::fs::write(
            self.fakes.path().join("current").join(target),
            format!("/nix/store/new-nixos-system-{host}\n"),
        )
        .expect("current system");
    }

    /// The hosts `nixos-rebuild switch` ran for, in order.
    fn switched(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| c.starts_with("nixos-rebuild switch"))
            .filter_map(|c| c.split('#').nth(1)?.split(' ').next().map(String::from))
            .collect()
    }

    fn config_map(&self, name: &str) -> Option<String> {
        let cm = self.server.get("", "configmaps", "app", name)?;
        Some(cm["data"]["value"].as_str().unwrap_or("").to_string())
    }

    /// Deploys the first version of the cluster and forgets the calls it made.
    fn with_cluster_applied(self) -> World {
        self.deploy(&["-e", "prod", "--cluster-only"], &[], "")
            .expect_code(0);
        assert_eq!(self.config_map("old").as_deref(), Some("1"));
        self.forget_calls();
        self
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn deploys_hosts_in_role_order_then_the_cluster() {
    let world = World::new();
    let run = world.deploy(&["-e", "prod", "--jobs", "1"], &[], "");
    run.expect_code(0);
    assert_eq!(world.switched(), ["cp", "w1", "w2", "w3"], "{run}");
    assert_eq!(world.config_map("keep").as_deref(), Some("1"), "{run}");
    assert_eq!(world.config_map("old").as_deref(), Some("1"), "{run}");
    let hosts_done = run.stdout.find("Deployed 4 hosts").expect("host summary");
    let applied = run.stdout.find("Applied:").expect("apply summary");
    assert!(hosts_done < applied, "hosts come before the cluster\n{run}");
}

#[test]
fn plan_shows_both_layers_and_changes_nothing() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    world.up_to_date("root@10.30.0.2", "cp");
    world.up_to_date("root@10.30.0.13", "w3");
    let before = world.server.resource_version();
    world.server.reset_requests();

    // No terminal and no --yes: the plan is only printed.
    let run = world.deploy(&["-e", "prod", "--plan"], &[], "y\n");
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout_normalized());
    assert!(
        run.stderr.contains("run with --yes to deploy this plan"),
        "{run}"
    );
    assert!(world.switched().is_empty(), "{:#?}", world.calls());
    assert_eq!(
        world.server.resource_version(),
        before,
        "the cluster changed"
    );
    let writes: Vec<_> = world
        .server
        .request_log()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.uri.contains("dryRun=All"))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
}

#[test]
fn plan_with_yes_deploys_only_what_changed() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    world.up_to_date("root@10.30.0.2", "cp");
    let run = world.deploy(&["-e", "prod", "--plan", "--yes", "--jobs", "1"], &[], "");
    run.expect_code(0);
    assert_eq!(world.switched(), ["w1", "w2", "w3"], "{run}");
    assert_eq!(world.config_map("keep").as_deref(), Some("2"), "{run}");
    assert_eq!(world.config_map("old"), None, "`old` is pruned\n{run}");
}

#[test]
fn a_declined_plan_changes_nothing_and_exits_2() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    let before = world.server.resource_version();
    let run = world.deploy(
        &["-e", "prod", "--plan", "--confirm-from-stdin"],
        &[],
        "n\n",
    );
    run.expect_code(2);
    assert!(run.stderr.contains("Apply these changes? [y/N]"), "{run}");
    assert!(
        run.stderr.contains("Declined; nothing was changed."),
        "{run}"
    );
    assert!(world.switched().is_empty(), "{:#?}", world.calls());
    assert_eq!(world.server.resource_version(), before);

    let run = world.deploy(
        &["-e", "prod", "--plan", "--confirm-from-stdin"],
        &[],
        "y\n",
    );
    run.expect_code(0);
    assert_eq!(world.switched().len(), 4, "{run}");
    assert_eq!(world.config_map("old"), None, "{run}");
}

#[test]
fn on_a_terminal_the_plan_asks_and_no_changes_nothing() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    let before = world.server.resource_version();
    let run = world.deploy_on_terminal(&["-e", "prod", "--plan"], "n\n");
    run.expect_code(2);
    assert!(run.stdout.contains("Apply these changes? [y/N]"), "{run}");
    assert!(
        run.stdout.contains("Declined; nothing was changed."),
        "{run}"
    );
    assert!(world.switched().is_empty(), "{:#?}", world.calls());
    assert_eq!(world.server.resource_version(), before);
}

#[test]
fn an_unplannable_host_stops_the_plan() {
    let world = World::new();
    let run = world.deploy(
        &["-e", "prod", "--plan", "--yes"],
        &[
            ("FAKE_UNREACHABLE", "root@10.30.0.12"),
            ("FAKE_BUILD_FAIL", "w3"),
        ],
        "",
    );
    run.expect_code(1);
    assert!(
        run.stdout.contains("  w2  unreachable: `ssh` failed with exit status: 255: ssh: connect to host root@10.30.0.12 port 22: Connection refused\n"),
        "{run}"
    );
    assert!(
        run.stdout.contains("  w3  build failed: `nix` failed with exit status: 1: error: builder for '/nix/store/x-nixos-system-w3.drv' failed with exit code 1\n"),
        "{run}"
    );
    assert!(
        run.stderr.contains("The plan is incomplete: 2 problem(s)"),
        "{run}"
    );
    assert!(world.switched().is_empty());
    assert_eq!(world.config_map("keep"), None);
}

#[test]
fn hosts_only_leaves_the_cluster_alone() {
    let world = World::new();
    let before = world.server.resource_version();
    let run = world.deploy(&["-e", "prod", "--hosts-only", "--jobs", "1"], &[], "");
    run.expect_code(0);
    assert_eq!(world.switched(), ["cp", "w1", "w2", "w3"]);
    assert_eq!(world.server.resource_version(), before);
}

#[test]
fn cluster_only_leaves_the_hosts_alone() {
    let world = World::new();
    let run = world.deploy(&["-e", "prod", "--cluster-only"], &[], "");
    run.expect_code(0);
    assert!(world.calls().is_empty(), "{:#?}", world.calls());
    assert_eq!(world.config_map("keep").as_deref(), Some("1"));
}

#[test]
fn a_host_failure_stops_before_the_cluster() {
    let world = World::new();
    let before = world.server.resource_version();
    let run = world.deploy(&["-e", "prod", "--jobs", "1"], &[("FAKE_FAIL", "w2")], "");
    run.expect_code(1);
    assert_eq!(world.switched(), ["cp", "w1", "w2"]);
    assert!(
        run.stderr.contains("error: The cluster (environment `prod`) was not touched because the host deploy failed; fix the host above and run `homelab deploy -e prod` again"),
        "{run}"
    );
    assert_eq!(
        world.server.resource_version(),
        before,
        "the cluster changed"
    );
}

#[test]
fn the_environment_is_required_for_the_cluster() {
    let world = World::new();
    let run = world.deploy(&["--cluster-only"], &[], "");
    run.expect_code(2);
    assert_eq!(
        run.stderr,
        "error: Deploying the cluster needs an environment: pass `-e ENV`, or `--hosts-only` to rebuild only the hosts\n"
    );
    assert!(world.calls().is_empty());
    world
        .deploy(&["--hosts-only", "--cluster-only", "-e", "prod"], &[], "")
        .expect_code(2);
}

#[test]
fn dry_run_prints_the_host_commands_and_changes_nothing() {
    let world = World::new();
    let before = world.server.resource_version();
    let run = world.deploy(&["-e", "prod", "--dry-run"], &[], "");
    run.expect_code(0);
    assert!(
        run.stdout_normalized()
            .contains("nixos-rebuild switch --flake [LAB]#cp --target-host root@10.30.0.2\n"),
        "{run}"
    );
    assert!(world.calls().is_empty(), "{:#?}", world.calls());
    assert_eq!(
        world.server.resource_version(),
        before,
        "the cluster changed"
    );
}

#[test]
fn plan_builds_on_the_target_when_asked() {
    let world = World::new();
    let run = world.deploy(
        &[
            "-e",
            "prod",
            "--plan",
            "--hosts-only",
            "--host",
            "cp",
            "--build-on-target",
        ],
        &[],
        "",
    );
    run.expect_code(0);
    let builds: Vec<String> = world
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("nix "))
        .map(|c| c.replace(&world.lab.path().display().to_string(), "[LAB]"))
        .collect();
    assert_eq!(
        builds,
        ["nix build --no-link --print-out-paths --eval-store auto --store ssh-ng://root@10.30.0.2 [LAB]#nixosConfigurations.cp.config.system.build.toplevel"]
    );
    assert!(
        run.stdout.contains(
            "  cp  changes: /nix/store/old-nixos-system → /nix/store/new-nixos-system-cp\n"
        ),
        "{run}"
    );
}
