//! `nix/host-inputs.json`: a JSON array of plain relative paths, each refused with its
//! line and column when it could leave the lab.

use super::InputsError;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
