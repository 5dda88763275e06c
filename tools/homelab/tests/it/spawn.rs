//! Every place a program is started, reviewed: repository data reaches a program only
//! as the value of a named option or after `--`. A new `Command::new` fails this test
//! until it is added to [`REVIEWED`] with the reason it is safe, and the behavioural
//! tests (here, in `identifiers.rs` and beside each call site) feed it a value that
//! starts with `-`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::repo_root;

/// (file under tools/, number of `Command::new` in it, what each gets).
const REVIEWED: &[(&str, usize, &str)] = &[
    (
        "homelab/src/deploy/closures.rs",
        1,
        "`nix build … -- INSTALLABLE`; \
         DEST is a parsed SshTarget, NIX_SSHOPTS holds only `-p PORT`",
    ),
    (
        "homelab/src/deploy/remote.rs",
        1,
        "the deploy steps: `nix build … -- INSTALLABLE`, `nix copy --to ssh://DEST -- STORE`, \
         `ssh … -- DEST [sudo] STORE/sw/bin/homelab-activate activate|confirm|rollback STORE N`, \
         `ssh … -- DEST readlink -f|-m …`, `ssh … -- DEST [sudo] systemctl reboot|poweroff`, \
         `nixos-rebuild switch --flake F#HOST --target-host DEST` (--no-rollback); DEST a \
         parsed SshTarget, HOST a DNS label, STORE a checked store path (SystemPath), N a number",
    ),
    (
        "homelab/src/apply/revision_git.rs",
        1,
        "`git -C ROOT -c core.fsmonitor=false status --porcelain=v2 …`, `rev-parse \
         --show-prefix`, `worktree add --detach --quiet TMP COMMIT`, `worktree remove --force \
         TMP`: ROOT the user's lab root, TMP a folder homelab made, COMMIT checked to be 40 or \
         64 hex digits (a record from the cluster starting with `-` is refused); only from \
         commands that change the cluster",
    ),
    (
        "homelab/src/render/helm.rs",
        1,
        "`helm template --namespace NS --values F --kube-version V --api-versions=A… -- NAME \
         CHART`: NAME and CHART after `--`, NS a DNS label, F a path homelab made, V a semver \
         version, each A one `--api-versions=` argument of the group/version[/Kind] grammar",
    ),
    (
        "homelab/src/inventory/restricted.rs",
        1,
        "`nix-instantiate --eval … --option restrict-eval true -I ROOT --argstr P INVENTORY \
         --expr CONSTANT`: the repository's paths only as option values, the expression fixed",
    ),
    (
        "fake-apiserver/src/apply/builtin.rs",
        1,
        "`python3 -c CONSTANT` to find the kubernetes-validate package; test-only, no data",
    ),
    (
        "secrets/src/edit.rs",
        1,
        "the user's $EDITOR with an absolute temporary path",
    ),
    (
        "secrets/src/keys/sources.rs",
        1,
        "SOPS_AGE_KEY_CMD from the user's environment; no repository data",
    ),
];

fn count_in(dir: &Path, tools: &Path, found: &mut BTreeMap<String, usize>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            count_in(&path, tools, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            let n = text.matches("Command::new(").count();
            if n > 0 {
                let rel = path.strip_prefix(tools).expect("under tools/");
                found.insert(rel.display().to_string(), n);
            }
        }
    }
}

#[test]
fn every_process_spawn_is_reviewed() {
    let tools = repo_root().join("tools");
    let mut found = BTreeMap::new();
    for krate in std::fs::read_dir(&tools).expect("tools/") {
        let src = krate.expect("dir entry").path().join("src");
        if src.is_dir() {
            count_in(&src, &tools, &mut found);
        }
    }
    let reviewed: BTreeMap<String, usize> = REVIEWED
        .iter()
        .map(|(file, n, _)| (file.to_string(), *n))
        .collect();
    assert_eq!(
        found, reviewed,
        "`Command::new` call sites changed (left: the sources, right: REVIEWED in \
         tests/it/spawn.rs); review what each new one passes and add it"
    );
}

/// `helm` gets the release name and chart path after `--`; a name helm would read as an
/// option is refused at load besides, before any render.
#[test]
fn a_release_name_that_is_an_option_never_reaches_helm() {
    let lab = crate::support::TestLab::reference();
    let name = "--kube-context=x";
    let text = lab.read("releases/traefik/release.toml");
    lab.write(
        "releases/traefik/release.toml",
        &text.replace("name = \"traefik\"", &format!("name = \"{name}\"")),
    );
    std::fs::rename(
        lab.path().join("releases/traefik"),
        lab.path().join("releases").join(name),
    )
    .expect("rename the release folder");
    let calls = lab.path().join("helm-calls");
    let shim = lab.path().join("helm");
    std::fs::write(
        &shim,
        format!("#!/bin/sh\necho \"$*\" >> {}\n", calls.display()),
    )
    .expect("helm shim");
    make_executable(&shim);
    let run = lab.run_with(
        &["render", "-e", "dev"],
        &[("HOMELAB_HELM", shim.to_str().expect("utf-8"))],
    );
    assert_ne!(
        run.code,
        Some(0),
        "render accepted the name:\n{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("Release name `--kube-context=x` may contain only"),
        "{}",
        run.stderr
    );
    assert!(
        !calls.exists(),
        "helm ran: {}",
        std::fs::read_to_string(&calls).unwrap_or_default()
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut perms = std::fs::metadata(path).expect("metadata").permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}
