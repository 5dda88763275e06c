//! The host side: `homelab check` on hosts/, secrets/hosts/ and .sops.yaml, `homelab
//! host add|remove`, and a second lab — other names, domain, LAN, control plane, two
//! DNS and two storage hosts — taken through host add, check, generate and the Nix
//! checks, none of whose outputs may name the reference lab.

use std::path::Path;
use std::process::Command;

use crate::support::{repo_root, TestLab};

/// The reference lab with everything the flake and the host checks read.
fn full_reference() -> TestLab {
    TestLab::full_reference()
}

#[test]
fn reference_host_side_passes() {
    full_reference().run(&["check"]).expect_code(0);
}

#[test]
fn a_module_reading_outside_the_host_inputs_is_reported() {
    let lab = full_reference();
    let dns = std::fs::read_to_string(lab.path().join("modules/dns.nix")).expect("dns.nix");
    lab.write(
        "modules/dns.nix",
        &dns.replacen(
            "let\n",
            "let\n  motd = builtins.readFile ../docs/motd.txt;\n",
            1,
        ),
    );
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!(run.stderr_normalized());
}

#[test]
fn missing_host_folder_and_orphans_are_reported_with_their_fix() {
    let lab = full_reference();
    lab.remove("hosts/tokiwa");
    std::fs::copy(
        lab.path().join("secrets/hosts/tokiwa.yaml"),
        lab.path().join("secrets/hosts/old.yaml"),
    )
    .expect("copying a secrets file");
    lab.write("hosts/gone/default.nix", "{ }\n");
    let run = lab.run(&["check"]);
    run.expect_code(1);
    for wanted in [
        "Host `tokiwa` has no hosts/tokiwa/default.nix",
        "homelab host add tokiwa",
        "secrets/hosts/old.yaml belongs to no host",
        "hosts/gone/ belongs to no host",
        "homelab host remove gone",
    ] {
        assert!(run.stderr.contains(wanted), "`{wanted}` missing\n{run}");
    }
}

#[test]
fn a_host_file_without_the_hosts_rule_is_reported() {
    let lab = full_reference();
    lab.replace(
        ".sops.yaml",
        "secrets/hosts/tokiwa\\.yaml$",
        "secrets/hosts/other\\.yaml$",
    );
    let run = lab.run(&["check"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("No creation rule for secrets/hosts/tokiwa.yaml"),
        "{run}"
    );
}

const SECOND_LAB: &str = r#"{
  domain = "kusa.example.net";
  homeSubdomain = "in";
  cluster = {
    name = "kusa";
    kubernetesVersion = "1.34.1";
    lanCidr = "10.77.0.0/24";
    tailscaleCidr = "100.64.0.0/10";
    podCidr = "10.200.0.0/16";
    serviceCidr = "10.201.0.0/16";
    apiPort = 8443;
    dnsDomain = "cluster.local";
    upstreamDns = [ "9.9.9.9" ];
  };
  dns = { port = 53; healthPort = 8053; };
  admins.mio.sshKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5P mio@desk" ];
  hosts = {
    sumire = {
      system = "x86_64-linux"; roles = [ "control-plane" "dns" ];
      lanAddress = "10.77.0.5"; tailscaleAddress = "100.77.0.5"; tailscaleAddress6 = "fd7a:115c:a1e0::5";
      labels = { }; taints = [ ]; disks = [ ]; ssh = "root@10.77.0.5";
    };
    kaede = {
      system = "aarch64-linux"; roles = [ "dns" "worker" ];
      lanAddress = "10.77.0.6"; tailscaleAddress = "100.77.0.6"; tailscaleAddress6 = "fd7a:115c:a1e0::6";
      labels = { role = "application"; }; taints = [ ]; disks = [ ]; ssh = "root@10.77.0.6";
    };
    tsubaki = {
      system = "x86_64-linux"; roles = [ "worker" "storage" "ingress" ];
      lanAddress = "10.77.0.7"; tailscaleAddress = "100.77.0.7";
      labels = { role = "application"; }; taints = [ ];
      disks = [ { device = "/dev/disk/by-id/nvme-second-a"; use = "ceph-osd"; } ]; ssh = "root@10.77.0.7";
    };
    nazuna = {
      system = "x86_64-linux"; roles = [ "worker" "storage" ];
      lanAddress = "10.77.0.8"; tailscaleAddress = "100.77.0.8";
      labels = { role = "application"; }; taints = [ ];
      disks = [ { device = "/dev/disk/by-id/nvme-second-b"; use = "ceph-osd"; } ]; ssh = "root@10.77.0.8";
    };
    hinoki = {
      system = "x86_64-linux"; roles = [ "worker" ];
      lanAddress = "10.77.0.9"; tailscaleAddress = "100.77.0.9";
      labels = { role = "application"; }; taints = [ ]; disks = [ ]; ssh = "root@10.77.0.9";
    };
  };
}
"#;

const NEW_HOSTS: [&str; 5] = ["hinoki", "kaede", "nazuna", "sumire", "tsubaki"];
const REFERENCE_NAMES: [&str; 6] = [
    "yomogi",
    "tokiwa",
    "hanaakari",
    "example.org",
    "192.168.10.",
    "100.101.10.",
];

