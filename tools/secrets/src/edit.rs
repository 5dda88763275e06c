//! `secrets edit`: decrypt to a private temporary file on tmpfs, run the
//! editor, re-encrypt only if the text changed (unchanged values keep their
//! ciphertext). The temporary directory is removed on every exit path —
//! errors, panics (by `Drop`) and SIGINT/SIGTERM/SIGHUP (the editor is
//! stopped and the directory removed before returning).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::document;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::keys::KeySources;
use crate::ops;

/// What `edit` did.
#[derive(Debug, PartialEq, Eq)]
pub enum EditOutcome {
    Unchanged,
    Saved,
}

/// The private directory: on tmpfs when possible.
fn private_dir() -> Result<tempfile::TempDir> {
    let candidates = [
        std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
        Some(PathBuf::from("/dev/shm")),
    ];
    let base = candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_dir())
        .ok_or_else(|| {
            Error::Config(
                "No tmpfs for the plaintext: neither $XDG_RUNTIME_DIR nor /dev/shm exists".into(),
            )
        })?;
    let dir = tempfile::Builder::new()
        .prefix("homelab-secrets-")
        .tempdir_in(&base)
        .map_err(|source| Error::Io {
            action: "create a private directory in",
            path: base.clone(),
            source,
        })?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).map_err(
        |source| Error::Io {
            action: "restrict",
            path: dir.path().to_path_buf(),
            source,
        },
    )?;
    Ok(dir)
}

/// Opens `editor` (a command line, split on whitespace) on a decrypted copy
/// of `path`, then saves the re-encrypted result if it changed.
pub fn edit(path: &Path, editor: &str, keys: &KeySources) -> Result<EditOutcome> {
    let format = Format::from_path(path);
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let (doc, plain, stash, key) = ops::decrypt_branches(&text, format, keys)?;
    let plain = crate::secret_tree::SecretTree::new(plain);
    let branches = plain.documents().to_vec();
    let dir = private_dir()?;
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "secret".into());
    let tmp = dir.path().join(name);
    let shown = zeroize::Zeroizing::new(document::write_plain(&branches, format)?);
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|source| Error::Io {
                action: "create",
                path: tmp.clone(),
                source,
            })?;
        f.write_all(shown.as_bytes()).map_err(|source| Error::Io {
            action: "write",
            path: tmp.clone(),
            source,
        })?;
    }
    run_editor(editor, &tmp)?;
    let edited =
        zeroize::Zeroizing::new(std::fs::read_to_string(&tmp).map_err(|source| Error::Io {
            action: "read",
            path: tmp.clone(),
            source,
        })?);
    drop(dir);
    if *edited == *shown {
        return Ok(EditOutcome::Unchanged);
    }
    let original = SecretBranches(branches);
    match ops::reencrypt(&doc, &original.0, &edited, &key, &stash)? {
        None => Ok(EditOutcome::Unchanged),
        Some(out) => {
            ops::write_atomic(path, &out)?;
            Ok(EditOutcome::Saved)
        }
    }
}

/// Plaintext branches that are zeroised on drop.
struct SecretBranches(crate::tree::Branches);

impl Drop for SecretBranches {
    fn drop(&mut self) {
        for b in &mut self.0 {
            b.iter_mut().for_each(zeroize::Zeroize::zeroize);
        }
    }
}

fn run_editor(editor: &str, file: &Path) -> Result<()> {
    let mut parts = editor.split_whitespace();
    let program = parts
        .next()
        .ok_or_else(|| Error::Config("The editor command is empty; set $EDITOR".into()))?;
    let signalled = Arc::new(AtomicBool::new(false));
    let mut ids = Vec::new();
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Ok(id) = signal_hook::flag::register(sig, Arc::clone(&signalled)) {
            ids.push(id);
        }
    }
    let result = (|| {
        let mut child = Command::new(program)
            .args(parts)
            .arg(file)
            .spawn()
            .map_err(|e| Error::Config(format!("Cannot start the editor `{editor}`: {e}")))?;
        loop {
            if signalled.load(Ordering::SeqCst) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Config("Interrupted by a signal; the temporary plaintext was removed and the file left unchanged".into()));
            }
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(Error::Config(format!(
                        "The editor exited with {status}; the file was left unchanged"
                    )))
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(Error::Config(format!("Cannot wait for the editor: {e}"))),
            }
        }
    })();
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    result
}
