//! `homelab generate`: the generated host configs for the reference lab and a second
//! lab, the real nginx accepting and running every stream config, bad input, and the
//! files on disk (`--check`, atomic writes, obsolete files).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use homelab::generate::{self, files, GeneratedFile, ReleaseInput, StreamOptions, StreamTarget};
use homelab::inventory::{self, Inventory, InventorySource};
use homelab::release::Release;
use serde_json::json;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The reference lab's inventory (through nix-instantiate) and its ingress release.
fn reference() -> (Inventory, Vec<(Release, PathBuf)>) {
    let root = repo_root();
    let loaded = inventory::load(
        &InventorySource::Nix(root.join("hosts/inventory.nix")),
        Path::new("hosts/inventory.nix"),
    )
    .unwrap_or_else(|d| panic!("the reference inventory does not load: {d:?}"));
    let traefik = std::fs::read_to_string(root.join("releases/traefik/release.toml"))
        .expect("releases/traefik/release.toml");
    let traefik: Release = toml::from_str(&traefik).expect("traefik release.toml parses");
    (
        loaded.inventory,
        vec![(traefik, PathBuf::from("releases/traefik/release.toml"))],
    )
}

/// A second lab: another domain and home subdomain, an ingress host with an IPv6
/// Tailscale address, two dns hosts (one with IPv6), a DNS port other than 53, an IPv6
/// upstream, and an entry point without `listen` that the proxy must skip.
fn second_lab_inventory() -> serde_json::Value {
    json!({
        "domain": "example.net",
        "homeSubdomain": "lab",
        "cluster": {
            "name": "second",
            "kubernetesVersion": "1.34.1",
            "lanCidr": "10.20.0.0/24",
            "tailscaleCidr": "100.64.0.0/10",
            "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.96.0.0/16",
            "apiPort": 6443,
            "dnsDomain": "cluster.local",
            "upstreamDns": ["9.9.9.9", "2620:fe::fe"]
        },
        "dns": { "port": 5353, "healthPort": 9053 },
        "hosts": {
            "cp": {
                "system": "x86_64-linux",
                "roles": ["control-plane", "dns"],
                "lanAddress": "10.20.0.2",
                "tailscaleAddress": "100.70.0.2",
                "ssh": "root@cp"
            },
            "edge": {
                "system": "x86_64-linux",
                "roles": ["worker", "ingress", "dns"],
                "lanAddress": "10.20.0.3",
                "tailscaleAddress": "100.70.0.3",
                "tailscaleAddress6": "fd7a:115c:a1e0::3",
                "ssh": "root@edge"
            }
        }
    })
}

const SECOND_LAB_RELEASES: &[(&str, &str)] = &[
    (
        "releases/gateway/release.toml",
        r#"
name = "gateway"
namespace = "gateway"
manifests = ["manifests/app.yaml.hbs"]

[entrypoints.https]
node_port = 31443
listen = 443

[entrypoints.http]
node_port = 31080
listen = 80
"#,
    ),
    (
        "releases/forge/release.toml",
        r#"
name = "forge"
namespace = "forge"
manifests = ["manifests/app.yaml.hbs"]

[entrypoints.ssh]
node_port = 32222
"#,
    ),
];

fn second_lab() -> (Inventory, Vec<(Release, PathBuf)>) {
    let inventory: Inventory = serde_json::from_value(second_lab_inventory()).expect("inventory");
    let releases = SECOND_LAB_RELEASES
        .iter()
        .map(|(path, text)| (toml::from_str(text).expect("release"), PathBuf::from(path)))
        .collect();
    (inventory, releases)
}

fn inputs(releases: &[(Release, PathBuf)]) -> Vec<ReleaseInput<'_>> {
    releases
        .iter()
        .map(|(release, file)| ReleaseInput { release, file })
        .collect()
}

fn plan_of((inventory, releases): &(Inventory, Vec<(Release, PathBuf)>)) -> Vec<GeneratedFile> {
    generate::plan(inventory, &inputs(releases)).expect("plan")
}

fn snapshot_name(prefix: &str, file: &GeneratedFile) -> String {
    let path = file.path.display().to_string();
    format!(
        "{prefix}__{}",
        path.trim_start_matches("generated/hosts/")
            .replace('/', "__")
    )
}

#[test]
fn reference_lab_files() {
    let plan = plan_of(&reference());
    let paths: Vec<String> = plan.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "generated/hosts/hanaakari/nginx-stream.conf",
            "generated/hosts/yomogi/Corefile"
        ]
    );
    for file in &plan {
        insta::assert_snapshot!(snapshot_name("reference", file), file.contents);
    }
}

