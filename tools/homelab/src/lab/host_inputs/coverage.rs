//! `homelab check`'s proof that the host inputs list is complete: every path literal
//! in a listed `.nix` file (but `flake.nix`) stays inside the listed paths.

use std::path::Path;

use crate::diagnostic::{Diagnostic, SourceFile, Span};

use super::nix_paths::relative_path_literals;
use super::{load, HostInputs, InputsError, MANIFEST};

/// The problems of a lab's host inputs for `homelab check`: a list that cannot be read,
/// and every path literal in a listed `.nix` file that leaves the list. `flake.nix` is
/// left out: its other outputs (packages, checks) read files no host does. Also gives
/// the inputs it loaded, so the lab keeps them instead of hashing every file again.
pub fn check(root: &Path) -> (Vec<Diagnostic>, Option<HostInputs>) {
    match load(root) {
        Ok(None) => (Vec::new(), None),
        Ok(Some(inputs)) => (check_coverage(root, &inputs), Some(inputs)),
        Err(e) => (vec![as_diagnostic(root, &e)], None),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::host_inputs::tests::lab;

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
        let (problems, _) = check(dir.path());
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
        let (bad, _) = check(dir.path());
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].position(), "nix/host-inputs.json:2:3");
    }
}
