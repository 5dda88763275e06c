//! The host deploy against the fake API server: the health gate (a node that never
//! becomes Ready is rolled back and stops the deploy), reboots for a new kernel (cordon,
//! drain through evictions that respect a PodDisruptionBudget, reboot, uncordon, in that
//! order; a budget that forbids it stops the drain naming the pod), `wake` (the magic
//! packet's exact bytes on a loopback socket) and `shutdown`.

use std::net::UdpSocket;
use std::time::Duration;

use http::Method;
use serde_json::{json, Value};

use crate::support::{four_host_lab, register_nodes, FakeCluster, FakeHosts, Input, Run, TestLab};

struct World {
    lab: TestLab,
    hosts: FakeHosts,
    cluster: FakeCluster,
}

impl World {
    /// The four-host lab; `ready` nodes are Ready, the others registered but not.
    fn new(ready: &[&str], not_ready: &[&str]) -> World {
        let lab = four_host_lab();
        let cluster = FakeCluster::start(lab.path(), "deploy-prod");
        register_nodes(&cluster.server, ready, true);
        register_nodes(&cluster.server, not_ready, false);
        World {
            lab,
            hosts: FakeHosts::new(),
            cluster,
        }
    }

    fn deploy(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let kubeconfig = self.cluster.kubeconfig.to_str().expect("a UTF-8 path");
        let mut all = vec![("KUBECONFIG", kubeconfig)];
        all.extend_from_slice(env);
        let mut argv = vec!["-e", "prod", "--hosts-only"];
        argv.extend_from_slice(args);
        self.hosts
            .deploy(self.lab.path(), &argv, &all, Input::Piped(""))
    }

    fn call(&self, method: Method, path: &str, body: &Value) -> Value {
        let (code, answer) = self.cluster.server.call(
            method,
            path,
            "application/json",
            body.to_string().as_bytes(),
        );
        assert!((200..300).contains(&code), "{path}: {code} {answer}");
        answer
    }

    /// Pods `app/web-1` on w2 and `app/web-2` on w3, and a budget keeping
    /// `min_available` of them.
    fn web_pods(&self, min_available: i64) {
        self.call(
            Method::POST,
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}),
        );
        for (name, node) in [("web-1", "w2"), ("web-2", "w3")] {
            self.call(
                Method::POST,
                "/api/v1/namespaces/app/pods",
                &json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "labels": {"app": "web"}},
                    "spec": {"nodeName": node, "containers": [{"name": "web", "image": "nginx"}]},
                }),
            );
        }
        self.call(
            Method::POST,
            "/apis/policy/v1/namespaces/app/poddisruptionbudgets",
            &json!({
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": "web"},
                "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "web"}}},
            }),
        );
    }

    fn node(&self, name: &str) -> Value {
        self.cluster
            .server
            .get("", "nodes", "", name)
            .expect("the node")
    }
}

/// Where each needle first appears in `haystack`, failing with the text when one is
/// missing.
fn positions(haystack: &str, needles: &[&str]) -> Vec<usize> {
    needles
        .iter()
        .map(|n| {
            haystack
                .find(n)
                .unwrap_or_else(|| panic!("`{n}` is missing from:\n{haystack}"))
        })
        .collect()
}

#[test]
fn a_host_that_never_becomes_ready_is_rolled_back_and_the_deploy_stops() {
    let world = World::new(&["cp", "w2", "w3"], &["w1"]);
    let out = world.deploy(&["--health-timeout", "1s"], &[]);
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(world.hosts.activated(), ["cp", "w1"], "{out}");
    let events = world.hosts.events();
    assert_eq!(
        events[2..],
        [
            "activate root@10.30.0.11",
            "confirm root@10.30.0.11",
            "rollback root@10.30.0.11"
        ],
        "{out}"
    );
    assert_eq!(
        world.hosts.current("root@10.30.0.11"),
        "/nix/store/old-nixos-system"
    );
    assert!(
        out.stderr.contains("  failed:      w1 (rolled back: not healthy after 1s: node `w1` is not Ready (Ready=False))\n"),
        "{out}"
    );
    assert!(out.stderr.contains("  not started: w2, w3\n"), "{out}");
}

