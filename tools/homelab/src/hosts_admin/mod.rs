//! `homelab host add NAME` and `homelab host remove NAME`: the files a host needs
//! besides its inventory entry — `hosts/<name>/default.nix`, a `.sops.yaml` rule with
//! the host's age recipient, and `secrets/hosts/<name>.yaml` holding every key its
//! roles read — made (or removed) together, with the host's entry in
//! `hosts/inventory.nix` when it is not there yet (or is to go). Everything is
//! computed and the edited inventory evaluated and validated before the first write.
//! Nothing is ever overwritten; the host's private key is returned to the caller and
//! never written.

mod host_key;
mod host_nix;
mod inventory_edit;
mod inventory_text;
mod nix_tokens;
mod sops_rules;

use std::path::{Path, PathBuf};

use homelab_secrets::{CreationRule, Format};

pub(crate) use host_key::{HostKey, RandomError};
pub(crate) use inventory_edit::NewHost;

use crate::diagnostic::Diagnostics;
use crate::inventory::LoadedInventory;
use crate::lab::hosts::{
    admin_recipients, host_module, host_secrets_file, HostSecretSpec, SOPS_CONFIG,
};
use crate::lab::INVENTORY_PATH;

/// The value every new host secret starts with; `homelab check` cannot tell it from
/// a real one, so `host add` names each key to set.
pub(crate) const PLACEHOLDER: &str = "CHANGE-ME";

#[derive(Debug, thiserror::Error)]
pub(crate) enum HostAdminError {
    #[error("`{0}` is not a host name: use lowercase letters, digits and `-` (at most 63), starting and ending with a letter or digit")]
    BadName(String),
    #[error("Host `{0}` is not in the inventory, and an inventory given as JSON cannot be edited; add it to hosts/inventory.nix, or run without --inventory")]
    NotInInventory(String),
    #[error("Host `{0}` is in the inventory, and an inventory given as JSON cannot be edited; remove it from hosts/inventory.nix, or run without --inventory")]
    StillInInventory(String),
    #[error("Host `{0}` is already in hosts/inventory.nix, so --system, --role, --lan-address, --tailscale-address, --ssh and --label have nothing to describe; run `homelab host add {0}` alone to make its files, or change its entry there")]
    OptionsForExisting(String),
    #[error("No free LAN address follows the highest one in use; choose one with --lan-address")]
    NoFreeAddress,
    #[error("{place}: cannot {action} host `{host}` there: {problem}; {action} its entry by hand (`{host} = {{ … }};` inside `hosts`), then run `homelab host {action} {host}` again")]
    InventoryText {
        place: String,
        problem: String,
        action: &'static str,
        host: String,
    },
    #[error("With host `{host}` {change}, the inventory does not pass its checks; nothing was written (the places below are in the edited copy)")]
    Invalid {
        host: String,
        change: &'static str,
        problems: Diagnostics,
    },
    #[error("{what} already exists; `homelab host add` never overwrites (undo with `homelab host remove {host}` once the host is out of the inventory, or remove it by hand)")]
    Exists { what: String, host: String },
    #[error("Host `{0}` has no files to remove (no hosts/{0}/, secrets/hosts/{0}.yaml or .sops.yaml rule)")]
    NothingToRemove(String),
    #[error(".sops.yaml has no `creation_rules:` line to add the host's rule under")]
    NoCreationRules,
    #[error(".sops.yaml gives the environments' files no recipient, so there are no admins to give the host's file")]
    NoAdmins,
    #[error("{0}")]
    Spec(String),
    #[error("Cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot encrypt the host's secrets file")]
    Secrets(#[source] homelab_secrets::Error),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// What `add` did.
pub(crate) struct Added {
    /// Files created or changed, relative to the lab root.
    pub changed: Vec<String>,
    /// The entry added to the inventory's `hosts`, when the host was not there.
    pub entry: Option<String>,
    /// The keys in the new secrets file, each holding the placeholder.
    pub placeholders: Vec<String>,
    pub key: HostKey,
}

/// Whether `name` is a host name the tool will make paths from.
fn valid_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| ok(c) || c == '-')
        && name.starts_with(ok)
        && name.ends_with(ok)
}

