//! `homelab deploy -e ENV` across both layers: fake `nix`, `nixos-rebuild` and `ssh`
//! programs on PATH record every call, and the in-process fake API server is the
//! cluster. Covers the order (hosts by role, then the cluster), `--plan` (both layers
//! shown, nothing changed), confirmation (on a real pseudo-terminal through util-linux
//! `script`, and piped with the hidden `--confirm-from-stdin`), `--yes`, `--hosts-only`,
//! `--cluster-only`, `--dry-run`, and a host failure that leaves the cluster alone.

use crate::support::{four_host_lab, register_nodes, FakeCluster, FakeHosts, Input, Run, TestLab};

/// The four-host lab with one release holding the ConfigMaps `keep` and `old`.
fn lab() -> TestLab {
    let lab = four_host_lab();
    lab.write(
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

/// The fake programs and the fake cluster.
struct World {
    lab: TestLab,
    hosts: FakeHosts,
    cluster: FakeCluster,
}

impl World {
    fn new() -> World {
        let lab = lab();
        let cluster = FakeCluster::start(lab.path(), "deploy-prod");
        // The health gate waits for each host's Node.
        register_nodes(&cluster.server, &["cp", "w1", "w2", "w3"], true);
        World {
            lab,
            hosts: FakeHosts::new(),
            cluster,
        }
    }

    /// `homelab deploy ARGS` with `stdin` piped in.
    fn deploy(&self, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
        self.run(args, env, Input::Piped(stdin))
    }

    /// `homelab deploy ARGS` on a pseudo-terminal, typing `stdin`; stdout and stderr
    /// arrive together on stdout.
    fn deploy_on_terminal(&self, args: &[&str], stdin: &str) -> Run {
        self.run(args, &[], Input::Terminal(stdin))
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)], input: Input) -> Run {
        let kubeconfig = self.cluster.kubeconfig.to_str().expect("a UTF-8 path");
        let cache = self.lab.path().join(".cache");
        let mut all = vec![
            ("KUBECONFIG", kubeconfig),
            ("HOMELAB_CACHE_DIR", cache.to_str().expect("a UTF-8 path")),
        ];
        all.extend_from_slice(env);
        self.hosts.deploy(self.lab.path(), args, &all, input)
    }

    fn calls(&self) -> Vec<String> {
        self.hosts.calls()
    }

    /// The host `target` already runs what the fake `nix` builds for `host`.
    fn up_to_date(&self, target: &str, host: &str) {
        self.hosts.up_to_date(target, host);
    }

    /// The hosts activated, in order.
    fn switched(&self) -> Vec<String> {
        self.hosts.activated()
    }

    fn config_map(&self, name: &str) -> Option<String> {
        let cm = self.cluster.server.get("", "configmaps", "app", name)?;
        Some(cm["data"]["value"].as_str().unwrap_or("").to_string())
    }

    /// Deploys the first version of the cluster and forgets the calls it made.
    fn with_cluster_applied(self) -> World {
        self.deploy(&["-e", "prod", "--cluster-only"], &[], "")
            .expect_code(0);
        assert_eq!(self.config_map("old").as_deref(), Some("1"));
        self.hosts.forget_calls();
        self
    }
}

#[test]
fn deploys_hosts_in_role_order_then_the_cluster() {
    let world = World::new();
    let run = world.deploy(&["-e", "prod"], &[], "");
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
    let before = world.cluster.server.resource_version();
    world.cluster.server.reset_requests();

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
        world.cluster.server.resource_version(),
        before,
        "the cluster changed"
    );
    let writes: Vec<_> = world
        .cluster
        .server
        .request_log()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.uri.contains("dryRun=All"))
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
}

