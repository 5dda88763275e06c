//! A real OCI registry on loopback: Debian's `docker-registry` (CNCF Distribution),
//! storing into a temporary folder, open, behind htpasswd (Basic) logins, or behind a
//! token service (Bearer, as Docker Hub and ghcr.io: `tests/support/oci-token-server`).
//! Charts reach it the way users push them, through the Helm engine (`helm push`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{helm, TestLab};

/// How the registry lets clients in.
enum Auth {
    Open,
    Htpasswd,
    Token,
}

pub struct OciRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    login: Option<(String, String)>,
    /// The registry, then the token service if any: killed in that order.
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl OciRegistry {
    /// An open registry: anyone may push and pull.
    pub fn start() -> OciRegistry {
        OciRegistry::start_with(Auth::Open, None)
    }

    /// A registry that wants `user`/`password` (HTTP Basic) for every request.
    pub fn start_with_login(user: &str, password: &str) -> OciRegistry {
        OciRegistry::start_with(Auth::Htpasswd, Some((user.into(), password.into())))
    }

    /// A registry behind a token service: `user`/`password` may push and pull
    /// anything; anonymous clients get `pull` on repositories under `public/` only.
    pub fn start_with_token_service(user: &str, password: &str) -> OciRegistry {
        OciRegistry::start_with(Auth::Token, Some((user.into(), password.into())))
    }

    fn start_with(auth: Auth, login: Option<(String, String)>) -> OciRegistry {
        let binary = which("docker-registry").unwrap_or_else(|| {
            panic!("docker-registry is not installed: `apt-get install docker-registry` (.ci/setup does)")
        });
        let dir = tempfile::tempdir().expect("tempdir");
        // Take a free port, then hand it to the registry.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let host = format!("127.0.0.1:{port}");
        let mut children = Vec::new();
        let (user, password) = login.clone().unwrap_or_default();
        let auth = match auth {
            Auth::Open => String::new(),
            Auth::Htpasswd => {
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{}\n", bcrypt(&password)))
                    .expect("htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: homelab-test\n    path: {}\n",
                    htpasswd.display()
                )
            }
            Auth::Token => {
                let (child, realm) = start_token_service(dir.path(), &user, &password);
                children.push(child);
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: homelab-test\n    issuer: homelab-test-issuer\n    rootcertbundle: {}\n",
                    dir.path().join("token-cert.pem").display()
                )
            }
        };
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{auth}",
                dir.path().join("data").display()
            ),
        )
        .expect("registry config");
        let registry = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting docker-registry");
        children.insert(0, registry);
        let registry = OciRegistry {
            host,
            login,
            children,
            dir,
        };
        registry.wait_until_up();
        registry
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(&self.host).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not listen on {} within 20 s",
            self.host
        );
    }

    /// `oci://HOST/PATH`, as release.toml's `repository` names it.
    pub fn url(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }

    /// Packages `chart_dir` with the Helm engine into `lab/dist` and pushes it under
    /// `oci://HOST/PATH`. Returns the archive.
    pub fn push(&self, lab: &TestLab, chart_dir: &Path, path: &str) -> PathBuf {
        let dist = lab.path().join("dist");
        // Each push packages into a fresh folder so the archive found is this chart's.
        let count = std::fs::read_dir(&dist).map_or(0, |d| d.count());
        let out = dist.join(count.to_string());
        std::fs::create_dir_all(&out).expect("dist");
        helm(&[
            "package",
            chart_dir.to_str().expect("utf-8"),
            "--destination",
            out.to_str().expect("utf-8"),
        ]);
        let archive = std::fs::read_dir(&out)
            .expect("dist")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|e| e == "tgz"))
            .expect("a packaged chart");
        let url = self.url(path);
        let mut args = vec![
            "push",
            archive.to_str().expect("utf-8"),
            &url,
            "--plain-http",
        ];
        if let Some((user, password)) = &self.login {
            args.extend(["--username", user, "--password", password]);
        }
        helm(&args);
        archive
    }
}

impl OciRegistry {
    /// The token service's requests so far: `anonymous SCOPE` or `USER SCOPE`.
    pub fn token_requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("token-requests"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn forget_token_requests(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("token-requests"));
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `tests/support/oci-token-server` in `dir`; returns it and its realm URL once
/// its certificate and port are written.
fn start_token_service(dir: &Path, user: &str, password: &str) -> (Child, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/oci-token-server");
    let port_file = dir.join("token-port");
    let mut child = Command::new(script)
        .arg(dir.join("token-cert.pem"))
        .arg(&port_file)
        .arg(dir.join("token-requests"))
        .arg(format!("{user}:{password}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting tests/support/oci-token-server");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(port) = std::fs::read_to_string(&port_file) {
            return (child, format!("http://127.0.0.1:{port}/token"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            use std::io::Read as _;
            let _ = child
                .stderr
                .take()
                .map(|mut e| e.read_to_string(&mut stderr));
            panic!("oci-token-server exited with {status}:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("oci-token-server did not start within 20 s");
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A bcrypt hash for htpasswd, from libxcrypt through Python's `crypt`.
fn bcrypt(password: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-W",
            "ignore",
            "-c",
            "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
            password,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}
