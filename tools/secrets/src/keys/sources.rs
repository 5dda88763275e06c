//! Where age identities come from, in sops's order: SSH keys
//! (`SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`),
//! `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, then
//! `$XDG_CONFIG_HOME/sops/age/keys.txt` (or `~/.config/sops/age/keys.txt`).
//!
//! The environment is captured once into [`KeySources`] so that callers and
//! tests decide exactly what is consulted.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::Command;

use zeroize::Zeroizing;

/// The places identities may come from.
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    pub ssh_private_key_file: Option<PathBuf>,
    pub age_key: Option<Zeroizing<String>>,
    pub age_key_file: Option<PathBuf>,
    pub age_key_cmd: Option<String>,
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
}

/// What happened at one location.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub location: String,
    pub outcome: String,
}

/// Loaded identities plus a record of every place looked at.
pub struct Identities {
    pub identities: Vec<Box<dyn age::Identity>>,
    pub attempts: Vec<Attempt>,
}

impl KeySources {
    /// Reads the variables sops reads.
    pub fn from_env() -> Self {
        let path = |name: &str| std::env::var_os(name).map(PathBuf::from);
        KeySources {
            ssh_private_key_file: path("SOPS_AGE_SSH_PRIVATE_KEY_FILE"),
            age_key: std::env::var("SOPS_AGE_KEY").ok().map(Zeroizing::new),
            age_key_file: path("SOPS_AGE_KEY_FILE"),
            age_key_cmd: std::env::var("SOPS_AGE_KEY_CMD").ok(),
            home: path("HOME"),
            xdg_config_home: path("XDG_CONFIG_HOME").filter(|p| p.is_absolute()),
        }
    }

    /// The user's `keys.txt` location.
    pub fn keys_txt(&self) -> Option<PathBuf> {
        self.xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
            .map(|d| d.join("sops").join("age").join("keys.txt"))
    }

    /// Loads every identity it can, recording each location's outcome.
    pub fn load(&self) -> Identities {
        let mut out = Identities {
            identities: Vec::new(),
            attempts: Vec::new(),
        };
        match &self.ssh_private_key_file {
            Some(p) => out.ssh(
                &format!("SOPS_AGE_SSH_PRIVATE_KEY_FILE ({})", p.display()),
                p,
                true,
            ),
            None => out.note("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "not set"),
        }
        if let Some(home) = &self.home {
            for name in ["id_ed25519", "id_rsa"] {
                let p = home.join(".ssh").join(name);
                out.ssh(&p.display().to_string(), &p, false);
            }
        }
        match &self.age_key {
            Some(k) => out.age_text("SOPS_AGE_KEY", k.as_bytes()),
            None => out.note("SOPS_AGE_KEY", "not set"),
        }
        match &self.age_key_file {
            Some(p) => {
                let location = format!("SOPS_AGE_KEY_FILE ({})", p.display());
                match std::fs::read(p) {
                    Ok(bytes) => out.age_text(&location, &Zeroizing::new(bytes)),
                    Err(e) => out.note(&location, &format!("cannot read: {e}")),
                }
            }
            None => out.note("SOPS_AGE_KEY_FILE", "not set"),
        }
        match &self.age_key_cmd {
            Some(cmd) => {
                let location = format!("SOPS_AGE_KEY_CMD ({cmd})");
                let args: Vec<&str> = cmd.split_whitespace().collect();
                match args.split_first() {
                    None => out.note(&location, "empty command"),
                    Some((prog, rest)) => match Command::new(prog).args(rest).output() {
                        Ok(o) if o.status.success() => {
                            out.age_text(&location, &Zeroizing::new(o.stdout))
                        }
                        Ok(o) => out.note(&location, &format!("command failed ({})", o.status)),
                        Err(e) => out.note(&location, &format!("cannot run: {e}")),
                    },
                }
            }
            None => out.note("SOPS_AGE_KEY_CMD", "not set"),
        }
        match self.keys_txt() {
            Some(p) => {
                let location = p.display().to_string();
                match std::fs::read(&p) {
                    Ok(bytes) => out.age_text(&location, &Zeroizing::new(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        out.note(&location, "does not exist")
                    }
                    Err(e) => out.note(&location, &format!("cannot read: {e}")),
                }
            }
            None => out.note(
                "$XDG_CONFIG_HOME/sops/age/keys.txt",
                "neither XDG_CONFIG_HOME nor HOME is set",
            ),
        }
        out
    }
}

impl Identities {
    fn note(&mut self, location: &str, outcome: &str) {
        self.attempts.push(Attempt {
            location: location.to_string(),
            outcome: outcome.to_string(),
        });
    }

    fn age_text(&mut self, location: &str, bytes: &[u8]) {
        match age::IdentityFile::from_buffer(BufReader::new(bytes))
            .map_err(|e| e.to_string())
            .and_then(|f| f.into_identities().map_err(|e| e.to_string()))
        {
            Ok(ids) if ids.is_empty() => self.note(location, "no identities in it"),
            Ok(ids) => {
                let n = ids.len();
                self.identities.extend(ids);
                self.note(
                    location,
                    &format!("{n} identit{}", if n == 1 { "y" } else { "ies" }),
                );
            }
            Err(e) => self.note(location, &format!("not an age identity file: {e}")),
        }
    }

    fn ssh(&mut self, location: &str, path: &std::path::Path, explicit: bool) {
        let bytes = match std::fs::read(path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
                return self.note(location, "does not exist")
            }
            Err(e) => return self.note(location, &format!("cannot read: {e}")),
        };
        match age::ssh::Identity::from_buffer(
            BufReader::new(bytes.as_slice()),
            Some(location.to_string()),
        ) {
            Ok(age::ssh::Identity::Unencrypted(k)) => {
                self.identities
                    .push(Box::new(age::ssh::Identity::Unencrypted(k)));
                self.note(location, "1 SSH identity");
            }
            Ok(age::ssh::Identity::Encrypted(_)) => {
                self.note(location, "passphrase-protected SSH keys are not supported")
            }
            Ok(age::ssh::Identity::Unsupported(_)) => {
                self.note(location, "unsupported SSH key type")
            }
            Err(e) => self.note(location, &format!("not an SSH private key: {e}")),
        }
    }
}