#[test]
fn second_lab_files() {
    let plan = plan_of(&second_lab());
    let paths: Vec<String> = plan.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "generated/hosts/cp/Corefile",
            "generated/hosts/edge/Corefile",
            "generated/hosts/edge/nginx-stream.conf"
        ]
    );
    for file in &plan {
        insta::assert_snapshot!(snapshot_name("second", file), file.contents);
    }
}

#[test]
fn every_file_starts_with_the_command_that_made_it() {
    for file in plan_of(&reference()).iter().chain(&plan_of(&second_lab())) {
        assert!(
            file.contents
                .starts_with("# Generated by `homelab generate` from hosts/inventory.nix"),
            "{} starts with {:?}",
            file.path.display(),
            file.contents.lines().next()
        );
    }
}

#[test]
fn generate_is_deterministic() {
    assert_eq!(plan_of(&reference()), plan_of(&reference()));
    assert_eq!(plan_of(&second_lab()), plan_of(&second_lab()));
}

// --- bad input ---------------------------------------------------------------

fn error_of(inventory: serde_json::Value, releases: &[(&str, &str)]) -> String {
    let inventory: Inventory = serde_json::from_value(inventory).expect("inventory");
    let releases: Vec<(Release, PathBuf)> = releases
        .iter()
        .map(|(path, text)| (toml::from_str(text).expect("release"), PathBuf::from(path)))
        .collect();
    match generate::plan(&inventory, &inputs(&releases)) {
        Ok(plan) => panic!("expected an error, got {} files", plan.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_ingress_release() {
    insta::assert_snapshot!(error_of(second_lab_inventory(), &[SECOND_LAB_RELEASES[1]]));
}

#[test]
fn entry_points_without_an_ingress_host() {
    let mut inv = second_lab_inventory();
    inv["hosts"]["edge"]["roles"] = json!(["worker"]);
    inv["hosts"]["cp"]["roles"] = json!(["control-plane"]);
    insta::assert_snapshot!(error_of(inv, SECOND_LAB_RELEASES));
}

#[test]
fn node_port_collision() {
    let clash = (
        "releases/forge/release.toml",
        "name = \"forge\"\nnamespace = \"forge\"\nmanifests = [\"manifests/app.yaml.hbs\"]\n\n[entrypoints.ssh]\nnode_port = 31080\n",
    );
    insta::assert_snapshot!(error_of(
        second_lab_inventory(),
        &[SECOND_LAB_RELEASES[0], clash]
    ));
}

#[test]
fn listen_collision() {
    let clash = (
        "releases/forge/release.toml",
        "name = \"forge\"\nnamespace = \"forge\"\nmanifests = [\"manifests/app.yaml.hbs\"]\n\n[entrypoints.web]\nnode_port = 32080\nlisten = 80\n",
    );
    insta::assert_snapshot!(error_of(
        second_lab_inventory(),
        &[SECOND_LAB_RELEASES[0], clash]
    ));
}

#[test]
fn dns_host_without_a_tailscale_address() {
    let mut inv = second_lab_inventory();
    inv["hosts"]["cp"]
        .as_object_mut()
        .unwrap()
        .remove("tailscaleAddress");
    insta::assert_snapshot!(error_of(inv, SECOND_LAB_RELEASES));
}

#[test]
fn ingress_host_without_a_tailscale_address() {
    let mut inv = second_lab_inventory();
    let edge = inv["hosts"]["edge"].as_object_mut().unwrap();
    edge.remove("tailscaleAddress");
    edge.remove("tailscaleAddress6");
    edge.insert("roles".into(), json!(["worker", "ingress"]));
    insta::assert_snapshot!(error_of(inv, SECOND_LAB_RELEASES));
}

#[test]
fn dns_without_an_ingress_host() {
    let mut inv = second_lab_inventory();
    inv["hosts"]["edge"]["roles"] = json!(["worker", "dns"]);
    insta::assert_snapshot!(error_of(inv, &[SECOND_LAB_RELEASES[1]]));
}

#[test]
fn no_upstream_resolvers() {
    let mut inv = second_lab_inventory();
    inv["cluster"]["upstreamDns"] = json!([]);
    insta::assert_snapshot!(error_of(inv, SECOND_LAB_RELEASES));
}

// --- the real nginx ----------------------------------------------------------

/// Debian builds the stream module as a loadable module (`libnginx-mod-stream`);
/// Nix's nginx has it built in. Returns the `load_module` line the wrapper needs.
fn stream_module_line() -> String {
    let out = Command::new("nginx")
        .arg("-V")
        .output()
        .expect("nginx is installed (apt-get install nginx-light libnginx-mod-stream)");
    let info = String::from_utf8_lossy(&out.stderr).into_owned();
    if !info.contains("--with-stream=dynamic") {
        return String::new();
    }
    let modules = info
        .split_whitespace()
        .find_map(|a| a.strip_prefix("--modules-path="))
        .unwrap_or("/usr/lib/nginx/modules");
    let module = Path::new(modules).join("ngx_stream_module.so");
    assert!(
        module.is_file(),
        "{} is missing: apt-get install libnginx-mod-stream",
        module.display()
    );
    format!("load_module {};\n", module.display())
}

/// A minimal nginx.conf around a generated stream block, in `dir`.
pub(crate) fn wrapper(dir: &Path, stream: &Path) -> PathBuf {
    let conf = dir.join("nginx.conf");
    let text = format!(
        "{module}pid {dir}/nginx.pid;\nerror_log {dir}/error.log info;\ndaemon off;\nevents {{}}\nstream {{\n    include {stream};\n}}\n",
        module = stream_module_line(),
        dir = dir.display(),
        stream = stream.display(),
    );
    std::fs::write(&conf, text).expect("write nginx.conf");
    conf
}

pub(crate) fn nginx(dir: &Path, conf: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("nginx");
    cmd.arg("-p").arg(dir).arg("-c").arg(conf).args(args);
    cmd
}

#[test]
fn nginx_accepts_every_stream_config() {
    for lab in [reference(), second_lab()] {
        for file in plan_of(&lab)
            .iter()
            .filter(|f| f.path.ends_with("nginx-stream.conf"))
        {
            let dir = tempfile::tempdir().expect("tempdir");
            let stream = dir.path().join("nginx-stream.conf");
            std::fs::write(&stream, &file.contents).expect("write stream config");
            let conf = wrapper(dir.path(), &stream);
            let out = nginx(dir.path(), &conf, &["-t"])
                .output()
                .expect("run nginx -t");
            assert!(
                out.status.success(),
                "nginx -t refused {}:\n{}\n--- config ---\n{}",
                file.path.display(),
                String::from_utf8_lossy(&out.stderr),
                file.contents
            );
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// An upstream that reads one line per connection, answers `upstream <port>: <line>`
/// and closes, and reports every line it read.
fn spawn_upstream(listener: TcpListener, seen: mpsc::Sender<(u16, Vec<u8>)>) {
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut line = Vec::new();
            let mut reader = BufReader::new(&stream);
            let _ = reader.read_until(b'\n', &mut line);
            let mut reply = format!("upstream {port}: ").into_bytes();
            reply.extend_from_slice(&line);
            let _ = (&stream).write_all(&reply);
            let _ = seen.send((port, line));
        }
    });
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn connect_when_ready(port: u16, nginx: &mut Child, dir: &Path) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
            return stream;
        }
        if let Ok(Some(status)) = nginx.try_wait() {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            panic!("nginx exited with {status} before listening on {port}:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "nginx did not listen on {port} within 10 s"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn nginx_forwards_tcp_both_ways_on_loopback() {
    let (inventory, releases) = second_lab();
    // Each listen port and NodePort remapped to a free loopback port.
    let listen_ports: BTreeMap<u16, u16> = [(80, free_port()), (443, free_port())].into();
    let (tx, rx) = mpsc::channel();
    let mut upstream_ports = BTreeMap::new();
    for node_port in [31080u16, 31443] {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind upstream");
        upstream_ports.insert(node_port, listener.local_addr().expect("addr").port());
        spawn_upstream(listener, tx.clone());
    }
    let options = StreamOptions {
        listen_ports: listen_ports.clone(),
        target: Some(StreamTarget {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: upstream_ports.clone(),
        }),
    };
    let plan = generate::plan_with(&inventory, &inputs(&releases), &options).expect("plan");
    let stream = plan
        .iter()
        .find(|f| f.path.ends_with("nginx-stream.conf"))
        .expect("a stream config");
    // The IPv6 listeners of the real config would need [::] on the test machine.
    let contents: String = stream
        .contents
        .lines()
        .filter(|l| !l.contains("listen [::]"))
        .map(|l| format!("{l}\n"))
        .collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let stream_path = dir.path().join("nginx-stream.conf");
    std::fs::write(&stream_path, contents).expect("write stream config");
    let conf = wrapper(dir.path(), &stream_path);
    let child = nginx(dir.path(), &conf, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");
    let mut nginx = KillOnDrop(child);

    for (listen, node_port) in [(80u16, 31080u16), (443, 31443)] {
        let proxy_port = listen_ports[&listen];
        let mut conn = connect_when_ready(proxy_port, &mut nginx.0, dir.path());
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = format!("hello through {listen}\n");
        // No half-close: nginx's stream proxy ends the session when either side does.
        conn.write_all(request.as_bytes()).expect("send");
        let mut reply = String::new();
        conn.read_to_string(&mut reply).expect("read reply");
        let upstream_port = upstream_ports[&node_port];
        assert_eq!(reply, format!("upstream {upstream_port}: {request}"));
        let (seen_port, seen) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("upstream saw the connection");
        assert_eq!(
            seen_port, upstream_port,
            "port {listen} reached the wrong NodePort"
        );
        assert_eq!(seen, request.as_bytes());
    }
}

// --- the files on disk ---------------------------------------------------------

/// A lab folder the CLI accepts: the second lab, with its inventory as JSON.
fn lab_dir(releases: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("releases")).expect("mkdir");
    std::fs::write(
        root.join("releases/environments.toml"),
        "[environments.prod]\ncontext = \"second-prod\"\nsecrets = \"secrets/prod.yaml\"\n",
    )
    .expect("environments.toml");
    for (path, text) in releases {
        let path = root.join(path);
        let release_dir = path.parent().expect("parent");
        std::fs::create_dir_all(release_dir.join("manifests")).expect("mkdir");
        std::fs::write(&path, text).expect("release.toml");
        std::fs::write(
            release_dir.join("manifests/app.yaml.hbs"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
        )
        .expect("manifest");
    }
    let json = root.join("inventory.json");
    std::fs::write(&json, second_lab_inventory().to_string()).expect("inventory.json");
    (dir, json)
}

fn homelab(root: &Path, inventory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_homelab"))
        .arg("--root")
        .arg(root)
        .arg("--inventory")
        .arg(inventory)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run homelab")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn write_then_check_then_drift() {
    let (dir, json) = lab_dir(SECOND_LAB_RELEASES);
    let root = dir.path();

    let out = homelab(root, &json, &["generate", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("missing: generated/hosts/edge/nginx-stream.conf"));

    let out = homelab(root, &json, &["generate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!("cli_first_write", text(&out.stdout));
    assert_eq!(
        tree(&root.join("generated")),
        [
            "hosts/cp/Corefile",
            "hosts/edge/Corefile",
            "hosts/edge/nginx-stream.conf"
        ],
        "no temporary file is left behind"
    );

    let out = homelab(root, &json, &["generate", "--check"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "generated/ is up to date (3 files)\n");

    // A hand edit and a leftover file are both reported, with a diff.
    let corefile = root.join("generated/hosts/cp/Corefile");
    let edited = std::fs::read_to_string(&corefile)
        .unwrap()
        .replace("cache 30", "cache 300");
    std::fs::write(&corefile, edited).unwrap();
    std::fs::create_dir_all(root.join("generated/hosts/old")).unwrap();
    std::fs::write(
        root.join("generated/hosts/old/Corefile"),
        "# from a host that left\n",
    )
    .unwrap();
    let out = homelab(root, &json, &["generate", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("cli_check_drift_stdout", text(&out.stdout));
    insta::assert_snapshot!("cli_check_drift_stderr", text(&out.stderr));

    let out = homelab(root, &json, &["generate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "updated generated/hosts/cp/Corefile\nremoved generated/hosts/old/Corefile\n"
    );
    assert!(
        !root.join("generated/hosts/old").exists(),
        "the empty host folder is removed"
    );
    assert!(homelab(root, &json, &["generate", "--check"])
        .status
        .success());
}

#[test]
fn an_error_leaves_the_tree_untouched() {
    // The ingress host has nothing to forward: generate must fail before writing
    // anything, although the dns hosts' Corefiles could be made.
    let (dir, json) = lab_dir(&[SECOND_LAB_RELEASES[1]]);
    let root = dir.path();
    let stale = root.join("generated/hosts/cp/Corefile");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "# old\n").unwrap();

    let out = homelab(root, &json, &["generate"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("cli_error_stderr", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&stale).unwrap(), "# old\n");
    assert_eq!(tree(&root.join("generated")), ["hosts/cp/Corefile"]);
}

#[test]
fn check_as_json() {
    let (dir, json) = lab_dir(SECOND_LAB_RELEASES);
    let out = homelab(
        dir.path(),
        &json,
        &["--output", "json", "generate", "--check"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["fresh"], false);
    assert_eq!(v["files"], 3);
    let states: Vec<&str> = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["missing", "missing", "missing"]);
}

#[test]
fn files_check_lists_missing_files_with_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan_of(&second_lab());
    let drift = files::check(dir.path(), &plan).unwrap();
    assert_eq!(drift.len(), plan.len());
    assert!(drift[0]
        .diff()
        .starts_with("--- a/generated/hosts/cp/Corefile\n+++ b/generated/hosts/cp/Corefile\n"));
}

#[test]
fn the_committed_generated_files_are_fresh() {
    let out = Command::new(env!("CARGO_BIN_EXE_homelab"))
        .arg("--root")
        .arg(repo_root())
        .args(["generate", "--check"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run homelab");
    assert!(
        out.status.success(),
        "`homelab generate --check` on the repository:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

mod properties {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;
    use homelab::generate::GenerateError;

    /// The (listen, upstream) pairs of a generated stream config, in file order.
    fn forwarded(stream: &str) -> Vec<(u16, String)> {
        let mut upstreams = BTreeMap::new();
        let mut current = None;
        let mut out = Vec::new();
        for line in stream.lines().map(str::trim) {
            if let Some(name) = line
                .strip_prefix("upstream ")
                .and_then(|l| l.strip_suffix(" {"))
            {
                current = Some(name.to_string());
            } else if let Some(server) = line
                .strip_prefix("server ")
                .and_then(|l| l.strip_suffix(';'))
            {
                upstreams.insert(
                    current.take().expect("server inside upstream"),
                    server.to_string(),
                );
            } else if let Some(port) = line
                .strip_prefix("listen ")
                .and_then(|l| l.strip_suffix(';'))
            {
                if let Ok(port) = port.parse::<u16>() {
                    out.push((port, String::new()));
                }
            } else if let Some(name) = line
                .strip_prefix("proxy_pass ")
                .and_then(|l| l.strip_suffix(';'))
            {
                let last = out.last_mut().expect("proxy_pass after listen");
                last.1 = upstreams[name].clone();
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Any set of entry points either forwards each `listen` port to its own
        /// NodePort on the ingress host, or names the collision or the missing entry
        /// point.
        #[test]
        fn each_listen_port_reaches_its_node_port(
            entries in prop::collection::vec(
                (30000u16..30010, prop::option::of(prop::sample::select(vec![80u16, 443, 8443]))),
                1..6,
            )
        ) {
            let mut text = String::from("name = \"gateway\"\nnamespace = \"gateway\"\n");
            for (i, (node_port, listen)) in entries.iter().enumerate() {
                text.push_str(&format!("[entrypoints.e{i}]\nnode_port = {node_port}\n"));
                if let Some(listen) = listen {
                    text.push_str(&format!("listen = {listen}\n"));
                }
            }
            let inventory: Inventory = serde_json::from_value(second_lab_inventory()).expect("inventory");
            let release: Release = toml::from_str(&text).expect("release");
            let file = PathBuf::from("releases/gateway/release.toml");
            let result = generate::plan(&inventory, &[ReleaseInput { release: &release, file: &file }]);

            let node_ports: BTreeSet<u16> = entries.iter().map(|e| e.0).collect();
            let listens: Vec<u16> = entries.iter().filter_map(|e| e.1).collect();
            let distinct_listens: BTreeSet<u16> = listens.iter().copied().collect();
            let node_port_clash = node_ports.len() < entries.len();
            let listen_clash = distinct_listens.len() < listens.len();
            match result {
                Err(GenerateError::NodePortCollision { .. }) => prop_assert!(node_port_clash),
                Err(GenerateError::ListenCollision { .. }) => prop_assert!(listen_clash),
                Err(GenerateError::MissingIngressRelease { .. }) => prop_assert!(listens.is_empty()),
                Err(other) => prop_assert!(false, "unexpected error: {other}"),
                Ok(plan) => {
                    prop_assert!(!node_port_clash && !listen_clash && !listens.is_empty());
                    let stream = plan.iter().find(|f| f.path.ends_with("nginx-stream.conf")).expect("stream");
                    let mut expected: Vec<(u16, String)> = entries
                        .iter()
                        .filter_map(|(node_port, listen)| listen.map(|l| (l, format!("10.20.0.3:{node_port}"))))
                        .collect();
                    expected.sort();
                    prop_assert_eq!(forwarded(&stream.contents), expected);
                }
            }
        }
    }
}
