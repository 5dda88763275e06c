//! The host input digest: one hash over every file a host's NixOS system is built
//! from, so `deploy` can tell that a host already runs what the repository builds
//! without evaluating nixpkgs (the slowest part of a deploy).
//!
//! `nix/host-inputs.json` lists those files and folders, relative to the lab's root.
//! The flake computes the same digest from the same list (`nix/host-inputs.nix`,
//! builtins only) and records it in the system as `/etc/homelab/inputs`
//! (`modules/host-inputs.nix`, whose build hashes a `lib.fileset.toSource` copy again
//! and fails if the two disagree). The host's copy is read back in the SSH round trip
//! that reads its current system (`deploy::probe`). The evaluation itself is not
//! restricted to the listed files (`nix flake check --no-build` cannot import from
//! such a copy; see docs/decisions.md), which is why the coverage check below exists.
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
//! - Symbolic links and special files are refused here and in `nix/host-inputs.nix`
//!   alike: a link could point outside the repository, and Nix 2.8 cannot read a
//!   link's target.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

mod coverage;
mod manifest;
pub mod nix_paths;

pub use coverage::{check, check_coverage};
pub use manifest::parse_manifest;

/// The list of host inputs, relative to the lab's root.
pub const MANIFEST: &str = "nix/host-inputs.json";

/// The store name of the file `/etc/homelab/inputs` links to, before the digest
/// (`modules/host-inputs.nix`).
const STORE_NAME: &str = "homelab-inputs-";

/// The version of the digest's format, its prefix.
const VERSION: &str = "v1-";

/// A host input digest, `v1-` and 64 lowercase hex digits (in JSON, that string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
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
    let digest = InputDigest(format!("{VERSION}{:x}", listing.finalize()));
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
                    // `sha256sum` escapes a name with a backslash or a line break, so
                    // the build's listing (record.sh) could not match.
                    let plain = |n: &&str| !n.chars().any(|c| c.is_control() || c == '\\');
                    let Some(name) = name.to_str().filter(plain) else {
                        return Err(InputsError::Unsupported {
                            path: format!("{rel}/{}", name.to_string_lossy().escape_debug()),
                            what: "has a name that is not UTF-8 or holds a control character or a backslash"
                                .into(),
                            help: "rename it: the digest lists every name on a line of its own, as sha256sum does",
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
        help: "put the file itself in the repository (nix/host-inputs.nix refuses links too)",
    }
}

fn file_sha256(path: &Path, rel: &str) -> Result<String, InputsError> {
    let read = |source| InputsError::Read {
        path: rel.to_string(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(read)?;
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn lab(files: &[(&str, &str)]) -> tempfile::TempDir {
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
        let line = |text: &str, path: &str| format!("{:x}  {path}\n", Sha256::digest(text));
        let listing = [
            line("lock\n", "flake.lock"),
            line("c\n", "modules/a/c.nix"),
            line("b\n", "modules/b.nix"),
        ]
        .concat();
        assert_eq!(
            inputs.digest.as_str(),
            format!("v1-{:x}", Sha256::digest(listing))
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
        let dir = lab(&[(MANIFEST, r#"["hosts"]"#), ("hosts/a\\b.nix", "a")]);
        assert!(load(dir.path())
            .unwrap_err()
            .to_string()
            .contains("a backslash"));
        // A listed path that does not exist (yet) is no input.
        let dir = lab(&[(MANIFEST, r#"["gone", "hosts/x"]"#), ("hosts/a.nix", "a")]);
        let inputs = load(dir.path()).expect("inputs").expect("a list");
        assert!(inputs.files.is_empty(), "{:?}", inputs.files);
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