fn io<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> HostAdminError + 'a {
    move |source| HostAdminError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes through the workspace's one atomic writer.
fn write_atomic(path: &Path, text: &str) -> Result<(), HostAdminError> {
    homelab_secrets::atomic::write(path, text.as_bytes()).map_err(io("write", path))
}

/// Makes the host's folder, key pair, `.sops.yaml` rule and secrets file, and its
/// inventory entry from `new` when the inventory (`loaded`, read from Nix when
/// `editable`) does not have it.
pub(crate) fn add(
    root: &Path,
    loaded: &LoadedInventory,
    editable: bool,
    name: &str,
    new: &NewHost,
) -> Result<Added, HostAdminError> {
    if !valid_name(name) {
        return Err(HostAdminError::BadName(name.to_string()));
    }
    let edited = match loaded.inventory.hosts.get(name) {
        Some(_) if new.is_given() => return Err(HostAdminError::OptionsForExisting(name.into())),
        Some(_) => None,
        None if !editable => return Err(HostAdminError::NotInInventory(name.to_string())),
        None => {
            let host = new.host(&loaded.inventory, name)?;
            let entry = host_nix::render(name, &host, "");
            Some((inventory_edit::add(root, name, &host)?, entry))
        }
    };
    let inventory = edited
        .as_ref()
        .map_or(&loaded.inventory, |(e, _)| &e.loaded.inventory);
    let host = &inventory.hosts[name];
    let folder = format!("hosts/{name}");
    let secrets = host_secrets_file(name);
    let config_path = root.join(SOPS_CONFIG);
    let config = std::fs::read_to_string(&config_path).map_err(io("read", &config_path))?;
    for path in [&folder, &secrets] {
        if root.join(path).exists() {
            return Err(HostAdminError::Exists {
                what: path.clone(),
                host: name.to_string(),
            });
        }
    }
    if sops_rules::has_rule(&config, name) {
        return Err(HostAdminError::Exists {
            what: format!("The .sops.yaml rule for {secrets}"),
            host: name.to_string(),
        });
    }
    let spec = HostSecretSpec::load(root).map_err(|d| HostAdminError::Spec(d.to_string()))?;
    let admins: Vec<String> = admin_recipients(root).into_iter().collect();
    if admins.is_empty() {
        return Err(HostAdminError::NoAdmins);
    }
    let key = host_key::generate(&format!("root@{name}"))?;
    let mut recipients = admins;
    recipients.push(key.age_recipient.clone());
    let new_config = sops_rules::insert_rule(&config, name, &recipients)
        .ok_or(HostAdminError::NoCreationRules)?;

    let placeholders = spec.keys_for(inventory, host);
    let plain = placeholder_yaml(&placeholders);
    let encrypted =
        homelab_secrets::encrypt_text(&plain, Format::Yaml, &CreationRule::recipients(recipients))
            .map_err(HostAdminError::Secrets)?;

    write_atomic(&root.join(host_module(name)), &host_module_text(name))?;
    write_atomic(&root.join(&secrets), &encrypted)?;
    write_atomic(&config_path, &new_config)?;
    let mut changed = vec![host_module(name), secrets, SOPS_CONFIG.to_string()];
    let entry = match edited {
        Some((edited, entry)) => {
            write_atomic(&root.join(INVENTORY_PATH), &edited.text)?;
            changed.push(format!("{INVENTORY_PATH} (host `{name}` added)"));
            Some(entry)
        }
        None => None,
    };
    Ok(Added {
        changed,
        entry,
        placeholders,
        key,
    })
}

