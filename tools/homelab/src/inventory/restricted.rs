//! Evaluating the inventory as untrusted Nix: restricted to the repository, with no
//! network, no search path from the environment, and Nix's own warnings kept apart from
//! its error.
//!
//! Checked against nix 2.8 (Debian's `nix-bin`):
//! - `--option restrict-eval true` refuses reads outside the search path (`-I`), which
//!   holds only the repository, and follows symlinks before it decides ("access to
//!   canonical path … is forbidden"); `builtins.getEnv` yields "".
//! - `--option allowed-uris ''` with restrict-eval refuses every fetch.
//! - NIX_PATH is cleared, so `<nixpkgs>` is not found.
//! - `--option pure-eval true` is not used: in 2.8 it refuses to read the inventory
//!   file itself (a path outside the store), which restrict-eval already confines.
//! - `--option build-users-group ''`: evaluation builds nothing, and a fresh Debian
//!   nix-bin otherwise warns on every run that the `nixbld` group does not exist.
//!
//! Repository data reaches `nix-instantiate` only as option values (`-I`, `--argstr`);
//! the expression itself is a constant.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

/// The `--argstr` carrying the inventory's absolute path into [`super::positions::EXPRESSION`].
pub(super) const PATH_ARGUMENT: &str = "inventoryPath";

/// `nix-instantiate` set up to evaluate `expression` over the file `inventory`, reading
/// nothing outside `root`.
pub(super) fn command(program: &OsStr, root: &Path, inventory: &Path, expression: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env_remove("NIX_PATH")
        .args(["--eval", "--strict", "--json", "--show-trace"])
        .args(["--option", "restrict-eval", "true"])
        .args(["--option", "allowed-uris", ""])
        .args(["--option", "build-users-group", ""])
        .arg("-I")
        .arg(search_path_entry(root))
        .arg("--argstr")
        .arg(PATH_ARGUMENT)
        .arg(inventory)
        .arg("--expr")
        .arg(expression);
    command
}

/// `homelab-lab=<root>`: a named entry, so an `=` inside the path cannot split it.
fn search_path_entry(root: &Path) -> std::ffi::OsString {
    let mut entry = std::ffi::OsString::from("homelab-lab=");
    entry.push(root);
    entry
}

/// Nix's error without its warnings, stack trace and `--show-trace` advice: the lines
/// from the first `error:` up to the trace.
pub(super) fn error_text(stderr: &str) -> String {
    let mut lines = Vec::new();
    for line in stderr.lines().skip_while(|l| !l.starts_with("error:")) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('…') || trimmed.starts_with("at ") {
            break;
        }
        if trimmed.starts_with("(use '--show-trace'") || line.starts_with("warning:") {
            continue;
        }
        lines.push(line.trim_end());
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// What the restriction refused, as a sentence and a hint, when `message` (the text after
/// `error: `) is one of nix's refusals.
pub(super) fn refusal(message: &str) -> Option<(String, &'static str)> {
    let quoted = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        let end = rest.find('\'')?;
        Some(rest[..end].to_string())
    };
    let path = quoted("access to absolute path '").or_else(|| quoted("access to canonical path '"));
    if let Some(path) = path.filter(|_| message.ends_with("forbidden in restricted mode")) {
        return Some((
            format!("the read of {path} was refused because the inventory is evaluated restricted to the repository"),
            "keep every file the inventory reads inside the repository (a symlink counts where it points)",
        ));
    }
    if let Some(uri) = quoted("access to URI '") {
        return Some((
            format!("the fetch of {uri} was refused because the inventory is evaluated restricted to the repository, without network access"),
            "write the data into the repository instead of fetching it",
        ));
    }
    if let Some(name) =
        quoted("file '").filter(|_| message.contains("was not found in the Nix search path"))
    {
        return Some((
            format!("`<{name}>` was refused because the inventory is evaluated restricted to the repository, without NIX_PATH"),
            "the inventory is pure data: import files by relative path (`./hosts.nix`), not from the search path",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_traces_are_left_out() {
        let stderr = "warning: the group 'nixbld' specified in 'build-users-group' does not exist\n\
                      error: undefined variable 'x'\n\n       at /l/hosts/inventory.nix:2:3:\n\n            1| {\n";
        assert_eq!(error_text(stderr), "error: undefined variable 'x'");
        let plain = "error: bad\n(use '--show-trace' to show detailed location information)\n";
        assert_eq!(error_text(plain), "error: bad");
    }

    #[test]
    fn refusals_name_what_was_refused() {
        let (read, _) =
            refusal("access to canonical path '/etc/passwd' is forbidden in restricted mode")
                .unwrap();
        assert_eq!(read, "the read of /etc/passwd was refused because the inventory is evaluated restricted to the repository");
        let (fetch, _) =
            refusal("access to URI 'http://x.invalid/a' is forbidden in restricted mode").unwrap();
        assert!(
            fetch.starts_with("the fetch of http://x.invalid/a was refused"),
            "{fetch}"
        );
        let (search, _) = refusal(
            "file 'nixpkgs' was not found in the Nix search path (add it using $NIX_PATH or -I)",
        )
        .unwrap();
        assert!(search.starts_with("`<nixpkgs>` was refused"), "{search}");
        assert_eq!(refusal("undefined variable 'x'"), None);
    }

    #[test]
    fn repository_paths_are_option_values() {
        let c = command(
            OsStr::new("nix-instantiate"),
            Path::new("/a=b/-lab"),
            Path::new("/a=b/-lab/hosts/inventory.nix"),
            "{ inventoryPath }: 1",
        );
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let at = |flag: &str| args.iter().position(|a| a == flag).unwrap();
        assert_eq!(args[at("-I") + 1], "homelab-lab=/a=b/-lab");
        assert_eq!(args[at("--argstr") + 2], "/a=b/-lab/hosts/inventory.nix");
        assert_eq!(args.last().unwrap(), "{ inventoryPath }: 1");
    }
}
