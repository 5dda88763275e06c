//! `secrets edit`: decrypt to a private temporary file on tmpfs, run the
//! editor, re-encrypt only if the text changed (unchanged values keep their
//! ciphertext). The temporary directory is removed on every exit path —
//! errors, panics (by `Drop`) and SIGINT/SIGTERM/SIGHUP (the editor is
//! stopped and the directory removed before returning).
//!
//! Like sops, an edit that no longer parses is not thrown away when someone can
//! be asked: the error is shown and the editor reopens on the same text.

use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crate::document;
use crate::error::{Error, Result};
use crate::format::Format;
use crate::keys::KeySources;
use crate::ops;
use crate::tree::SecretBranches;

/// What `edit` did.
#[derive(Debug, PartialEq, Eq)]
pub enum EditOutcome {
    Unchanged,
    Saved,
}

/// What `edit` does when the edited text does not parse (or is empty).
pub enum OnInvalid {
    /// Fail with the parse error, leaving the file unchanged: nobody to ask.
    Fail,
    /// Write the error and a prompt to `prompt`, then wait for a line on
    /// `answers`: a line reopens the editor on the same text; end of input or a
    /// signal gives up, leaving the file unchanged.
    Ask {
        answers: Box<dyn std::io::Read + Send>,
        prompt: Box<dyn Write>,
    },
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
pub fn edit(
    path: &Path,
    editor: &str,
    keys: &KeySources,
    on_invalid: OnInvalid,
) -> Result<EditOutcome> {
    let format = Format::from_path(path);
    let text = ops::read(path)?;
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
    let original = SecretBranches(branches);
    let signals = Signals::register();
    let mut asker = Asker::new(on_invalid);
    loop {
        run_editor(editor, &tmp, &signals.flag)?;
        let edited =
            zeroize::Zeroizing::new(std::fs::read_to_string(&tmp).map_err(|source| Error::Io {
                action: "read",
                path: tmp.clone(),
                source,
            })?);
        if *edited == *shown {
            return Ok(EditOutcome::Unchanged);
        }
        match ops::reencrypt(&doc, &original.0, &edited, &key, &stash) {
            Ok(None) => return Ok(EditOutcome::Unchanged),
            Ok(Some(out)) => {
                drop(dir);
                ops::write_atomic(path, &out)?;
                return Ok(EditOutcome::Saved);
            }
            Err(e @ (Error::Syntax { .. } | Error::Unsupported(_))) => {
                if !asker.reopen(&e, &signals.flag) {
                    return Err(match signals.flag.load(Ordering::SeqCst) {
                        true => interrupted(),
                        false => e,
                    });
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP set a flag for the whole edit instead of killing
/// the process, so the plaintext copy is always removed.
struct Signals {
    flag: Arc<AtomicBool>,
    ids: Vec<signal_hook::SigId>,
}

impl Signals {
    fn register() -> Signals {
        let flag = Arc::new(AtomicBool::new(false));
        let ids = [
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
        ]
        .into_iter()
        .filter_map(|sig| signal_hook::flag::register(sig, Arc::clone(&flag)).ok())
        .collect();
        Signals { flag, ids }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

/// Asks whether to reopen the editor. Answers are read on a thread so a signal
/// is noticed while waiting.
struct Asker {
    prompt: Option<Box<dyn Write>>,
    pending: Option<Box<dyn std::io::Read + Send>>,
    lines: Option<mpsc::Receiver<bool>>,
}

impl Asker {
    fn new(on_invalid: OnInvalid) -> Asker {
        match on_invalid {
            OnInvalid::Fail => Asker {
                prompt: None,
                pending: None,
                lines: None,
            },
            OnInvalid::Ask { answers, prompt } => Asker {
                prompt: Some(prompt),
                pending: Some(answers),
                lines: None,
            },
        }
    }

    fn reopen(&mut self, error: &Error, signalled: &AtomicBool) -> bool {
        let Some(prompt) = self.prompt.as_mut() else {
            return false;
        };
        let _ = write!(
            prompt,
            "error: {error}\nPress Enter to return to the editor (your changes are kept), or Ctrl-C to discard them: "
        );
        let _ = prompt.flush();
        if let Some(answers) = self.pending.take() {
            let (send, receive) = mpsc::channel();
            std::thread::spawn(move || {
                let mut answers = std::io::BufReader::new(answers);
                loop {
                    let mut line = String::new();
                    let got = matches!(answers.read_line(&mut line), Ok(n) if n > 0);
                    if send.send(got).is_err() || !got {
                        return;
                    }
                }
            });
            self.lines = Some(receive);
        }
        let Some(lines) = &self.lines else {
            return false;
        };
        loop {
            if signalled.load(Ordering::SeqCst) {
                return false;
            }
            match lines.recv_timeout(Duration::from_millis(50)) {
                Ok(answer) => return answer,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }
}

fn interrupted() -> Error {
    Error::Config(
        "Interrupted by a signal; the temporary plaintext was removed and the file left unchanged"
            .into(),
    )
}

fn run_editor(editor: &str, file: &Path, signalled: &AtomicBool) -> Result<()> {
    let mut parts = editor.split_whitespace();
    let program = parts
        .next()
        .ok_or_else(|| Error::Config("The editor command is empty; set $EDITOR".into()))?;
    let mut child = Command::new(program)
        .args(parts)
        .arg(file)
        .spawn()
        .map_err(|e| Error::Config(format!("Cannot start the editor `{editor}`: {e}")))?;
    loop {
        if signalled.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(interrupted());
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
}