/// Removes what `add` made, and the host's inventory entry when the inventory (read
/// from Nix when `editable`) still has it; returns the paths removed or changed.
pub(crate) fn remove(
    root: &Path,
    loaded: &LoadedInventory,
    editable: bool,
    name: &str,
) -> Result<Vec<String>, HostAdminError> {
    if !valid_name(name) {
        return Err(HostAdminError::BadName(name.to_string()));
    }
    let edited = match loaded.inventory.hosts.contains_key(name) {
        true if !editable => return Err(HostAdminError::StillInInventory(name.to_string())),
        true => Some(inventory_edit::remove(root, name)?),
        false => None,
    };
    let secrets = host_secrets_file(name);
    let config_path = root.join(SOPS_CONFIG);
    let new_config = std::fs::read_to_string(&config_path)
        .ok()
        .and_then(|config| sops_rules::remove_rule(&config, name));
    let mut changed = Vec::new();
    let folder = root.join("hosts").join(name);
    if folder.is_dir() {
        std::fs::remove_dir_all(&folder).map_err(io("remove", &folder))?;
        changed.push(format!("hosts/{name}/ (removed)"));
    }
    if root.join(&secrets).is_file() {
        std::fs::remove_file(root.join(&secrets)).map_err(io("remove", &root.join(&secrets)))?;
        changed.push(format!("{secrets} (removed)"));
    }
    if let Some(new_config) = new_config {
        write_atomic(&config_path, &new_config)?;
        changed.push(format!("{SOPS_CONFIG} (rule for {secrets} removed)"));
    }
    if let Some(edited) = edited {
        write_atomic(&root.join(INVENTORY_PATH), &edited.text)?;
        changed.push(format!("{INVENTORY_PATH} (host `{name}` removed)"));
    }
    if changed.is_empty() {
        return Err(HostAdminError::NothingToRemove(name.to_string()));
    }
    Ok(changed)
}

/// `a/b` keys as nested YAML maps, each leaf the placeholder.
fn placeholder_yaml(keys: &[String]) -> String {
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    for key in keys {
        let parts: Vec<&str> = key.split('/').collect();
        let (leaf, parents) = parts.split_last().expect("split yields one part at least");
        let common = open.iter().zip(parents).take_while(|(a, b)| a == b).count();
        open.truncate(common);
        for part in &parents[common..] {
            out.push_str(&format!("{}{part}:\n", "    ".repeat(open.len())));
            open.push(part);
        }
        out.push_str(&format!(
            "{}{leaf}: {PLACEHOLDER}\n",
            "    ".repeat(open.len())
        ));
    }
    out
}

fn host_module_text(name: &str) -> String {
    format!(
        r#"# {name}: hardware only. Its roles, addresses, labels and disks are in
# hosts/inventory.nix; everything it runs follows from them.
# Made by `homelab host add {name}`: the lines marked UNKNOWN are guesses. Replace
# them with the output of `nixos-generate-config --show-hardware-config` on the
# machine (boot loader, kernel modules, filesystems) before installing.
{{
  # UNKNOWN: the boot loader (systemd-boot for UEFI; extlinux on a Raspberry Pi).
  boot.loader.systemd-boot.enable = true;
  boot.loader.efi.canTouchEfiVariables = true;

  # UNKNOWN: the root filesystem.
  fileSystems."/" = {{
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  }};
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_yaml_nests_shared_parents() {
        let keys = [
            "kubernetes/apitoken",
            "tailscale/auth_key",
            "users/a/hashed_password",
            "users/b/hashed_password",
        ]
        .map(String::from);
        assert_eq!(
            placeholder_yaml(&keys),
            "kubernetes:\n    apitoken: CHANGE-ME\ntailscale:\n    auth_key: CHANGE-ME\nusers:\n    a:\n        hashed_password: CHANGE-ME\n    b:\n        hashed_password: CHANGE-ME\n"
        );
    }

    #[test]
    fn names_that_could_escape_a_folder_are_refused() {
        for bad in ["", "../x", "a/b", "A", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        for good in ["a", "node-1", "n1"] {
            assert!(valid_name(good), "{good:?}");
        }
    }
}
