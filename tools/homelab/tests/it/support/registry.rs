//! A real OCI registry on loopback: Debian's `docker-registry` (CNCF Distribution),
//! storing into a temporary folder, optionally behind htpasswd (Basic) logins. Charts
//! reach it the way users push them, through the Helm engine (`helm push`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{helm, TestLab};

pub struct OciRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    login: Option<(String, String)>,
    child: Child,
    _dir: tempfile::TempDir,
}

impl OciRegistry {
    /// An open registry: anyone may push and pull.
    pub fn start() -> OciRegistry {
        OciRegistry::start_with(None)
    }

    /// A registry that wants `user`/`password` for every request.
    pub fn start_with_login(user: &str, password: &str) -> OciRegistry {
        OciRegistry::start_with(Some((user.to_string(), password.to_string())))
    }

    fn start_with(login: Option<(String, String)>) -> OciRegistry {
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
        let auth = match &login {
            Some((user, password)) => {
                let htpasswd = dir.path().join("htpasswd");
                std::fs::write(&htpasswd, format!("{user}:{}\n", bcrypt(password)))
                    .expect("htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: homelab-test\n    path: {}\n",
                    htpasswd.display()
                )
            }
            None => String::new(),
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
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting docker-registry");
        let registry = OciRegistry {
            host,
            login,
            child,
            _dir: dir,
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

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
