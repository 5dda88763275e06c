//! A lab in a temporary folder and the `homelab` binary run against it. Failures print
//! the command, the folder and both output streams, so a red test can be read without
//! re-running it.

#![allow(dead_code)] // Each test module uses a different part of the harness.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

mod fake_cluster;
mod fake_hosts;
mod fixtures;
mod registry;
pub mod yaml11;

pub use fake_cluster::FakeCluster;
pub use fake_hosts::{four_host_lab, read_lines, register_nodes, FakeHosts, Input};
pub use fixtures::{chart_lab, fixtures, helm, helm_shim};
pub use registry::OciRegistry;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A copy of a lab that a test may change freely.
pub struct TestLab {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
pub struct Run {
    pub command: String,
    pub dir: PathBuf,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl TestLab {
    /// A copy of the reference lab's inventory, releases and secrets.
    pub fn reference() -> TestLab {
        let lab = TestLab::empty();
        let root = repo_root();
        for part in ["hosts/inventory.nix", "releases", "secrets", ".sops.yaml"] {
            copy_tree(&root.join(part), &lab.path().join(part));
        }
        lab
    }

    /// The reference lab with its host side too: the flake, nix/, modules, hosts and
    /// generated files, as `homelab check` and the Nix checks read them.
    pub fn full_reference() -> TestLab {
        let lab = TestLab::reference();
        let root = repo_root();
        for part in [
            "flake.nix",
            "flake.lock",
            "nix",
            "modules",
            "hosts",
            "generated",
            "checks",
            "Cargo.toml",
            "Cargo.lock",
        ] {
            copy_tree(&root.join(part), &lab.path().join(part));
        }
        // nix/package.nix's source set names tools/; the stand-in nixpkgs only checks it exists.
        lab.write(
            "tools/README.md",
            "The Rust workspace is not copied into test labs.\n",
        );
        lab
    }

    /// An empty folder.
    pub fn empty() -> TestLab {
        TestLab {
            dir: tempfile::Builder::new()
                .prefix("homelab-lab-")
                .tempdir()
                .expect("a temporary folder"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file))
            .unwrap_or_else(|e| panic!("reading {file}: {e}"))
    }

    /// Replaces the one occurrence of `from` in `file`; panics (showing the file) when
    /// `from` is absent, so a stale test cannot pass by changing nothing.
    pub fn replace(&self, file: &str, from: &str, to: &str) -> &TestLab {
        let text = self.read(file);
        assert!(text.contains(from), "`{from}` is not in {file}:\n{text}");
        self.write(file, &text.replacen(from, to, 1))
    }

    pub fn write(&self, file: &str, content: &str) -> &TestLab {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("creating folders");
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("writing {file}: {e}"));
        self
    }

    /// `hosts/inventory.nix` evaluated to JSON by the real `nix-instantiate` (what
    /// `--inventory FILE` reads), with a Nix state folder of its own.
    pub fn evaluated_inventory(&self) -> String {
        let state = tempfile::tempdir().expect("nix state");
        let out = Command::new("nix-instantiate")
            .args(["--eval", "--strict", "--json", "hosts/inventory.nix"])
            .current_dir(self.path())
            .env("NIX_STATE_DIR", state.path())
            .output()
            .expect("running nix-instantiate (apt-get install nix-bin)");
        assert!(
            out.status.success(),
            "nix-instantiate hosts/inventory.nix in {}: {}",
            self.path().display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("nix-instantiate prints UTF-8")
    }

    pub fn remove(&self, file: &str) -> &TestLab {
        let path = self.path().join(file);
        if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .unwrap_or_else(|e| panic!("removing {file}: {e}"));
        self
    }

    /// Runs `homelab ARGS` with this lab as root.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_homelab"));
        command
            .arg("--root")
            .arg(self.path())
            .args(args)
            .current_dir(self.path());
        command.env("NO_COLOR", "1").env_remove("HOMELAB_ROOT");
        for (k, v) in env {
            command.env(k, v);
        }
        let output = command.output().expect("running homelab");
        Run {
            command: format!(
                "homelab --root {} {}",
                self.path().display(),
                args.join(" ")
            ),
            dir: self.path().to_path_buf(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Panics with the whole run unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        self
    }

    /// stderr with the lab's temporary path replaced, for snapshots.
    pub fn stderr_normalized(&self) -> String {
        normalize(&self.stderr, &self.dir)
    }

    pub fn stdout_normalized(&self) -> String {
        normalize(&self.stdout, &self.dir)
    }

    /// The command line with the lab's temporary path replaced, for snapshot metadata.
    pub fn command_normalized(&self) -> String {
        normalize(&self.command, &self.dir)
    }
}

fn normalize(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[LAB]")
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        writeln!(f, "dir: {}", self.dir.display())?;
        writeln!(f, "exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout)?;
        writeln!(f, "--- stderr ---\n{}", self.stderr)
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("creating a folder");
        for entry in std::fs::read_dir(from).expect("reading a folder") {
            let entry = entry.expect("a folder entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("creating a folder");
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
}
