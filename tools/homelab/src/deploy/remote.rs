//! Running one deploy command (`nix`, `ssh`, `nixos-rebuild`): its output passed on
//! line by line with the host's name, its stdout kept, its last lines kept for the
//! summary when it fails.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::thread;

/// How many lines of a failed command's output the summary repeats.
const TAIL_LINES: usize = 20;

/// The sink for progress and output lines; shared by the hosts of a stage.
pub(crate) type Log<'a> = &'a (dyn Fn(&str) + Sync);

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub reason: String,
    pub tail: Vec<String>,
    /// `ssh` exits with 255 when the connection itself failed (not the remote command).
    pub connection_lost: bool,
}

/// One command to run.
pub(crate) struct Step<'a> {
    pub program: &'a OsStr,
    pub args: Vec<OsString>,
    /// `NIX_SSHOPTS`, for `nix` and `nixos-rebuild` when the target names a port.
    pub nix_ssh_options: Option<OsString>,
    /// Prefixed to each line of output.
    pub host: &'a str,
    /// Whether stdout lines are shown too (`nix build`'s store path is not).
    pub show_stdout: bool,
}

/// Runs `step` and returns its stdout lines, or why it failed.
pub(crate) fn run(step: Step<'_>, log: Log<'_>) -> Result<Vec<String>, Failure> {
    let shown = step.program.to_string_lossy().into_owned();
    let mut command = Command::new(step.program);
    if let Some(options) = &step.nix_ssh_options {
        command.env("NIX_SSHOPTS", options);
    }
    let child = command
        .args(&step.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.map_err(|e| Failure {
        reason: format!(
            "could not run `{shown}`: {e}; `nix run .#deploy` puts nix, nixos-rebuild and ssh on PATH"
        ),
        tail: Vec::new(),
        connection_lost: false,
    })?;
    let tail = Mutex::new(VecDeque::new());
    let stdout_lines = Mutex::new(Vec::new());
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    thread::scope(|s| {
        let pipes = [
            stdout.map(|p| (Box::new(p) as Box<dyn Read + Send>, true)),
            stderr.map(|p| (Box::new(p) as Box<dyn Read + Send>, false)),
        ];
        for (pipe, is_stdout) in pipes.into_iter().flatten() {
            let (tail, stdout_lines, host) = (&tail, &stdout_lines, step.host);
            let show = !is_stdout || step.show_stdout;
            s.spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { return };
                    if show {
                        log(&format!("[{host}] {line}"));
                        let mut tail = lock(tail);
                        if tail.len() == TAIL_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(line.clone());
                    }
                    if is_stdout {
                        lock(stdout_lines).push(line);
                    }
                }
            });
        }
    });
    let status = child.wait();
    let tail: Vec<String> = into_inner(tail).into();
    match status {
        Ok(status) if status.success() => Ok(into_inner(stdout_lines)),
        Ok(status) => Err(Failure {
            reason: match tail.iter().rfind(|l| !l.trim().is_empty()) {
                Some(last) => format!("`{shown}` {status}: {}", last.trim()),
                None => format!("`{shown}` {status}"),
            },
            tail,
            connection_lost: status.code() == Some(255),
        }),
        Err(e) => Err(Failure {
            reason: format!("waiting for `{shown}` failed: {e}"),
            tail,
            connection_lost: false,
        }),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking log sink must not hide the other hosts' results.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn into_inner<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Step<'static> {
        Step {
            program: OsStr::new("sh"),
            args: vec!["-c".into(), script.into()],
            nix_ssh_options: None,
            host: "h",
            show_stdout: false,
        }
    }

    #[test]
    fn stdout_is_returned_and_stderr_logged() {
        let logged = Mutex::new(Vec::new());
        let log = |l: &str| lock(&logged).push(l.to_string());
        let out = run(sh("echo /nix/store/x; echo note >&2"), &log).expect("runs");
        assert_eq!(out, ["/nix/store/x"]);
        assert_eq!(*lock(&logged), ["[h] note"]);
    }

    #[test]
    fn failure_names_the_last_line_and_a_lost_connection() {
        let err = run(sh("echo 'error: boom' >&2; exit 255"), &|_| {}).unwrap_err();
        assert_eq!(err.reason, "`sh` exit status: 255: error: boom");
        assert!(err.connection_lost);
        let missing = Step {
            program: OsStr::new("/nonexistent/nix"),
            ..sh("")
        };
        let err = run(missing, &|_| {}).unwrap_err();
        assert!(err.reason.starts_with("could not run `/nonexistent/nix`"));
    }
}
