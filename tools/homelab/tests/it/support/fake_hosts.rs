//! Fake `nix`, `nixos-rebuild` and `ssh` programs for the deploy tests, a lab of four
//! hosts for them to act on, and the `homelab deploy` run that puts the fakes first on
//! PATH. Each fake appends its command line to `$FAKE_DIR/calls`; environment knobs
//! make one host fail (`FAKE_FAIL`, `FAKE_BUILD_FAIL`), unreachable
//! (`FAKE_UNREACHABLE`), lose its network once activated (`FAKE_LOSE_AFTER_ACTIVATE`)
//! or get a new kernel (`FAKE_KERNEL_CHANGE`); `FAKE_SLEEP` slows `nixos-rebuild` so
//! parallelism shows in `$FAKE_DIR/events`, `FAKE_EVAL_DELAY` makes `nix build` take as
//! long as evaluating a real NixOS system. A system the fake `nix` builds records the
//! lab's host input digest, computed with `find`, `sort` and `sha256sum` (not homelab's
//! code) from `nix/host-inputs.json`, as modules/host-inputs.nix records it;
//! `FAKE_SSH_DELAY` gives each SSH round trip a latency. The fakes are files of their
//! own (`fakes/`) so `bench/deploy.sh` runs the very same programs. The fake `ssh` plays the host side of the
//! magic rollback (modules/deploy-rollback.nix), its timer included.

use std::io::Write as _;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::{Run, TestLab};

const NIX: &str = include_str!("fakes/nix");

const NIXOS_REBUILD: &str = include_str!("fakes/nixos-rebuild");

/// A host's state lives in `$FAKE_DIR/{current,booted}/<target>` (a system path;
/// `/nix/store/old-nixos-system` when absent); a system's kernel in
/// `$FAKE_DIR/kernel-of/<system name>` (`/nix/store/k1` when absent), the link of its
/// `/etc/homelab/inputs` in `$FAKE_DIR/inputs-of/<system name>` (a missing file's path
/// when absent, as `readlink -m` prints it).
const SSH: &str = include_str!("fakes/ssh");

/// A folder holding the fake programs and what they recorded, and a loopback DNS
/// server standing in for the DNS host's CoreDNS (the health gate asks it).
pub struct FakeHosts {
    dir: tempfile::TempDir,
    dns: DnsResponder,
}

/// Answers every UDP query on a loopback port (NOERROR, no records) until dropped.
struct DnsResponder {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
}

impl DnsResponder {
    fn start() -> DnsResponder {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback UDP socket");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a read timeout");
        let addr = socket.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !stopped.load(Ordering::SeqCst) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let mut reply = buf[..n].to_vec();
                    if reply.len() > 2 {
                        reply[2] |= 0x80;
                    }
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        DnsResponder { addr, stop }
    }
}

impl Drop for DnsResponder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Registers each node on the fake API server: Ready (or not), running kubelet
/// `v1.34.1` (the test labs' Kubernetes version).
pub fn register_nodes(server: &fake_apiserver::ServerHandle, names: &[&str], ready: bool) {
    for name in names {
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}});
        let (code, mut created) = server.call(
            http::Method::POST,
            "/api/v1/nodes",
            "application/json",
            node.to_string().as_bytes(),
        );
        assert_eq!(code, 201, "creating node {name}: {created}");
        created["status"] = json!({
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "nodeInfo": {"kubeletVersion": "v1.34.1"},
        });
        let (code, body) = server.call(
            http::Method::PUT,
            &format!("/api/v1/nodes/{name}/status"),
            "application/json",
            created.to_string().as_bytes(),
        );
        assert_eq!(code, 200, "setting node {name}'s status: {body}");
    }
}