/// Every file under `dir`, with its text (binary files skipped).
fn texts(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            texts(&path, out);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn second_lab_through_host_add_check_generate_and_the_nix_checks() {
    let lab = full_reference();
    // hinoki comes in through `host add`, the others are written in the inventory.
    let hinoki = SECOND_LAB.find("    hinoki = {").expect("hinoki's entry");
    let end = hinoki + SECOND_LAB[hinoki..].find("    };\n").expect("its end") + 7;
    let without = format!("{}{}", &SECOND_LAB[..hinoki], &SECOND_LAB[end..]);
    lab.write("hosts/inventory.nix", &without)
        .remove("generated/hosts");
    let mut outputs = Vec::new();
    for old in ["hanaakari", "tokiwa", "yomogi"] {
        let run = lab.run(&["host", "remove", old]);
        run.expect_code(0);
    }
    for name in NEW_HOSTS {
        let mut args = vec!["host", "add", name];
        if name == "hinoki" {
            args.extend([
                "--lan-address",
                "10.77.0.9",
                "--tailscale-address",
                "100.77.0.9",
                "--ssh-target",
                "root@10.77.0.9",
                "--label",
                "role=application",
            ]);
        }
        let run = lab.run(&args);
        run.expect_code(0);
        assert!(
            run.stdout
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
            "{run}"
        );
        assert!(
            run.stderr.contains(&format!(
                "secrets set --value-stdin secrets/hosts/{name}.yaml"
            )),
            "{run}"
        );
        outputs.push(run.stderr.clone());
        // The private key is printed only: no file in the lab holds it.
        let mut files = Vec::new();
        texts(lab.path(), &mut files);
        assert!(
            !files.iter().any(|(_, t)| t.contains("OPENSSH PRIVATE KEY")),
            "a private key was written"
        );
        if name == "sumire" {
            ssh_keygen_agrees(&run.stdout, &run.stderr);
        }
    }
    let again = lab.run(&["host", "add", "sumire"]);
    again.expect_code(1);
    assert!(again.stderr.contains("never overwrites"), "{again}");

    let check = lab.run(&["check"]);
    check.expect_code(0);
    let generate = lab.run(&["generate"]);
    generate.expect_code(0);
    for dns in ["kaede", "sumire"] {
        assert!(
            lab.path()
                .join(format!("generated/hosts/{dns}/Corefile"))
                .is_file(),
            "{generate}"
        );
    }
    outputs.extend([
        check.stdout.clone(),
        check.stderr.clone(),
        generate.stdout.clone(),
        generate.stderr.clone(),
    ]);

    let flake = Command::new("bash")
        .arg(repo_root().join("checks/flake-eval/run.sh"))
        .arg(lab.path())
        .output()
        .expect("running checks/flake-eval/run.sh (needs nix: apt-get install nix-bin)");
    let flake_out = String::from_utf8_lossy(&flake.stdout).into_owned();
    assert!(
        flake.status.success() && flake_out.contains("(5 NixOS configurations)"),
        "flake-eval failed:\n{flake_out}\n{}",
        String::from_utf8_lossy(&flake.stderr)
    );
    outputs.push(flake_out);

    let agree = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E"])
        .arg("let i = import ./hosts/inventory.nix; hl = import ./nix/lib.nix; in builtins.filter (n: import ./checks/nix-lib/module-secrets.nix i n != hl.hostSecretKeys i n) (builtins.attrNames i.hosts)")
        .current_dir(lab.path())
        .env("NIX_STATE_DIR", lab.path().join(".nix-state"))
        .output()
        .expect("running nix-instantiate (apt-get install nix-bin)");
    assert_eq!(
        String::from_utf8_lossy(&agree.stdout),
        "[]",
        "{}",
        String::from_utf8_lossy(&agree.stderr)
    );

    let mut files = Vec::new();
    for dir in ["generated", "hosts", "secrets/hosts"] {
        texts(&lab.path().join(dir), &mut files);
    }
    files.push((".sops.yaml".into(), lab.read(".sops.yaml")));
    files.extend(
        outputs
            .into_iter()
            .map(|o| ("command output".to_string(), o)),
    );
    for (file, text) in &files {
        for name in REFERENCE_NAMES {
            assert!(
                !text.contains(name),
                "{file} names the reference lab's `{name}`:\n{text}"
            );
        }
    }
}

/// `ssh-keygen -y` reads the printed private key and derives the printed public key.
fn ssh_keygen_agrees(private: &str, stderr: &str) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let key = dir.path().join("key");
    std::fs::write(&key, private).expect("writing the key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = Command::new("ssh-keygen")
        .arg("-y")
        .arg("-f")
        .arg(&key)
        .output()
        .expect("running ssh-keygen (apt-get install openssh-client)");
    let public = String::from_utf8_lossy(&out.stdout);
    let body = public
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        out.status.success() && !body.is_empty(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stderr.contains(&body),
        "printed public key differs from ssh-keygen's {body}\n{stderr}"
    );
}

/// The lines `after` has in place of `before`'s (one edit in the middle).
fn inserted(before: &str, after: &str) -> String {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let head = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let tail = b[head..]
        .iter()
        .rev()
        .zip(a[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    a[head..a.len() - tail].join("\n")
}

#[test]
fn host_add_grows_the_inventory_and_host_remove_takes_it_back() {
    let lab = full_reference();
    let before = lab.read("hosts/inventory.nix");
    let run = lab.run(&[
        "host",
        "add",
        "kiri",
        "--role",
        "worker",
        "--label",
        "role=application",
        "--label",
        "homelab.dev/board=n100",
    ]);
    run.expect_code(0);
    let after = lab.read("hosts/inventory.nix");
    // Everything but the new entry is byte for byte what it was, comments included.
    insta::assert_snapshot!("host_add_inventory_entry", inserted(&before, &after));
    assert!(
        run.stderr
            .contains("hosts/inventory.nix (host `kiri` added)"),
        "{run}"
    );
    assert!(
        run.stderr.contains("lanAddress = \"192.168.10.23\";"),
        "{run}"
    );
    lab.run(&["check"]).expect_code(0);

    let again = lab.run(&["host", "add", "kiri", "--role", "dns"]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("already in hosts/inventory.nix"),
        "{again}"
    );

    let removed = lab.run(&["host", "remove", "kiri"]);
    removed.expect_code(0);
    assert_eq!(lab.read("hosts/inventory.nix"), before, "{removed}");
    assert!(!lab.path().join("hosts/kiri").exists(), "{removed}");
    assert!(!lab.path().join("secrets/hosts/kiri.yaml").exists());
    assert!(!lab.read(".sops.yaml").contains("kiri"), "{removed}");
    lab.run(&["check"]).expect_code(0);
}

/// Every file the host commands may touch, to show that a refusal changed nothing.
fn host_side(lab: &crate::support::TestLab) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in ["hosts", "secrets"] {
        texts(&lab.path().join(dir), &mut files);
    }
    files.push((".sops.yaml".into(), lab.read(".sops.yaml")));
    files.sort();
    files
}

#[test]
fn host_add_refuses_what_it_cannot_place_or_validate_and_writes_nothing() {
    let lab = full_reference();
    lab.replace(
        "hosts/inventory.nix",
        "  hosts = {\n",
        "  hosts = with builtins; {\n",
    );
    let before = host_side(&lab);
    let run = lab.run(&["host", "add", "kiri"]);
    run.expect_code(1);
    for wanted in [
        "hosts/inventory.nix:44:3: cannot add host `kiri` there",
        "not written as `hosts = { … };`",
        "by hand",
    ] {
        assert!(run.stderr.contains(wanted), "`{wanted}` missing\n{run}");
    }
    assert_eq!(host_side(&lab), before);

    let lab = full_reference();
    let before = host_side(&lab);
    let run = lab.run(&["host", "add", "kiri", "--lan-address", "10.9.9.9"]);
    run.expect_code(1);
    for wanted in [
        "With host `kiri` added, the inventory does not pass its checks; nothing was written",
        "10.9.9.9 is outside lanCidr",
    ] {
        assert!(run.stderr.contains(wanted), "`{wanted}` missing\n{run}");
    }
    assert_eq!(host_side(&lab), before);
}

#[test]
fn host_remove_refuses_an_entry_edited_out_of_shape() {
    let lab = full_reference();
    lab.replace(
        "hosts/inventory.nix",
        "      ssh = \"root@tokiwa\";\n    };\n",
        "      ssh = \"root@tokiwa\";\n    }; # the small one\n",
    );
    let before = host_side(&lab);
    let run = lab.run(&["host", "remove", "tokiwa"]);
    run.expect_code(1);
    for wanted in [
        "hosts/inventory.nix:68:5: cannot remove host `tokiwa` there",
        "on lines of its own",
        "`homelab host remove tokiwa` again",
    ] {
        assert!(run.stderr.contains(wanted), "`{wanted}` missing\n{run}");
    }
    assert_eq!(host_side(&lab), before);
}

#[test]
fn an_ipv6_lan_goes_through_check_and_generate() {
    let lab = crate::support::TestLab::reference();
    let inventory = SECOND_LAB
        .replace("10.77.0.0/24", "fd00:77::/64")
        .replace("root@10.77.0.", "root@n")
        .replace("\"10.77.0.", "\"fd00:77::");
    lab.write("hosts/inventory.nix", &inventory);
    lab.run(&["check"]).expect_code(0);
    let generate = lab.run(&["generate"]);
    generate.expect_code(0);
    let stream = lab.read("generated/hosts/tsubaki/nginx-stream.conf");
    assert!(stream.contains("server [fd00:77::7]:"), "{stream}");
    assert!(!stream.contains("10.77.0."), "{stream}");
    for dns in ["kaede", "sumire"] {
        let corefile = lab.read(&format!("generated/hosts/{dns}/Corefile"));
        assert!(corefile.contains("bind 100.77.0."), "{corefile}");
    }
}
