//! Fake `nix`, `nixos-rebuild` and `ssh` programs for the deploy tests, a lab of four
//! hosts for them to act on, and the `homelab deploy` run that puts the fakes first on
//! PATH. Each fake appends its command line to `$FAKE_DIR/calls`; environment knobs
//! make one host fail (`FAKE_FAIL`, `FAKE_BUILD_FAIL`) or unreachable
//! (`FAKE_UNREACHABLE`), and `FAKE_SLEEP` slows `nixos-rebuild` so parallelism shows
//! in `$FAKE_DIR/events`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;

use super::{Run, TestLab};

const NIX: &str = r#"#!/bin/sh
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

const NIXOS_REBUILD: &str = r#"#!/bin/sh
# `nixos-rebuild switch --flake <flake>#<host> --target-host <target>`
host="${3##*#}"
echo "nixos-rebuild $*" >> "$FAKE_DIR/calls"
echo "start $host" >> "$FAKE_DIR/events"
echo "building the system configuration for $host..."
# stdout and stderr are separate pipes: a pause keeps the summary's tail in order.
sleep 0.1
echo "copying closure to $5" >&2
sleep "${FAKE_SLEEP:-0}"
echo "end $host" >> "$FAKE_DIR/events"
if [ "$host" = "${FAKE_FAIL:-}" ]; then
  echo "error: switching $host failed: the unit kubelet.service did not start" >&2
  exit 1
fi
"#;

const SSH: &str = r#"#!/bin/sh
# `ssh [-p PORT] -o BatchMode=yes -o ConnectTimeout=10 -- <target> <command…>`; the
# target must come after `--`, as a real ssh would otherwise read `-o…` in it.
echo "ssh $*" >> "$FAKE_DIR/calls"
while [ $# -gt 0 ] && [ "$1" != "--" ]; do shift; done
if [ $# -eq 0 ]; then
  echo "fake ssh: no -- before the target" >&2
  exit 2
fi
shift
target="$1"
if [ "$target" = "${FAKE_UNREACHABLE:-}" ]; then
  echo "ssh: connect to host $target port 22: Connection refused" >&2
  exit 255
fi
if [ "$2" = readlink ]; then
  if [ -f "$FAKE_DIR/current/$target" ]; then cat "$FAKE_DIR/current/$target"
  else echo "/nix/store/old-nixos-system"; fi
fi
"#;

/// A folder holding the fake programs and what they recorded.
pub struct FakeHosts {
    dir: tempfile::TempDir,
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
        std::fs::create_dir_all(dir.path().join("current")).expect("mkdir");
        FakeHosts { dir }
    }

    /// Every call the fakes received, in order.
    pub fn calls(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("calls"))
    }

    /// `start HOST` and `end HOST` lines from `nixos-rebuild`.
    pub fn events(&self) -> Vec<String> {
        read_lines(&self.dir.path().join("events"))
    }

    pub fn forget_calls(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("calls"));
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
    /// fakes first on PATH.
    pub fn deploy(&self, lab: &Path, args: &[&str], env: &[(&str, &str)], input: Input) -> Run {
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
            command: format!("homelab deploy {}", args.join(" ")),
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
