//! `homelab charts` against a Helm repository served on loopback: archives packaged and
//! indexed by the Helm engine (`tests/support/helm package` / `repo index`), locked,
//! pulled into the content-addressed cache, verified, and rendered from there.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::render::run;
use crate::support::{chart_lab, copy_tree, fixtures, helm};
use crate::support::{Run, TestLab};

/// A static file server on 127.0.0.1 serving `root`; it lives as long as the test.
struct Repository {
    url: String,
    root: PathBuf,
}

impl Repository {
    fn start(root: &Path) -> Repository {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = root.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                // Drain the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                let response = match std::fs::read(served.join(&path)) {
                    Ok(body) if !path.contains("..") => {
                        let mut head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        head.extend(body);
                        head
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        Repository {
            url,
            root: root.to_path_buf(),
        }
    }

    /// Packages `chart_dir` with the Helm engine and re-indexes the repository.
    fn publish(&self, chart_dir: &Path) {
        helm(&[
            "package",
            chart_dir.to_str().unwrap(),
            "--destination",
            self.root.to_str().unwrap(),
        ]);
        helm(&[
            "repo",
            "index",
            self.root.to_str().unwrap(),
            "--url",
            &self.url,
        ]);
    }
}

/// The fixture lab plus release `remote`: the webapp chart from the loopback repository.
fn lab_with_repository() -> (TestLab, Repository) {
    let lab = chart_lab();
    let repo = Repository::start(&lab.path().join("repo"));
    std::fs::create_dir_all(lab.path().join("repo")).unwrap();
    repo.publish(&fixtures().join("charts/webapp"));
    lab.write(
        "releases/remote/release.toml",
        &format!(
            "name = \"remote\"\nnamespace = \"remote\"\nvalues = [\"values.yaml\"]\n\n[chart]\nrepository = \"{}\"\nname = \"webapp\"\nversion = \"1.2.3\"\n",
            repo.url
        ),
    );
    lab.write(
        "releases/remote/values.yaml",
        "host: remote.example.org\nsidecar:\n  enabled: false\n",
    );
    (lab, repo)
}

/// Renders release `remote` (webapp from a repository or registry) from the cache,
/// checking that the chart's objects came out.
pub fn render_remote(lab: &TestLab) -> Run {
    let rendered = run(lab, &["render", "-e", "dev", "-l", "name=remote"]);
    rendered.expect_code(0);
    assert!(
        rendered
            .stdout
            .contains("name: remote-webapp\n  namespace: remote\n"),
        "{rendered}"
    );
    rendered
}

fn normalized(text: &str, repo: &Repository) -> String {
    let mut out = text.replace(&repo.url, "http://[REPO]");
    // Archive digests change with the packaging time; keep their shape.
    while let Some(i) = out.find("sha256:") {
        let end = (i + 7 + 64).min(out.len());
        out.replace_range(i..end, "sha256-[DIGEST]");
    }
    out
}

fn cached_archives(lab: &TestLab) -> Vec<PathBuf> {
    let dir = lab.path().join(".cache/charts/sha256");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn lock_pull_then_render_from_the_cache() {
    let (lab, repo) = lab_with_repository();

    let before = run(&lab, &["render", "-e", "dev"]);
    before.expect_code(1);
    assert!(
        before
            .stderr
            .contains("release `remote`: chart webapp 1.2.3")
            && before.stderr.contains("homelab charts lock"),
        "{before}"
    );
    assert_eq!(
        before.stdout, "",
        "nothing renders while a release fails\n{before}"
    );

    run(&lab, &["charts", "lock"]).expect_code(0);
    let lock = lab.read("releases/releases.lock");
    insta::assert_snapshot!("lock_file", normalized(&lock, &repo));

    let unpulled = run(&lab, &["render", "-e", "dev", "-l", "name=remote"]);
    unpulled.expect_code(1);
    insta::assert_snapshot!(
        "render_before_pull",
        normalized(&unpulled.stderr_normalized(), &repo)
    );

    let pulled = run(&lab, &["charts", "pull"]);
    pulled.expect_code(0);
    let archives = cached_archives(&lab);
    assert_eq!(archives.len(), 1, "{pulled}");
    let digest = lock.split("digest = \"sha256:").nth(1).unwrap()[..64].to_string();
    assert_eq!(
        archives[0].file_name().unwrap().to_str().unwrap(),
        format!("{digest}.tgz")
    );
    assert!(run(&lab, &["charts", "pull"])
        .stdout
        .starts_with("cached remote"));

    // Rendering reads only the cache: with the repository gone it still works.
    std::fs::remove_dir_all(&repo.root).unwrap();
    let rendered = render_remote(&lab);
    assert!(
        !rendered.stdout.contains("sidecar"),
        "values reached the chart\n{rendered}"
    );
}

#[test]
fn a_digest_mismatch_is_refused() {
    let (lab, repo) = lab_with_repository();
    run(&lab, &["charts", "lock"]).expect_code(0);
    // The archive changes upstream after locking.
    let archive = repo.root.join("webapp-1.2.3.tgz");
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.push(0);
    std::fs::write(&archive, bytes).unwrap();
    let pulled = run(&lab, &["charts", "pull"]);
    pulled.expect_code(1);
    insta::assert_snapshot!(
        "digest_mismatch",
        normalized(&pulled.stderr_normalized(), &repo)
    );
    assert!(cached_archives(&lab).is_empty(), "nothing enters the cache");
}

#[test]
fn a_corrupt_cache_entry_is_refused() {
    let (lab, _repo) = lab_with_repository();
    run(&lab, &["charts", "lock"]).expect_code(0);
    run(&lab, &["charts", "pull"]).expect_code(0);
    let archive = cached_archives(&lab).remove(0);
    std::fs::write(&archive, b"not a chart").unwrap();
    let rendered = run(&lab, &["render", "-e", "dev", "-l", "name=remote"]);
    rendered.expect_code(1);
    assert!(
        rendered.stderr.contains("does not match its digest")
            && rendered.stderr.contains("homelab charts pull"),
        "{rendered}"
    );
}

#[test]
fn update_moves_a_release_to_a_new_version() {
    let (lab, repo) = lab_with_repository();
    run(&lab, &["charts", "lock"]).expect_code(0);
    let newer = lab.path().join("webapp-1.3.0");
    copy_tree(&fixtures().join("charts/webapp"), &newer.join("webapp"));
    let chart_yaml = newer.join("webapp/Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml)
        .unwrap()
        .replace("version: 1.2.3", "version: 1.3.0");
    std::fs::write(&chart_yaml, text).unwrap();
    repo.publish(&newer.join("webapp"));

    let updated = run(&lab, &["charts", "update", "remote"]);
    updated.expect_code(0);
    assert_eq!(
        updated.stdout,
        "remote: webapp 1.2.3 -> 1.3.0; run `homelab charts pull`\n"
    );
    assert!(lab
        .read("releases/remote/release.toml")
        .contains("version = \"1.3.0\"\n"));
    assert!(lab
        .read("releases/releases.lock")
        .contains("version = \"1.3.0\""));
    run(&lab, &["charts", "pull"]).expect_code(0);
    render_remote(&lab);

    let missing = run(&lab, &["charts", "update", "remote", "--version", "9.9.9"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("has no version 9.9.9") && missing.stderr.contains("1.3.0, 1.2.3"),
        "{missing}"
    );
}
