//! The fixture charts and labs under `tests/fixtures`, and the helm stand-in that
//! renders them with the real Helm engine.

use std::path::{Path, PathBuf};

use super::{copy_tree, repo_root, TestLab};

/// The helm stand-in on the Helm v4 engine.
pub fn helm_shim() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/helm")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture lab (`tests/fixtures/labs/charts`) beside the reference inventory and
/// secrets, with the fixture charts under `charts/`.
pub fn chart_lab() -> TestLab {
    let lab = TestLab::empty();
    copy_tree(
        &fixtures().join("labs/charts/releases"),
        &lab.path().join("releases"),
    );
    copy_tree(&fixtures().join("charts"), &lab.path().join("charts"));
    let root = repo_root();
    for part in ["hosts/inventory.nix", "secrets", ".sops.yaml"] {
        copy_tree(&root.join(part), &lab.path().join(part));
    }
    lab
}

/// Runs the helm shim (`package`, `repo index`, `push`), panicking with its stderr.
pub fn helm(args: &[&str]) {
    let out = std::process::Command::new(helm_shim())
        .args(args)
        .output()
        .expect("running the helm shim");
    assert!(
        out.status.success(),
        "helm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
