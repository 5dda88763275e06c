//! The git side of revisions: which commit a lab was rendered from (and whether the
//! tree was dirty), and a temporary work tree of a recorded commit for `rollback` and
//! `apply --atomic` to render again.
//!
//! `git` runs only from commands that may change the cluster (`apply`, `deploy`,
//! `rollback`), which run on the operator's own checkout, never from the review
//! commands (`check`, `render`, `diff`, `deploy --plan`). Its arguments are fixed but
//! for the lab root (the user's `-C`), a temporary path homelab made, and a commit id
//! checked to be 40 or 64 hexadecimal digits; `core.fsmonitor` is switched off so a
//! repository's config cannot start a program through it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::revision::Source;

/// Why git could not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("Failed to start `git` (install git, or put it on PATH)")]
    Start(#[source] std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("The recorded commit `{0}` is not a commit id (40 or 64 hexadecimal digits); the revision record was altered")]
    BadCommit(String),
    #[error("Failed to make a temporary folder for the work tree")]
    Temp(#[source] std::io::Error),
}

fn git(root: &Path, args: &[&std::ffi::OsStr]) -> Result<String, GitError> {
    let mut all: Vec<OsString> = vec!["-C".into(), root.into(), "-c".into()];
    all.push("core.fsmonitor=false".into());
    all.extend(args.iter().map(|a| a.to_os_string()));
    let out = Command::new("git")
        .args(&all)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(GitError::Start)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The commit of `HEAD` at `root` and whether anything (tracked or untracked, not
/// ignored) differs from it; no commit outside a git repository or without git.
pub(crate) fn source(root: &Path) -> Source {
    let args = [
        "status",
        "--porcelain=v2",
        "--branch",
        "--untracked-files=normal",
    ]
    .map(std::ffi::OsStr::new);
    let Ok(status) = git(root, &args) else {
        return Source::default();
    };
    parse_status(&status)
}

/// `git status --porcelain=v2 --branch`: `# branch.oid <id>` and one line per change.
fn parse_status(status: &str) -> Source {
    let commit = status
        .lines()
        .find_map(|l| l.strip_prefix("# branch.oid "))
        .map(str::trim)
        .filter(|c| is_commit_id(c))
        .map(str::to_string);
    let dirty = status.lines().any(|l| !l.starts_with('#') && !l.is_empty());
    Source { commit, dirty }
}

fn is_commit_id(c: &str) -> bool {
    matches!(c.len(), 40 | 64) && c.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A detached work tree of one commit in a private temporary folder, removed (from
/// disk and from git's list of work trees) when dropped.
pub(crate) struct Checkout {
    repo: PathBuf,
    tree: PathBuf,
    /// The lab root inside the work tree (the lab may be a sub-folder of the repository).
    pub lab_root: PathBuf,
    _temp: tempfile::TempDir,
}

impl Checkout {
    /// Checks out `commit` of the repository holding `lab_root`.
    pub(crate) fn new(lab_root: &Path, commit: &str) -> Result<Checkout, GitError> {
        if !is_commit_id(commit) {
            return Err(GitError::BadCommit(commit.to_string()));
        }
        let prefix = git(
            lab_root,
            &["rev-parse", "--show-prefix"].map(std::ffi::OsStr::new),
        )?;
        let temp = tempfile::Builder::new()
            .prefix("homelab-revision-")
            .tempdir()
            .map_err(GitError::Temp)?;
        let tree = temp.path().join("tree");
        let args: [&std::ffi::OsStr; 6] = [
            "worktree".as_ref(),
            "add".as_ref(),
            "--detach".as_ref(),
            "--quiet".as_ref(),
            tree.as_os_str(),
            commit.as_ref(),
        ];
        git(lab_root, &args)?;
        Ok(Checkout {
            repo: lab_root.to_path_buf(),
            lab_root: tree.join(prefix.trim()),
            tree,
            _temp: temp,
        })
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let args: [&std::ffi::OsStr; 4] = [
            "worktree".as_ref(),
            "remove".as_ref(),
            "--force".as_ref(),
            self.tree.as_os_str(),
        ];
        // The temporary folder goes with `_temp` either way; a failed removal leaves
        // only a stale entry that `git worktree prune` clears.
        let _ = git(&self.repo, &args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_gives_the_commit_and_dirtiness() {
        let oid = "0123456789abcdef0123456789abcdef01234567";
        let clean = format!("# branch.oid {oid}\n# branch.head main\n");
        assert_eq!(
            parse_status(&clean),
            Source {
                commit: Some(oid.into()),
                dirty: false
            }
        );
        let dirty = format!("{clean}? releases/new/release.toml\n");
        assert!(parse_status(&dirty).dirty);
        assert_eq!(parse_status("# branch.oid (initial)\n").commit, None);
    }

    #[test]
    fn only_commit_ids_are_checked_out() {
        let e = Checkout::new(Path::new("."), "--upload-pack=x")
            .err()
            .unwrap();
        assert!(matches!(e, GitError::BadCommit(_)));
    }
}
