//! The host input digest: one hash over every file a host's NixOS system is built
//! from, so `deploy` can tell that a host already runs what the repository builds
//! without evaluating nixpkgs (the slowest part of a deploy).
//!
//! `nix/host-inputs.json` lists those files and folders, relative to the lab's root.
//! The flake reads the same list twice: it hands each host's evaluation only those
//! files (`lib.fileset.toSource`), so a module that reads anything else fails to
//! evaluate instead of silently escaping the digest; and it records the digest in the
//! system as `/etc/homelab/inputs` (`hostInputsDigest` in `nix/lib.nix`, computed the
//! same way as here). The host's copy is read back in the SSH round trip that reads its
//! current system (`deploy::probe`).
//!
//! # The digest
//! `v1-` and the sha256 of the lines `<sha256 of the file>  <path>\n` (`sha256sum`'s
//! format), one per regular file under the listed paths, sorted bytewise by path, each
//! file once. `find … -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` gives the
//! same hash by hand.
//!
//! `homelab check` proves the list complete ([`check_coverage`]): every path literal in
//! a listed `.nix` file must stay inside the list, or a host could read a file whose
//! change no deploy would notice.
//!
//! # Caveats
//! - A listed path that does not exist (`generated/hosts` before the first
//!   `homelab generate`) contributes nothing, here, in Nix and in the flake's
//!   `lib.fileset.maybeMissing` alike.
//! - A flake sees only the files git tracks; a file here that git does not track makes
//!   the two digests differ, so the host is evaluated: never skipped wrongly.
//! - Symbolic links and special files are refused here and in `nix/lib.nix` alike: a
//!   link could point outside the repository, and Nix 2.8 cannot read a link's target.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::diagnostic::{Diagnostic, SourceFile, Span};

use super::nix_paths::relative_path_literals;

/// The list of host inputs, relative to the lab's root.
pub const MANIFEST: &str = "nix/host-inputs.json";

/// The store name of the file `/etc/homelab/inputs` links to, before the digest
/// (`modules/host-inputs.nix`).
const STORE_NAME: &str = "homelab-inputs-";

/// The version of the digest's format, its prefix.
const VERSION: &str = "v1-";

/// A host input digest, `v1-` and 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputDigest(String);

impl InputDigest {
    /// The digest in `s`, when `s` is one.
    pub fn parse(s: &str) -> Option<InputDigest> {
        let hex = s.strip_prefix(VERSION)?;
        let lower_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
        (hex.len() == 64 && hex.bytes().all(lower_hex)).then(|| InputDigest(s.to_string()))
    }

    /// The digest a host records, from where `/etc/homelab/inputs` resolves to:
    /// `/nix/store/<32 characters>-homelab-inputs-<digest>`. Anything else (a host
    /// deployed before digests, a path `readlink -m` made up for a missing file) is none.
    pub fn from_store_path(path: &str) -> Option<InputDigest> {
        let name = path.strip_prefix("/nix/store/")?;
        let (hash, rest) = name.split_at_checked(32)?;
        if !hash.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        InputDigest::parse(rest.strip_prefix('-')?.strip_prefix(STORE_NAME)?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for one-line output.
    pub fn short(&self) -> &str {
        &self.0[..VERSION.len() + 12]
    }
}

impl std::fmt::Display for InputDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The digest of a lab's host inputs and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInputs {
    /// The entries of [`MANIFEST`], as written.
    pub entries: Vec<String>,
    /// Every file covered, relative to the root, sorted.
    pub files: Vec<String>,
    pub digest: InputDigest,
}

/// Why the host inputs could not be read or hashed.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    #[error("{MANIFEST}:{line}:{column}: {message}")]
    Manifest {
        line: usize,
        column: usize,
        message: String,
        help: &'static str,
    },
    #[error("{path}: cannot read it: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Unsupported {
        path: String,
        what: String,
        help: &'static str,
    },
}

impl InputsError {
    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            InputsError::Manifest { help, .. } | InputsError::Unsupported { help, .. } => help,
            InputsError::Read { .. } => {
                "restore the file, or take it out of nix/host-inputs.json if the hosts no longer read it"
            }
        }
    }
}

const ENTRY_HELP: &str =
    "list files and folders relative to the lab's root, e.g. [\"flake.lock\", \"hosts\", \"modules\"]";

/// The entries of a [`MANIFEST`] text: a JSON array of relative paths without `.`,
/// `..`, empty parts or control characters.
pub fn parse_manifest(text: &str) -> Result<Vec<String>, InputsError> {
    let entries: Vec<String> = serde_json::from_str(text).map_err(|e| InputsError::Manifest {
        line: e.line().max(1),
        column: e.column().max(1),
        message: format!("expected a JSON array of paths: {e}"),
        help: ENTRY_HELP,
    })?;
    for entry in &entries {
        if let Some(problem) = entry_problem(entry) {
            let (line, column) = position_of(text, entry);
            return Err(InputsError::Manifest {
                line,
                column,
                message: format!("`{}` {problem}", entry.escape_debug()),
                help: ENTRY_HELP,
            });
        }
    }
    Ok(entries)
}

