//! `[[secrets]]` entries point at paths in an environment's SOPS file. SOPS keeps keys in
//! plaintext, so whether each path exists can be checked without any key — in CI, before
//! an apply would fail on a typo.

use std::path::Path;

use homelab_secrets::document::EncryptedDocument;
use homelab_secrets::tree::{Item, Key, Value};
use homelab_secrets::Format;

use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics};
use crate::environment::EnvironmentsFile;
use crate::release::LoadedRelease;
use crate::toml_file::TomlFile;

/// Checks that every secrets file a release uses parses as SOPS and holds every path the
/// release's `[[secrets]]` name. Missing files are reported elsewhere.
pub(super) fn check(
    root: &Path,
    envs: &TomlFile<EnvironmentsFile>,
    releases: &[LoadedRelease],
) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for (env_name, env) in &envs.value.environments {
        let users: Vec<&LoadedRelease> = releases
            .iter()
            .filter(|r| {
                let rel = r.release();
                !rel.secrets.is_empty()
                    && (rel.environments.is_empty() || rel.environments.contains(env_name))
            })
            .collect();
        if users.is_empty() {
            continue;
        }
        let path = root.join(&env.secrets);
        // A file outside the repository is reported (and not read) by the caller.
        let Ok(Some(resolved)) = crate::paths::resolve_in_repository(root, &env.secrets, "") else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(&resolved) else {
            continue;
        };
        let document = match EncryptedDocument::parse(&text, Format::from_path(&path)) {
            Ok(d) => d,
            Err(e) => {
                problems.push(
                    envs.error_at(
                        &format!("environments.{env_name}.secrets"),
                        format!("`{}` is not a valid SOPS file: {e}", env.secrets),
                    )
                    .with_help(format!(
                        "re-create it with `homelab secrets edit {}`",
                        env.secrets
                    )),
                );
                continue;
            }
        };
        let Some(top) = document.branches.first() else {
            continue;
        };
        for release in users {
            for (i, secret) in release.release().secrets.iter().enumerate() {
                // Malformed paths are reported by release validation already.
                for (key, dotted) in secret
                    .data
                    .iter()
                    .filter(|(_, p)| !p.split('.').any(str::is_empty))
                {
                    if let Err(missing) = lookup(top, dotted) {
                        problems.push(missing.into_diagnostic(
                            release,
                            i,
                            key,
                            dotted,
                            &env.secrets,
                            env_name,
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Where a dotted path stopped resolving.
struct Missing {
    /// The path up to and including the missing segment.
    at: String,
    /// Keys present where the segment was looked for.
    siblings: Vec<String>,
    /// Set when the path went through a value that is not a map.
    not_a_map: bool,
}

impl Missing {
    fn into_diagnostic(
        self,
        release: &LoadedRelease,
        index: usize,
        key: &str,
        dotted: &str,
        file: &str,
        env: &str,
    ) -> Diagnostic {
        let field = format!("secrets[{index}].data.{key}");
        let message = if self.not_a_map {
            format!(
                "`{dotted}` goes through `{}`, which is a value, not a map, in {file}",
                self.at
            )
        } else if self.at == dotted {
            format!("`{dotted}` is not in {file} (environment `{env}`)")
        } else {
            format!(
                "`{dotted}` is not in {file} (environment `{env}`): there is no `{}`",
                self.at
            )
        };
        let (parent, last) = self.at.rsplit_once('.').unwrap_or(("", &self.at));
        let help = match did_you_mean(last, self.siblings.iter().map(String::as_str)) {
            _ if self.not_a_map => format!("did you mean `{}`?", self.at),
            Some(best) if parent.is_empty() => format!("did you mean `{best}`?"),
            Some(best) => format!("did you mean `{parent}.{best}`?"),
            None if self.siblings.is_empty() => {
                format!("add it with `homelab secrets edit {file}`")
            }
            None => format!(
                "keys there are `{}`; add it with `homelab secrets edit {file}`",
                self.siblings.join("`, `")
            ),
        };
        release.toml.error_at(&field, message).with_help(help)
    }
}

fn lookup(items: &[Item], dotted: &str) -> Result<(), Missing> {
    let mut items = items;
    let mut walked = Vec::new();
    let segments: Vec<&str> = dotted.split('.').collect();
    for (n, segment) in segments.iter().enumerate() {
        walked.push(*segment);
        let found = items
            .iter()
            .find(|i| matches!(&i.key, Key::Str(k) if k == segment));
        let Some(item) = found else {
            let siblings = items
                .iter()
                .filter_map(|i| match &i.key {
                    Key::Str(k) => Some(k.clone()),
                    Key::Comment(_) => None,
                })
                .collect();
            return Err(Missing {
                at: walked.join("."),
                siblings,
                not_a_map: false,
            });
        };
        if n + 1 < segments.len() {
            match &item.value {
                Value::Map(children) => items = children,
                _ => {
                    return Err(Missing {
                        at: walked.join("."),
                        siblings: Vec::new(),
                        not_a_map: true,
                    })
                }
            }
        }
    }
    Ok(())
}