#[test]
fn plan_as_json_is_one_line_on_stdout() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    world.up_to_date("root@10.30.0.2", "cp");
    let run = world.deploy(&["-e", "prod", "--plan", "--output", "json"], &[], "");
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{run}");
    let plan: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(plan["event"], "plan", "{run}");
    assert_eq!(plan["changes"], true, "{run}");
    assert_eq!(plan["problems"], 0, "{run}");
    let hosts: Vec<(&str, &str)> = plan["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("cp", "unchanged"),
            ("w1", "changes"),
            ("w2", "changes"),
            ("w3", "changes")
        ],
        "{run}"
    );
    assert_eq!(
        plan["cluster"]["objects"],
        serde_json::json!([
            {"action": "change", "object": "ConfigMap/app/keep"},
            {"action": "prune", "object": "ConfigMap/app/old"},
        ]),
        "{run}"
    );
}

#[test]
fn plan_with_yes_deploys_only_what_changed() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    world.up_to_date("root@10.30.0.2", "cp");
    world.cluster.server.reset_requests();
    let run = world.deploy(&["-e", "prod", "--plan", "--yes"], &[], "");
    run.expect_code(0);
    assert_eq!(world.switched(), ["w1", "w2", "w3"], "{run}");
    assert_eq!(world.config_map("keep").as_deref(), Some("2"), "{run}");
    assert_eq!(world.config_map("old"), None, "`old` is pruned\n{run}");
    // The apply reuses the plan's render and connection, so discovery runs once.
    let discovery: Vec<String> = world
        .cluster
        .server
        .request_log()
        .into_iter()
        .filter(|r| r.uri == "/api/v1" || r.uri == "/api")
        .map(|r| r.uri)
        .collect();
    assert_eq!(discovery.len(), 1, "{discovery:?}\n{run}");
}

#[test]
fn a_declined_plan_changes_nothing_and_exits_2() {
    let world = World::new().with_cluster_applied();
    change(&world.lab);
    let before = world.cluster.server.resource_version();
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
    assert_eq!(world.cluster.server.resource_version(), before);

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
    let before = world.cluster.server.resource_version();
    let run = world.deploy_on_terminal(&["-e", "prod", "--plan"], "n\n");
    run.expect_code(2);
    assert!(run.stdout.contains("Apply these changes? [y/N]"), "{run}");
    assert!(
        run.stdout.contains("Declined; nothing was changed."),
        "{run}"
    );
    assert!(world.switched().is_empty(), "{:#?}", world.calls());
    assert_eq!(world.cluster.server.resource_version(), before);
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
        run.stdout.contains("  w2  unreachable: `ssh` exit status: 255: ssh: connect to host root@10.30.0.12 port 22: Connection refused\n"),
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
    let before = world.cluster.server.resource_version();
    let run = world.deploy(&["-e", "prod", "--hosts-only"], &[], "");
    run.expect_code(0);
    assert_eq!(world.switched(), ["cp", "w1", "w2", "w3"]);
    assert_eq!(world.cluster.server.resource_version(), before);
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
    let before = world.cluster.server.resource_version();
    let run = world.deploy(&["-e", "prod"], &[("FAKE_BUILD_FAIL", "w2")], "");
    run.expect_code(1);
    assert_eq!(world.switched(), ["cp", "w1"]);
    assert!(
        run.stderr.contains("error: The cluster (environment `prod`) was not touched because the host deploy failed; fix the host above and run `homelab deploy -e prod` again"),
        "{run}"
    );
    assert_eq!(
        world.cluster.server.resource_version(),
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
    let before = world.cluster.server.resource_version();
    let run = world.deploy(&["-e", "prod", "--dry-run"], &[], "");
    run.expect_code(0);
    assert!(
        run.stdout_normalized()
            .contains("-- root@10.30.0.2 /nix/store/SYSTEM-cp/sw/bin/homelab-activate activate /nix/store/SYSTEM-cp 30\n"),
        "{run}"
    );
    assert!(world.calls().is_empty(), "{:#?}", world.calls());
    assert_eq!(
        world.cluster.server.resource_version(),
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
        ["nix build --no-link --print-out-paths --eval-store auto --store ssh-ng://root@10.30.0.2 -- [LAB]#nixosConfigurations.cp.config.system.build.toplevel"]
    );
    assert!(
        run.stdout.contains(
            "  cp  changes: /nix/store/old-nixos-system → /nix/store/new-nixos-system-cp\n"
        ),
        "{run}"
    );
}