/// How `homelab deploy` gets its standard input.
pub enum Input<'a> {
    /// Piped: not a terminal, so deploy never asks.
    Piped(&'a str),
    /// Typed on a pseudo-terminal (util-linux `script`); stdout and stderr then
    /// arrive together on stdout.
    Terminal(&'a str),
}

impl FakeHosts {
    /// All three fakes.
    pub fn new() -> FakeHosts {
        FakeHosts::without(&[])
    }

    /// The fakes except `missing`, to test a program that is not installed.
    pub fn without(missing: &[&str]) -> FakeHosts {
        let dir = tempfile::tempdir().expect("tempdir");
        let programs = [("nix", NIX), ("nixos-rebuild", NIXOS_REBUILD), ("ssh", SSH)];
        for (name, script) in programs.into_iter().filter(|(n, _)| !missing.contains(n)) {
            let path = dir.path().join("bin").join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, script).expect("write fake");
            make_executable(&path);
        }
        for sub in ["current", "booted", "kernel-of", "inputs-of"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        FakeHosts {
            dir,
            dns: DnsResponder::start(),
        }
    }

    /// Every call the fakes received, in order.
    pub fn calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("calls"))
    }

    /// `start HOST` and `end HOST` lines from `nixos-rebuild`; `activate TARGET`,
    /// `confirm TARGET`, `rollback TARGET`, `expired-rolled-back TARGET`, `reboot TARGET`
    /// and `poweroff TARGET` from `ssh`.
    pub fn events(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("events"))
    }

    pub fn forget_calls(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("calls"));
    }

    /// The `nix build` calls, in order.
    pub fn builds(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.starts_with("nix build "))
            .collect()
    }

    /// The system the host `target` runs now.
    pub fn current(&self, target: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("current").join(target))
            .map_or("/nix/store/old-nixos-system".into(), |s| {
                s.trim().to_string()
            })
    }

    /// The folder the fakes work in (`FAKE_DIR`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The hosts activated (magic rollback) or switched by `nixos-rebuild`, in order.
    pub fn activated(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter_map(|c| {
                let (_, rest) = c.split_once("/sw/bin/homelab-activate activate ")?;
                Some(rest.split(' ').next()?.rsplit('-').next()?.to_string())
            })
            .collect()
    }

    /// The hosts `nixos-rebuild` ran for, in order.
    pub fn rebuilt(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| c.starts_with("nixos-rebuild "))
            .filter_map(|c| c.split('#').nth(1)?.split(' ').next().map(String::from))
            .collect()
    }

    /// The host `target` already runs what the fake `nix` builds for `host`.
    pub fn up_to_date(&self, target: &str, host: &str) {
        std::fs::write(
            self.dir.path().join("current").join(target),
            format!("/nix/store/new-nixos-system-{host}\n"),
        )
        .expect("current system");
    }

    /// Runs `homelab --root LAB --inventory LAB/inventory.json deploy ARGS` with the
    /// fakes first on PATH and the health gate's DNS check sent to the loopback server.
    pub fn deploy(&self, lab: &Path, args: &[&str], env: &[(&str, &str)], input: Input) -> Run {
        let dns = self.dns.addr.to_string();
        let mut all = vec!["deploy", "--dns-check-at", &dns];
        all.extend_from_slice(args);
        self.homelab(lab, &all, env, input)
    }

    /// Runs `homelab --root LAB --inventory LAB/inventory.json ARGS` with the fakes
    /// first on PATH.
    pub fn homelab(&self, lab: &Path, args: &[&str], env: &[(&str, &str)], input: Input) -> Run {
        let inventory = lab.join("inventory.json");
        let mut argv: Vec<&str> = vec![
            env!("CARGO_BIN_EXE_homelab"),
            "--root",
            lab.to_str().expect("a UTF-8 path"),
            "--inventory",
            inventory.to_str().expect("a UTF-8 path"),
        ];
        argv.extend_from_slice(args);
        let (mut cmd, stdin) = match input {
            Input::Terminal(typed) => {
                let quoted: Vec<String> = argv.iter().map(|a| format!("'{a}'")).collect();
                let mut script = Command::new("script");
                script
                    .args(["-q", "-e", "-c", &quoted.join(" "), "/dev/null"])
                    .env("SHELL", "/bin/sh");
                (script, typed)
            }
            Input::Piped(piped) => {
                let mut direct = Command::new(argv[0]);
                direct.args(&argv[1..]);
                (direct, piped)
            }
        };
        cmd.current_dir(lab)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
            )
            .env("FAKE_DIR", self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("HOMELAB_ROOT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("running homelab");
        let mut pipe = child.stdin.take().expect("stdin");
        // The program may exit without reading; a broken pipe is then fine.
        let _ = pipe.write_all(stdin.as_bytes());
        drop(pipe);
        let output = child.wait_with_output().expect("waiting for homelab");
        Run {
            command: format!("homelab {}", args.join(" ")),
            dir: lab.to_path_buf(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A lab of four hosts (the control plane `cp` and the workers `w1`..`w3`, listed out
/// of order) and the environment `prod` bound to the context `deploy-prod`. The
/// caller adds releases.
pub fn four_host_lab() -> TestLab {
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
    lab.write("inventory.json", &inventory.to_string()).write(
        "releases/environments.toml",
        "[environments.prod]\ncontext = \"deploy-prod\"\nsecrets = \"secrets/prod.yaml\"\n",
    );
    lab
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The lines of a file the fakes append to; none when it does not exist yet.
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