/// The problems of a lab's host inputs for `homelab check`: a list that cannot be read,
/// and every path literal in a listed `.nix` file that leaves the list. `flake.nix` is
/// left out: its other outputs (packages, checks) read files no host does.
pub fn check(root: &Path) -> Vec<Diagnostic> {
    match load(root) {
        Ok(None) => Vec::new(),
        Ok(Some(inputs)) => check_coverage(root, &inputs),
        Err(e) => vec![as_diagnostic(root, &e)],
    }
}

fn as_diagnostic(root: &Path, e: &InputsError) -> Diagnostic {
    let located = match e {
        InputsError::Manifest {
            line,
            column,
            message,
            ..
        } => std::fs::read_to_string(root.join(MANIFEST))
            .ok()
            .map(|text| {
                let file = SourceFile::new(MANIFEST, text);
                let at = file.offset_of(*line, *column);
                Diagnostic::at(&file, Span::new(at, at), message.clone())
            }),
        InputsError::Read { path, source } => Some(Diagnostic::in_file(
            path,
            format!("Cannot read this host input (listed in {MANIFEST}): {source}"),
        )),
        InputsError::Unsupported { path, what, .. } => Some(Diagnostic::in_file(
            path,
            format!("This host input (listed in {MANIFEST}) {what}"),
        )),
    };
    located
        .unwrap_or_else(|| Diagnostic::in_file(MANIFEST, e.to_string()))
        .with_help(e.help())
}

/// Every path literal of the listed `.nix` files (but `flake.nix`) that points outside
/// the listed paths.
pub fn check_coverage(root: &Path, inputs: &HostInputs) -> Vec<Diagnostic> {
    let covered = |path: &str| {
        inputs.entries.iter().any(|e| {
            path == e
                || path
                    .strip_prefix(e.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    };
    let mut problems = Vec::new();
    for rel in inputs
        .files
        .iter()
        .filter(|f| f.ends_with(".nix") && *f != "flake.nix")
    {
        let Ok(text) = std::fs::read_to_string(root.join(rel)) else {
            continue;
        };
        let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
        let file = SourceFile::new(rel.as_str(), text);
        for (span, literal) in relative_path_literals(file.text()) {
            let resolved = resolve(dir, &literal);
            let (label, help) = match &resolved {
                Some(path) if covered(path) => continue,
                Some(path) if path.is_empty() => (
                    "the whole lab".to_string(),
                    "read the files it needs by their own paths".to_string(),
                ),
                Some(path) => (
                    format!("resolves to {path}"),
                    format!("add \"{path}\" to {MANIFEST}, so a change to it redeploys the hosts"),
                ),
                None => (
                    "outside the lab".to_string(),
                    "keep what hosts read inside the repository".to_string(),
                ),
            };
            problems.push(
                Diagnostic::at(
                    &file,
                    span,
                    format!(
                        "`{literal}` is not a host input: deploy would not notice when it changes"
                    ),
                )
                .with_label(label)
                .with_help(help),
            );
        }
    }
    problems
}

/// `literal` seen from the folder `dir` (both relative to the root), `..` applied;
/// `None` when it leaves the root.
fn resolve(dir: &str, literal: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in literal.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(parts.join("/"))
}

fn entry_problem(entry: &str) -> Option<&'static str> {
    if entry.is_empty() {
        return Some("is empty");
    }
    if entry.starts_with('/') {
        return Some("is absolute; host inputs are inside the lab");
    }
    if entry.chars().any(|c| c.is_control() || c == '\\') {
        return Some("holds a control character or a backslash");
    }
    if entry
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Some("has an empty, `.` or `..` part; write the path plainly, inside the lab");
    }
    None
}

/// Line and column (1-based) of `entry`'s string in the manifest text.
fn position_of(text: &str, entry: &str) -> (usize, usize) {
    let quoted = serde_json::to_string(entry).unwrap_or_default();
    let offset = text.find(&quoted).unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The lab's host inputs and their digest; `None` when the lab has no [`MANIFEST`]
/// (every deploy then evaluates every host).
pub fn load(root: &Path) -> Result<Option<HostInputs>, InputsError> {
    let text = match std::fs::read_to_string(root.join(MANIFEST)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(InputsError::Read {
                path: MANIFEST.into(),
                source,
            })
        }
    };
    let entries = parse_manifest(&text)?;
    let mut files = Vec::new();
    for entry in &entries {
        collect(root, entry, &mut files)?;
    }
    files.sort();
    files.dedup();
    let mut listing = Sha256::new();
    for file in &files {
        let hash = file_sha256(&root.join(file), file)?;
        listing.update(format!("{hash}  {file}\n"));
    }
    let digest = InputDigest(format!("{VERSION}{}", hex(&listing.finalize())));
    Ok(Some(HostInputs {
        entries,
        files,
        digest,
    }))
}

/// Adds every regular file at or under `entry` to `files`; no link is followed, and an
/// entry that does not exist adds nothing.
fn collect(root: &Path, entry: &str, files: &mut Vec<String>) -> Result<(), InputsError> {
    // Every part of the entry itself must be a real folder, not a link out of the lab.
    let mut at = PathBuf::from(root);
    let parts: Vec<&str> = entry.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        if is_missing(&at) {
            return Ok(());
        }
        let kind = kind_of(&at, &parts[..=i].join("/"))?;
        if i + 1 < parts.len() && kind != Kind::Folder {
            return Err(unsupported(&parts[..=i].join("/"), kind));
        }
    }
    let mut stack = vec![entry.to_string()];
    while let Some(rel) = stack.pop() {
        let path = root.join(&rel);
        match kind_of(&path, &rel)? {
            Kind::File => files.push(rel),
            Kind::Folder => {
                let read = |source| InputsError::Read {
                    path: rel.clone(),
                    source,
                };
                for child in std::fs::read_dir(&path).map_err(read)? {
                    let name = child.map_err(read)?.file_name();
                    let Some(name) = name.to_str().filter(|n| !n.chars().any(char::is_control))
                    else {
                        return Err(InputsError::Unsupported {
                            path: format!("{rel}/{}", name.to_string_lossy().escape_debug()),
                            what: "has a name that is not UTF-8 or holds a control character"
                                .into(),
                            help: "rename it: the digest lists every name on a line of its own",
                        });
                    };
                    stack.push(format!("{rel}/{name}"));
                }
            }
            other => return Err(unsupported(&rel, other)),
        }
    }
    Ok(())
}

