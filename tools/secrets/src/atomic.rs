//! The workspace's one atomic file writer: encrypted files here, and in `homelab`
//! generated configs, `releases.lock`, `release.toml` rewrites, the chart cache,
//! `render --out` and exports. A reader sees the old file or the new one, never a
//! part: the bytes go to a temporary file in the same folder (so the rename cannot
//! cross file systems), are synced, then renamed over the target.
//!
//! It lives in this crate because `homelab` already depends on it; a crate of its
//! own for one function would add a member and a build unit and buy nothing.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating missing parent folders. A file
/// that is replaced keeps its permissions; a new one is private to the user (0600),
/// as a temporary file is created.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn creates_folders_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file.yaml");
        write(&path, b"one\n").unwrap();
        write(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        assert_eq!(names(&dir.path().join("a/b")), ["file.yaml"]);
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions_and_a_new_one_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        std::fs::write(&kept, "old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&kept, b"new").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&kept), 0o640);
        let new = dir.path().join("new");
        write(&new, b"new").unwrap();
        assert_eq!(mode(&new), 0o600);
    }

    #[test]
    fn a_failed_write_names_the_cause_and_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails, the folder stays as it was.
        let target = dir.path().join("folder");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        assert!(write(&target, b"new").is_err());
        assert_eq!(names(dir.path()), ["folder"]);
        assert_eq!(names(&target), ["inside"]);
    }
}