#[test]
fn a_new_kernel_drains_reboots_and_uncordons_in_that_order() {
    let world = World::new(&["cp", "w1", "w2", "w3"], &[]);
    world.web_pods(1);
    let out = world.deploy(&[], &[("FAKE_KERNEL_CHANGE", "w2")]);
    out.expect_code(0);
    let order = positions(
        &out.stderr,
        &[
            "[w2] the new kernel, initrd, kernel-modules needs a reboot",
            "[w2] cordoned; draining",
            "[w2] evicted pod app/web-1",
            "[w2] drained",
            "[w2] activating",
            "[w2] confirmed",
            "[w2] rebooting",
            "[w2] booted /nix/store/new-nixos-system-w2",
            "[w2] uncordoned",
        ],
    );
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    // The budget let web-1 go (2 pods, 1 must stay) and kept web-2, on another node.
    assert!(world
        .cluster
        .server
        .get("", "pods", "app", "web-1")
        .is_none());
    assert!(world
        .cluster
        .server
        .get("", "pods", "app", "web-2")
        .is_some());
    assert_eq!(world.node("w2")["spec"]["unschedulable"], false, "{out}");
    // Only w2 needed a reboot.
    let reboots: Vec<String> = world
        .hosts
        .events()
        .into_iter()
        .filter(|e| e.starts_with("reboot"))
        .collect();
    assert_eq!(reboots, ["reboot root@10.30.0.12"]);
    assert!(!out.stderr.contains("[w1] cordoned"), "{out}");
}

#[test]
fn a_new_kernel_that_never_becomes_ready_is_rolled_back_and_rebooted_into_the_old_one() {
    let world = World::new(&["cp", "w1", "w3"], &["w2"]);
    let out = world.deploy(
        &["--health-timeout", "1s", "--host", "w2"],
        &[("FAKE_KERNEL_CHANGE", "w2")],
    );
    assert_eq!(out.code, Some(1), "{out}");
    let w2: Vec<String> = world
        .hosts
        .events()
        .into_iter()
        .filter(|e| e.ends_with("root@10.30.0.12"))
        .collect();
    assert_eq!(
        w2,
        [
            "activate root@10.30.0.12",
            "confirm root@10.30.0.12",
            "reboot root@10.30.0.12",
            "rollback root@10.30.0.12",
            "reboot root@10.30.0.12",
        ],
        "{out}"
    );
    assert_eq!(
        world.hosts.current("root@10.30.0.12"),
        "/nix/store/old-nixos-system"
    );
    let order = positions(
        &out.stderr,
        &[
            "[w2] booted /nix/store/new-nixos-system-w2",
            "[w2] not healthy after 1s",
            "[w2] booted /nix/store/old-nixos-system",
        ],
    );
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(
        out.stderr.contains("rebooted into the previous generation; its node stays cordoned (`kubectl uncordon w2` once it is healthy))"),
        "{out}"
    );
    assert_eq!(world.node("w2")["spec"]["unschedulable"], true, "{out}");
}

#[test]
fn a_disruption_budget_that_forbids_the_drain_stops_before_activation() {
    let world = World::new(&["cp", "w1", "w2", "w3"], &[]);
    world.web_pods(2);
    let out = world.deploy(&["--drain-timeout", "1s"], &[("FAKE_KERNEL_CHANGE", "w2")]);
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        world.hosts.activated(),
        ["cp", "w1"],
        "w2 was not activated"
    );
    assert!(
        out.stderr.contains("w2 (draining node `w2` timed out after 1s; blocked by pod app/web-1: Cannot evict pod as it would violate the pod's disruption budget."),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("nothing was activated and it was uncordoned"),
        "{out}"
    );
    assert!(world
        .cluster
        .server
        .get("", "pods", "app", "web-1")
        .is_some());
    assert_eq!(world.node("w2")["spec"]["unschedulable"], false, "{out}");
}

/// The four-host lab with MACs for w1 and w2.
fn lab_with_macs() -> TestLab {
    let lab = four_host_lab();
    let mut inventory: Value =
        serde_json::from_str(&lab.read("inventory.json")).expect("the inventory is JSON");
    inventory["hosts"]["w1"]["mac"] = "3c:7c:3f:1a:2b:4d".into();
    inventory["hosts"]["w1"]["interface"] = "enp1s0".into();
    inventory["hosts"]["w2"]["mac"] = "3C:7C:3F:1A:2B:4E".into();
    lab.write("inventory.json", &inventory.to_string());
    lab
}

fn inventory_arg(lab: &TestLab) -> String {
    lab.path().join("inventory.json").display().to_string()
}

