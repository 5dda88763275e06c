//! The host side of a lab that builds its hosts with `flake.nix`: every inventory host
//! has the folder the flake imports, a SOPS file holding exactly the keys its roles'
//! modules read, and a `.sops.yaml` rule giving it a recipient of its own; folders and
//! files of hosts no longer in the inventory are reported; the host inputs list is
//! complete (`host_inputs::check`). All of it is checked without
//! any key: SOPS keeps key names and recipients in plaintext.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use homelab_secrets::document::EncryptedDocument;
use homelab_secrets::tree::{Item, Key, Value};
use homelab_secrets::Format;
use serde::Deserialize;

use super::host_inputs::HostInputs;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::inventory::{Host, Inventory, Role};

/// Which keys each host's SOPS file holds; `nix/lib.nix` reads the same file.
pub(crate) const HOST_SECRETS_SPEC: &str = "nix/host-secrets.json";
/// The flake whose presence says the lab builds NixOS hosts.
pub(crate) const FLAKE: &str = "flake.nix";
pub(crate) const SOPS_CONFIG: &str = ".sops.yaml";

/// `hosts/<name>/default.nix`, the module `flake.nix` imports for a host.
pub(crate) fn host_module(name: &str) -> String {
    format!("hosts/{name}/default.nix")
}

/// `secrets/hosts/<name>.yaml`, the file `modules/base.nix` points sops-nix at.
pub(crate) fn host_secrets_file(name: &str) -> String {
    format!("secrets/hosts/{name}.yaml")
}

/// `nix/host-secrets.json`: secret id → the key path and which hosts read it.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub(crate) struct HostSecretSpec(BTreeMap<String, SpecEntry>);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecEntry {
    /// A `/`-separated key path; `{admin}` makes one key per admin.
    key: String,
    hosts: Applies,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Applies {
    EveryHost,
    KubernetesNodes,
}

impl HostSecretSpec {
    pub(crate) fn load(root: &Path) -> Result<HostSecretSpec, Diagnostic> {
        let path = root.join(HOST_SECRETS_SPEC);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostic::in_file(
                HOST_SECRETS_SPEC,
                format!("Cannot read the host secrets list: {e}"),
            )
            .with_help("restore it from the repository; nix/lib.nix reads it too")
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Diagnostic::in_file(
                HOST_SECRETS_SPEC,
                format!("Invalid host secrets list at line {}, column {}: {e}", e.line(), e.column()),
            )
            .with_help("each entry is {\"key\": \"a/b\", \"hosts\": \"every-host\" | \"kubernetes-nodes\"}")
        })
    }

    /// The key paths (`a/b/c`) a host's SOPS file must hold, sorted.
    pub(crate) fn keys_for(&self, inventory: &Inventory, host: &Host) -> Vec<String> {
        let node = host.has_role(Role::ControlPlane) || host.has_role(Role::Worker);
        let mut keys = BTreeSet::new();
        for entry in self.0.values() {
            if matches!(entry.hosts, Applies::KubernetesNodes) && !node {
                continue;
            }
            if entry.key.contains("{admin}") {
                keys.extend(
                    inventory
                        .admins
                        .keys()
                        .map(|a| entry.key.replace("{admin}", a)),
                );
            } else {
                keys.insert(entry.key.clone());
            }
        }
        keys.into_iter().collect()
    }
}

