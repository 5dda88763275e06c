//! `host add` for a host that is not in `hosts/inventory.nix` yet, and `host remove`
//! for one that still is: the new text of the inventory, evaluated and validated
//! before anything is written, so a host that would break the lab is refused whole.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::inventory_text::{self, TextError};
use super::{host_nix, HostAdminError};
use crate::diagnostic::Diagnostics;
use crate::inventory::{self, Host, Inventory, InventorySource, LoadedInventory, Role};
use crate::lab::INVENTORY_PATH;

/// What `host add` is told about a host the inventory does not have; anything left
/// out gets the default [`NewHost::host`] documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewHost {
    pub system: Option<String>,
    pub roles: Vec<Role>,
    pub lan_address: Option<IpAddr>,
    pub tailscale_address: Option<IpAddr>,
    pub ssh: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl NewHost {
    /// Whether any option was given (they only describe a host that is not there yet).
    pub(crate) fn is_given(&self) -> bool {
        self.system.is_some()
            || !self.roles.is_empty()
            || self.lan_address.is_some()
            || self.tailscale_address.is_some()
            || self.ssh.is_some()
            || !self.labels.is_empty()
    }

    /// The inventory entry: `x86_64-linux`, the `worker` role, the LAN address after
    /// the highest one in use, `root@<name>`, no labels, taints or disks, unless told.
    pub(crate) fn host(&self, inventory: &Inventory, name: &str) -> Result<Host, HostAdminError> {
        let lan_address = match self.lan_address {
            Some(address) => address,
            None => next_address(inventory).ok_or(HostAdminError::NoFreeAddress)?,
        };
        Ok(Host {
            system: self.system.clone().unwrap_or_else(|| "x86_64-linux".into()),
            roles: if self.roles.is_empty() {
                vec![Role::Worker]
            } else {
                self.roles.clone()
            },
            lan_address,
            tailscale_address: self.tailscale_address,
            tailscale_address6: None,
            labels: self.labels.clone(),
            taints: Vec::new(),
            disks: Vec::new(),
            ssh: self.ssh.clone().unwrap_or_else(|| format!("root@{name}")),
            confirm_timeout: None,
            mac: None,
            interface: None,
        })
    }
}

/// The address after the highest host address in use, if it is still a host address
/// of the LAN (not its last, the IPv4 broadcast).
fn next_address(inventory: &Inventory) -> Option<IpAddr> {
    let lan = inventory.cluster.lan_cidr;
    let highest = inventory.hosts.values().map(|h| h.lan_address).max()?;
    let next = match highest {
        IpAddr::V4(a) => IpAddr::V4(u32::from(a).checked_add(1)?.into()),
        IpAddr::V6(a) => IpAddr::V6(u128::from(a).checked_add(1)?.into()),
    };
    (lan.contains(&next) && next != lan.broadcast()).then_some(next)
}

/// The inventory's text with `name` added or removed, and what it evaluates to.
pub(crate) struct Edited {
    pub(crate) text: String,
    pub(crate) loaded: LoadedInventory,
}

/// The inventory file's path, and its text, for a lab whose inventory is Nix.
fn read(root: &Path) -> Result<(PathBuf, String), HostAdminError> {
    let path = root.join(INVENTORY_PATH);
    let text = std::fs::read_to_string(&path).map_err(super::io("read", &path))?;
    Ok((path, text))
}

fn located(e: TextError, name: &str, action: &'static str) -> HostAdminError {
    HostAdminError::InventoryText {
        place: format!("{INVENTORY_PATH}:{}:{}", e.line, e.column),
        problem: e.problem,
        action,
        host: name.to_string(),
    }
}

/// The inventory with `host` added as `name`, evaluated and validated.
pub(crate) fn add(root: &Path, name: &str, host: &Host) -> Result<Edited, HostAdminError> {
    let (_, text) = read(root)?;
    let text = inventory_text::insert_host(&text, |indent| host_nix::render(name, host, indent))
        .map_err(|e| located(e, name, "add"))?;
    evaluate(root, text, name, "added")
}

/// The inventory without `name`, evaluated and validated.
pub(crate) fn remove(root: &Path, name: &str) -> Result<Edited, HostAdminError> {
    let (_, text) = read(root)?;
    let text = inventory_text::remove_host(&text, name).map_err(|e| located(e, name, "remove"))?;
    evaluate(root, text, name, "removed")
}

/// Evaluates `text` from a scratch file beside the inventory (so its relative imports
/// and the restricted evaluation's root are the same) and runs the inventory's rules.
fn evaluate(
    root: &Path,
    text: String,
    name: &str,
    change: &'static str,
) -> Result<Edited, HostAdminError> {
    let (path, _) = read(root)?;
    let dir = path.parent().unwrap_or(root);
    let scratch = tempfile::Builder::new()
        .prefix(&format!(".inventory-with-{name}-{change}-"))
        .suffix(".nix")
        .tempfile_in(dir)
        .map_err(super::io("write in", dir))?;
    std::fs::write(scratch.path(), &text).map_err(super::io("write", scratch.path()))?;
    let display =
        Path::new(INVENTORY_PATH).with_file_name(scratch.path().file_name().unwrap_or_default());
    let invalid = |problems: Diagnostics| HostAdminError::Invalid {
        host: name.to_string(),
        change,
        problems,
    };
    let loaded = inventory::load(
        &InventorySource::Nix(scratch.path().to_path_buf()),
        &display,
    )
    .map_err(|d| invalid(Diagnostics::from(d)))?;
    let problems = inventory::validate(&loaded, needs_ingress(root));
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(Edited { text, loaded })
}

/// Whether a release routes traffic through the ingress host, as `homelab check` asks.
fn needs_ingress(root: &Path) -> bool {
    crate::release::load_all(root)
        .map(|releases| releases.iter().any(|r| !r.release().entrypoints.is_empty()))
        .unwrap_or(false)
}