#[test]
fn wake_sends_the_magic_packet_to_a_loopback_socket() {
    let lab = lab_with_macs();
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let port = socket.local_addr().expect("addr").port().to_string();
    let inventory = inventory_arg(&lab);
    let out = lab.run_with(
        &["--inventory", &inventory, "wake", "w2", "w1", "--no-wait"],
        &[
            ("HOMELAB_WAKE_PORT", &port),
            ("HOMELAB_WAKE_TO", "127.0.0.1"),
        ],
    );
    out.expect_code(0);
    let mut received = Vec::new();
    for _ in 0..2 {
        let mut buf = [0u8; 200];
        let (n, _) = socket.recv_from(&mut buf).expect("a magic packet");
        received.push(buf[..n].to_vec());
    }
    let packet = |mac: [u8; 6]| {
        let mut p = vec![0xFF; 6];
        for _ in 0..16 {
            p.extend_from_slice(&mac);
        }
        p
    };
    // Plan order: w1 then w2.
    assert_eq!(received[0], packet([0x3c, 0x7c, 0x3f, 0x1a, 0x2b, 0x4d]));
    assert_eq!(received[1], packet([0x3c, 0x7c, 0x3f, 0x1a, 0x2b, 0x4e]));
    assert_eq!(received[0].len(), 102);
}

#[test]
fn wake_dry_run_prints_the_mac_and_broadcast_and_sends_nothing() {
    let lab = lab_with_macs();
    let inventory = inventory_arg(&lab);
    let out = lab.run(&["--inventory", &inventory, "wake", "w1", "--dry-run"]);
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        "w1: would send the magic packet for 3c:7c:3f:1a:2b:4d to 10.30.0.255:9\n"
    );
    let out = lab.run(&["--inventory", &inventory, "wake", "w3", "--dry-run"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("Host `w3` has no `mac`"), "{out}");
}

#[test]
fn shutdown_refuses_the_control_plane_without_force() {
    let lab = four_host_lab();
    let inventory = inventory_arg(&lab);
    let out = lab.run(&["--inventory", &inventory, "shutdown", "-e", "prod", "cp"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "Host `cp` is the control plane: powered off, the cluster's API server is gone"
        ),
        "{out}"
    );
    assert!(out.stderr.contains("pass `--force`"), "{out}");
}

#[test]
fn shutdown_drains_then_powers_off() {
    let world = World::new(&["cp", "w1", "w2", "w3"], &[]);
    world.web_pods(1);
    let kubeconfig = world.cluster.kubeconfig.to_str().expect("a UTF-8 path");
    let out = world.hosts.homelab(
        world.lab.path(),
        &["shutdown", "-e", "prod", "w2"],
        &[("KUBECONFIG", kubeconfig)],
        Input::Piped(""),
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "w2: powered off\n");
    let order = positions(
        &out.stderr,
        &[
            "[w2] cordoned; draining",
            "[w2] evicted pod app/web-1",
            "[w2] drained",
            "[w2] powering off",
        ],
    );
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert_eq!(world.hosts.events(), ["poweroff root@10.30.0.12"]);
    assert_eq!(
        world.node("w2")["spec"]["unschedulable"],
        true,
        "it stays cordoned"
    );
}

/// The host side of the magic rollback (modules/deploy-rollback/homelab-activate.sh)
/// behaves as the deployer expects: checks/deploy-rollback/run.sh runs it with
/// stand-ins for systemd and the systems.
#[test]
fn the_host_side_script_arms_confirms_expires_and_rolls_back() {
    let script = crate::support::repo_root().join("checks/deploy-rollback/run.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn power_and_rollback_fields_are_checked() {
    let lab = four_host_lab();
    let mut inventory: Value =
        serde_json::from_str(&lab.read("inventory.json")).expect("the inventory is JSON");
    inventory["hosts"]["w1"]["mac"] = "ff:ff:ff:ff:ff:ff".into();
    inventory["hosts"]["w2"]["interface"] = "enp1s0".into();
    inventory["hosts"]["w3"]["confirmTimeout"] = 2.into();
    lab.write("inventory.json", &inventory.to_string());
    let inventory = inventory_arg(&lab);
    let out = lab.run(&["--inventory", &inventory, "check"]);
    assert_eq!(out.code, Some(1), "{out}");
    // The diagnostics wrap long lines.
    let text = out.stderr.replace("\n  │ ", " ");
    for expected in [
        "Host `w1`: `mac` `ff:ff:ff:ff:ff:ff` is a group (multicast or broadcast) address, not a network card's",
        "Host `w2` has an `interface` but no `mac`: Wake-on-LAN needs both",
        "Host `w3`: `confirmTimeout` 2 is outside 5..=3600 seconds",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{out}");
    }
}
