//! `homelab check` on the valid reference lab: the summary, its JSON form, and the
//! inventory read from JSON instead of Nix.

use crate::support::{repo_root, TestLab};

#[test]
fn summarises_the_reference_lab() {
    let lab = TestLab::reference();
    let run = lab.run(&["check"]);
    run.expect_code(0);
    insta::assert_snapshot!(run.stdout_normalized());
}

#[test]
fn prints_json_on_request() {
    let lab = TestLab::reference();
    let run = lab.run(&["check", "--output", "json"]);
    run.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{run}"));
    insta::assert_json_snapshot!(json);
}

#[test]
fn reads_the_inventory_from_json_without_nix() {
    let lab = TestLab::reference();
    let output = std::process::Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json"])
        .arg(repo_root().join("hosts/inventory.nix"))
        .output()
        .expect("nix-instantiate runs");
    lab.write("inventory.json", &String::from_utf8_lossy(&output.stdout));
    let with_json = lab.run_with(
        &["check", "--inventory", "inventory.json"],
        &[("HOMELAB_NIX_INSTANTIATE", "/nonexistent/nix")],
    );
    with_json.expect_code(0);
    let with_nix = lab.run(&["check"]);
    assert_eq!(
        with_json.stdout, with_nix.stdout,
        "JSON and Nix inventories differ\n{with_json}\n{with_nix}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let lab = TestLab::reference();
    let run = lab.run(&["check", "--no-such-flag"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("unexpected argument '--no-such-flag'"),
        "{run}"
    );
}

#[test]
fn prints_version_and_completions() {
    let lab = TestLab::reference();
    let run = lab.run(&["--version"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        format!("homelab {}\n", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let run = lab.run(&["completions", shell]);
        run.expect_code(0);
        assert!(
            run.stdout.contains("check") && run.stdout.contains("completions"),
            "{run}"
        );
    }
}