/// Every problem of the host side, and the host inputs read on the way; nothing when
/// the lab has no `flake.nix`.
pub(crate) fn check(root: &Path, inventory: &Inventory) -> (Diagnostics, Option<HostInputs>) {
    let mut problems = Diagnostics::default();
    if !root.join(FLAKE).is_file() {
        return (problems, None);
    }
    let spec = match HostSecretSpec::load(root) {
        Ok(spec) => Some(spec),
        Err(d) => {
            problems.push(d);
            None
        }
    };
    let (input_problems, inputs) = super::host_inputs::check(root);
    problems.extend(Diagnostics(input_problems));
    let recipients = RuleRecipients::read(root, inventory);
    for (name, host) in &inventory.hosts {
        if !root.join(host_module(name)).is_file() {
            problems.push(
                Diagnostic::in_file(
                    host_module(name),
                    format!(
                        "Host `{name}` has no {}, which flake.nix imports",
                        host_module(name)
                    ),
                )
                .with_help(format!("create it with `homelab host add {name}`")),
            );
        }
        let file = host_secrets_file(name);
        if !root.join(&file).is_file() {
            problems.push(
                Diagnostic::in_file(
                    &file,
                    format!("Host `{name}` has no secrets file {file}, which sops-nix reads"),
                )
                .with_help(format!("create it with `homelab host add {name}`")),
            );
        } else if let Some(spec) = &spec {
            let wanted = spec.keys_for(inventory, host);
            problems.extend(check_secrets_file(
                root,
                name,
                &wanted,
                recipients.own(name),
            ));
        }
    }
    problems.extend(recipients.problems());
    problems.extend(orphans(root, inventory));
    (problems, inputs)
}

/// The keys and recipients one host's SOPS file has, against what its roles read.
fn check_secrets_file(root: &Path, name: &str, wanted: &[String], own: &[String]) -> Diagnostics {
    let mut problems = Diagnostics::default();
    let file = host_secrets_file(name);
    let text = match std::fs::read_to_string(root.join(&file)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(Diagnostic::in_file(&file, format!("Cannot read it: {e}")));
            return problems;
        }
    };
    let document = match EncryptedDocument::parse(&text, Format::Yaml) {
        Ok(d) => d,
        Err(e) => {
            problems.push(
                Diagnostic::in_file(&file, format!("Not a valid SOPS file: {e}"))
                    .with_help(format!("re-create it with `homelab secrets edit {file}`")),
            );
            return problems;
        }
    };
    let mut held = Vec::new();
    if let Some(top) = document.branches.first() {
        leaf_paths(top, "", &mut held);
    }
    for key in wanted.iter().filter(|k| !held.contains(k)) {
        problems.push(
            Diagnostic::in_file(
                &file,
                format!("`{key}` is missing; host `{name}`'s modules read it"),
            )
            .with_help(format!(
                "set it with `homelab secrets set --value-stdin {file} '{}'`",
                sops_path(key)
            )),
        );
    }
    for key in held.iter().filter(|k| !wanted.contains(k)) {
        problems.push(
            Diagnostic::in_file(
                &file,
                format!("`{key}` is read by no module of host `{name}`"),
            )
            .with_help(format!(
                "remove it with `homelab secrets unset {file} '{}'`",
                sops_path(key)
            )),
        );
    }
    let in_file: BTreeSet<&str> = document
        .metadata
        .key_groups
        .iter()
        .flatten()
        .map(|k| k.recipient.as_str())
        .collect();
    if own.iter().any(|r| !in_file.contains(r.as_str())) {
        problems.push(
            Diagnostic::in_file(
                &file,
                format!("Not encrypted for host `{name}`'s recipient in .sops.yaml"),
            )
            .with_help(format!(
                "re-wrap it with `homelab secrets updatekeys {file}`"
            )),
        );
    }
    problems
}

/// `a/b` → `["a"]["b"]`, the syntax `homelab secrets set` takes.
fn sops_path(key: &str) -> String {
    key.split('/').map(|s| format!("[\"{s}\"]")).collect()
}

/// The `/`-joined paths of a SOPS document's leaves, without its `sops` metadata.
fn leaf_paths(items: &[Item], prefix: &str, out: &mut Vec<String>) {
    for item in items {
        let Key::Str(key) = &item.key else { continue };
        if prefix.is_empty() && key == "sops" {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}/{key}")
        };
        match &item.value {
            Value::Map(children) => leaf_paths(children, &path, out),
            _ => out.push(path),
        }
    }
}