fn is_missing(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Folder,
    Link,
    Special,
}

fn kind_of(path: &Path, rel: &str) -> Result<Kind, InputsError> {
    let meta = std::fs::symlink_metadata(path).map_err(|source| InputsError::Read {
        path: rel.to_string(),
        source,
    })?;
    let t = meta.file_type();
    Ok(if t.is_symlink() {
        Kind::Link
    } else if t.is_dir() {
        Kind::Folder
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Special
    })
}

fn unsupported(rel: &str, kind: Kind) -> InputsError {
    let what = match kind {
        Kind::Link => "is a symbolic link; host inputs are regular files and folders",
        Kind::File => "is a file where a folder is expected",
        Kind::Folder | Kind::Special => "is neither a regular file nor a folder",
    };
    InputsError::Unsupported {
        path: rel.to_string(),
        what: what.into(),
        help: "put the file itself in the repository (nix/lib.nix refuses links too)",
    }
}

fn file_sha256(path: &Path, rel: &str) -> Result<String, InputsError> {
    let read = |source| InputsError::Read {
        path: rel.to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    fn digest(dir: &Path) -> InputDigest {
        load(dir).expect("inputs").expect("a manifest").digest
    }

    #[test]
    fn sha256sum_format_sorted_and_deduplicated() {
        let dir = lab(&[
            (MANIFEST, r#"["modules", "flake.lock", "modules/b.nix"]"#),
            ("flake.lock", "lock\n"),
            ("modules/b.nix", "b\n"),
            ("modules/a/c.nix", "c\n"),
            ("README.md", "outside\n"),
        ]);
        let inputs = load(dir.path()).expect("inputs").expect("a manifest");
        assert_eq!(
            inputs.files,
            ["flake.lock", "modules/a/c.nix", "modules/b.nix"]
        );
        // By hand: the sha256sum lines of the three files, hashed.
        let line = |text: &str, path: &str| format!("{}  {path}\n", hex(&Sha256::digest(text)));
        let listing = [
            line("lock\n", "flake.lock"),
            line("c\n", "modules/a/c.nix"),
            line("b\n", "modules/b.nix"),
        ]
        .concat();
        assert_eq!(
            inputs.digest.as_str(),
            format!("v1-{}", hex(&Sha256::digest(listing)))
        );
    }

    #[test]
    fn a_change_inside_changes_it_and_outside_does_not() {
        let dir = lab(&[
            (MANIFEST, r#"["hosts"]"#),
            ("hosts/a.nix", "a"),
            ("docs/x.md", "x"),
        ]);
        let before = digest(dir.path());
        std::fs::write(dir.path().join("docs/x.md"), "y").expect("write");
        assert_eq!(digest(dir.path()), before);
        std::fs::write(dir.path().join("hosts/a.nix"), "b").expect("write");
        let edited = digest(dir.path());
        assert_ne!(edited, before);
        // A renamed file with the same content is a different input too.
        std::fs::rename(
            dir.path().join("hosts/a.nix"),
            dir.path().join("hosts/c.nix"),
        )
        .expect("rename");
        assert_ne!(digest(dir.path()), edited);
    }

    #[test]
    fn no_manifest_is_no_digest() {
        let dir = lab(&[("hosts/a.nix", "a")]);
        assert!(load(dir.path()).expect("no error").is_none());
    }

    #[test]
    fn bad_entries_are_located() {
        let err = parse_manifest("[\n  \"hosts\",\n  \"../etc\"\n]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "nix/host-inputs.json:3:3: `../etc` has an empty, `.` or `..` part; write the path plainly, inside the lab"
        );
        for bad in ["/etc", "", "a//b", "./a", "a\nb"] {
            let text = serde_json::to_string(&[bad]).expect("json");
            assert!(parse_manifest(&text).is_err(), "{bad:?}");
        }
        let err = parse_manifest("{\"hosts\": 1}").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("nix/host-inputs.json:1:1: expected a JSON array"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_and_missing_entries_are_refused() {
        let dir = lab(&[(MANIFEST, r#"["hosts"]"#), ("hosts/a.nix", "a")]);
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("hosts/p")).expect("link");
        let err = load(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hosts/p: is a symbolic link; host inputs are regular files and folders"
        );
        let dir = lab(&[(MANIFEST, r#"["out/x"]"#)]);
        std::os::unix::fs::symlink("/etc", dir.path().join("out")).expect("link");
        assert!(load(dir.path())
            .unwrap_err()
            .to_string()
            .starts_with("out: is a symbolic link"));
        // A listed path that does not exist (yet) is no input.
        let dir = lab(&[(MANIFEST, r#"["gone", "hosts/x"]"#), ("hosts/a.nix", "a")]);
        let inputs = load(dir.path()).expect("inputs").expect("a list");
        assert!(inputs.files.is_empty(), "{:?}", inputs.files);
    }

    #[test]
    fn path_literals_must_stay_inside_the_list() {
        let dir = lab(&[
            (MANIFEST, r#"["modules", "nix/lib.nix", "generated/hosts"]"#),
            (
                "modules/dns.nix",
                "{ c = ../generated/hosts + \"/x\"; l = import ../nix/lib.nix; s = ./dns/a.sh; }",
            ),
            ("modules/dns/a.sh", ""),
            (
                "nix/lib.nix",
                "{ r = ../README.md; n = ./other.nix; up = ../../x; all = ../.; }",
            ),
            ("generated/hosts/x", ""),
        ]);
        let problems = check(dir.path());
        let shown: Vec<String> = problems
            .iter()
            .map(|d| {
                format!(
                    "{}: {} ({})",
                    d.position(),
                    d.message,
                    d.label.clone().unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "nix/lib.nix:1:7: `../README.md` is not a host input: deploy would not notice when it changes (resolves to README.md)",
                "nix/lib.nix:1:25: `./other.nix` is not a host input: deploy would not notice when it changes (resolves to nix/other.nix)",
                "nix/lib.nix:1:43: `../../x` is not a host input: deploy would not notice when it changes (outside the lab)",
                "nix/lib.nix:1:58: `../.` is not a host input: deploy would not notice when it changes (the whole lab)",
            ]
        );
        let dir = lab(&[(MANIFEST, "[\n  \"/etc\"\n]")]);
        let bad = check(dir.path());
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].position(), "nix/host-inputs.json:2:3");
    }

    #[test]
    fn the_host_copy_is_read_from_its_store_name() {
        let digest = format!("v1-{}", "0123456789abcdef".repeat(4));
        let path = format!("/nix/store/{}-homelab-inputs-{digest}", "a".repeat(32));
        assert_eq!(
            InputDigest::from_store_path(&path).map(|d| d.0),
            Some(digest.clone())
        );
        assert_eq!(
            InputDigest::parse(&digest).expect("digest").short(),
            "v1-0123456789ab"
        );
        for other in [
            "/nix/store/aaaa-etc/etc/homelab/inputs".to_string(),
            format!("/nix/store/{}-homelab-inputs-v1-ABC", "a".repeat(32)),
            format!("/nix/store/{}-homelab-inputs-{}x", "a".repeat(32), digest),
            "/nix/store/ä".into(),
            String::new(),
        ] {
            assert_eq!(InputDigest::from_store_path(&other), None, "{other}");
        }
    }
}
