//! A lab repository under review is untrusted: its paths stay inside it, its Nix is
//! evaluated restricted, and a failed release leaves no partial render behind.

use std::os::unix::fs::symlink;

use crate::support::{Run, TestLab};

const INV: &str = "hosts/inventory.nix";

/// A file outside the lab, and the run's stderr with both temporary paths replaced.
struct Outside {
    dir: tempfile::TempDir,
}

impl Outside {
    fn new() -> Outside {
        let dir = tempfile::Builder::new()
            .prefix("homelab-outside-")
            .tempdir()
            .unwrap();
        std::fs::write(
            dir.path().join("passwd"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n",
        )
        .unwrap();
        Outside { dir }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("passwd")
    }

    fn normalize(&self, run: &Run) -> String {
        let canonical = std::fs::canonicalize(self.dir.path()).unwrap();
        run.stderr_normalized()
            .replace(&canonical.display().to_string(), "[OUTSIDE]")
            .replace(&self.dir.path().display().to_string(), "[OUTSIDE]")
    }
}

#[test]
fn a_manifest_symlinked_outside_is_refused() {
    let lab = TestLab::reference();
    let outside = Outside::new();
    lab.remove("releases/minio/manifests/pvc.yaml.hbs");
    symlink(
        outside.file(),
        lab.path().join("releases/minio/manifests/pvc.yaml.hbs"),
    )
    .unwrap();
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!("manifest_symlinked_outside", outside.normalize(&run));
    let render = lab.run(&["render", "-e", "dev", "-l", "name=minio"]);
    render.expect_code(1);
    assert_eq!(render.stdout, "", "{render}");
    assert!(!render.stderr.contains("stolen"), "{render}");
}

#[test]
fn a_manifests_folder_symlinked_outside_is_refused() {
    let lab = TestLab::reference();
    let outside = Outside::new();
    for file in ["pvc", "deployment", "service"] {
        std::fs::copy(
            outside.file(),
            outside.dir.path().join(format!("{file}.yaml.hbs")),
        )
        .unwrap();
    }
    lab.remove("releases/minio/manifests");
    symlink(
        outside.dir.path(),
        lab.path().join("releases/minio/manifests"),
    )
    .unwrap();
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!(
        "manifests_folder_symlinked_outside",
        outside.normalize(&run)
    );
}

#[test]
fn a_release_folder_that_is_a_symlink_is_an_error() {
    let lab = TestLab::reference();
    let elsewhere = tempfile::tempdir().unwrap();
    crate::support::copy_tree(
        &lab.path().join("releases/minio"),
        &elsewhere.path().join("minio2"),
    );
    symlink(
        elsewhere.path().join("minio2"),
        lab.path().join("releases/minio2"),
    )
    .unwrap();
    let run = lab.run(&["check"]);
    run.expect_code(1);
    let stderr = run
        .stderr_normalized()
        .replace(&elsewhere.path().display().to_string(), "[ELSEWHERE]");
    insta::assert_snapshot!("release_folder_symlink", stderr);
}

#[test]
fn the_inventory_cannot_read_outside_the_repository() {
    let lab = TestLab::reference();
    lab.replace(
        INV,
        "domain = \"example.org\";",
        "domain = builtins.readFile /etc/hostname;",
    );
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!("nix_read_refused", run.stderr_normalized());
}

#[test]
fn the_inventory_cannot_fetch_or_use_the_search_path() {
    let lab = TestLab::reference();
    lab.replace(
        INV,
        "domain = \"example.org\";",
        "domain = builtins.readFile (builtins.fetchurl \"http://127.0.0.1:9/x\");",
    );
    let fetch = lab.run(&["check"]);
    fetch.expect_code(1);
    lab.replace(
        INV,
        "builtins.readFile (builtins.fetchurl \"http://127.0.0.1:9/x\")",
        "(import <nixpkgs> {}).lib.version",
    );
    let search = lab.run_with(&["check"], &[("NIX_PATH", "nixpkgs=/")]);
    search.expect_code(1);
    insta::assert_snapshot!(
        "nix_fetch_and_search_path_refused",
        format!(
            "{}{}",
            fetch.stderr_normalized(),
            search.stderr_normalized()
        )
    );
}

#[test]
fn an_inventory_symlinked_outside_is_refused() {
    let lab = TestLab::reference();
    let outside = Outside::new();
    std::fs::copy(lab.path().join(INV), outside.file()).unwrap();
    lab.remove(INV);
    symlink(outside.file(), lab.path().join(INV)).unwrap();
    let run = lab.run(&["check"]);
    run.expect_code(1);
    insta::assert_snapshot!("inventory_symlinked_outside", outside.normalize(&run));
}

/// Nix's own warnings (a fresh Debian nix-bin warns about the `nixbld` group on every
/// run) never reach a diagnostic, whatever the machine's nix.conf says.
#[test]
fn nix_warnings_stay_out_of_diagnostics() {
    let lab = TestLab::reference();
    lab.replace(
        INV,
        "domain = \"example.org\";",
        "domain = builtins.fromJSON \"{\";",
    );
    let conf = tempfile::tempdir().unwrap();
    std::fs::write(
        conf.path().join("nix.conf"),
        "build-users-group = nixbld-does-not-exist\n",
    )
    .unwrap();
    let run = lab.run_with(
        &["check"],
        &[("NIX_CONF_DIR", conf.path().to_str().unwrap())],
    );
    run.expect_code(1);
    assert!(!run.stderr.contains("warning"), "{run}");
    assert!(!run.stderr.contains("show-trace"), "{run}");
}

#[test]
fn shared_files_symlinked_outside_are_refused() {
    let lab = TestLab::reference();
    let outside = Outside::new();
    std::fs::copy(lab.path().join("secrets/dev.yaml"), outside.file()).unwrap();
    lab.remove("secrets/dev.yaml");
    symlink(outside.file(), lab.path().join("secrets/dev.yaml")).unwrap();
    let secrets = lab.run(&["check"]);
    secrets.expect_code(1);
    symlink(outside.file(), lab.path().join("releases/releases.lock")).unwrap();
    let lock = lab.run(&["check"]);
    lock.expect_code(1);
    insta::assert_snapshot!(
        "shared_files_symlinked_outside",
        format!(
            "{}{}",
            outside.normalize(&secrets),
            outside.normalize(&lock)
        )
    );
}