/// The admins' recipients: those `.sops.yaml` gives the environments' files, which
/// only admins read (the design: hosts never decrypt cluster secrets).
pub(crate) fn admin_recipients(root: &Path) -> BTreeSet<String> {
    let config = root.join(SOPS_CONFIG);
    let files: Vec<String> = crate::environment::load(root)
        .map(|envs| {
            envs.value
                .environments
                .values()
                .map(|e| e.secrets.clone())
                .collect()
        })
        .unwrap_or_default();
    files
        .iter()
        .filter_map(|f| homelab_secrets::config::creation_rule(&config, &root.join(f)).ok())
        .flat_map(|r| r.key_groups.into_iter().flatten())
        .collect()
}

/// The recipients `.sops.yaml` gives each host's file beyond the admins' (the
/// recipients of the environments' files).
struct RuleRecipients {
    own: BTreeMap<String, Vec<String>>,
    problems: Diagnostics,
}

impl RuleRecipients {
    fn read(root: &Path, inventory: &Inventory) -> RuleRecipients {
        let config = root.join(SOPS_CONFIG);
        let mut problems = Diagnostics::default();
        let mut own = BTreeMap::new();
        let rule = |file: &str| homelab_secrets::config::creation_rule(&config, &root.join(file));
        let admins = admin_recipients(root);
        for name in inventory.hosts.keys() {
            let file = host_secrets_file(name);
            match rule(&file) {
                Ok(r) => {
                    let mine: Vec<String> = r
                        .key_groups
                        .into_iter()
                        .flatten()
                        .filter(|k| !admins.contains(k))
                        .collect();
                    if mine.is_empty() {
                        problems.push(
                            Diagnostic::in_file(
                                SOPS_CONFIG,
                                format!("The creation rule for {file} gives host `{name}` no recipient of its own; sops-nix on it could not decrypt the file"),
                            )
                            .with_help(format!("`homelab host add {name}` adds a rule with the host's age recipient")),
                        );
                    }
                    own.insert(name.clone(), mine);
                }
                Err(e) => problems.push(
                    Diagnostic::in_file(SOPS_CONFIG, format!("No creation rule for {file}: {e}"))
                        .with_help(format!(
                            "`homelab host add {name}` adds one with the host's age recipient"
                        )),
                ),
            }
        }
        for (a, mine) in &own {
            for (b, theirs) in
                own.range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
            {
                if let Some(shared) = mine.iter().find(|r| theirs.contains(r)) {
                    problems.push(
                        Diagnostic::in_file(
                            SOPS_CONFIG,
                            format!("Hosts `{a}` and `{b}` share the recipient {shared}: each can decrypt the other's secrets"),
                        )
                        .with_help("give each host file only the admins and that host's own recipient"),
                    );
                }
            }
        }
        RuleRecipients { own, problems }
    }

    fn own(&self, name: &str) -> &[String] {
        self.own.get(name).map_or(&[], Vec::as_slice)
    }

    fn problems(self) -> Diagnostics {
        self.problems
    }
}

/// Host folders and host secret files whose host is not in the inventory.
fn orphans(root: &Path, inventory: &Inventory) -> Diagnostics {
    let mut problems = Diagnostics::default();
    let names = |dir: &str, dirs: bool| -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_dir() == dirs).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    };
    for dir in names("hosts", true) {
        if !inventory.hosts.contains_key(&dir) {
            problems.push(
                Diagnostic::in_file(
                    format!("hosts/{dir}"),
                    format!("hosts/{dir}/ belongs to no host in hosts/inventory.nix"),
                )
                .with_help(format!(
                    "remove it with `homelab host remove {dir}`, or add `{dir}` to the inventory"
                )),
            );
        }
    }
    for file in names("secrets/hosts", false) {
        let Some(host) = file.strip_suffix(".yaml") else {
            continue;
        };
        if !inventory.hosts.contains_key(host) {
            problems.push(
                Diagnostic::in_file(
                    format!("secrets/hosts/{file}"),
                    format!("secrets/hosts/{file} belongs to no host in hosts/inventory.nix"),
                )
                .with_help(format!(
                    "remove it with `homelab host remove {host}`, or add `{host}` to the inventory"
                )),
            );
        }
    }
    problems
}
