//! `homelab host add|remove NAME`: the files a host needs besides its inventory entry.

use std::path::PathBuf;
use std::process::ExitCode;

use homelab_secrets::ExposeSecret;

use super::{print_diagnostics, GlobalArgs};
use crate::hosts_admin::{self, PLACEHOLDER};
use crate::inventory::{self, InventorySource};
use crate::lab::INVENTORY_PATH;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: HostCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HostCommand {
    /// Make a host's folder, SSH host key (printed, never stored), .sops.yaml rule and
    /// secrets file; the host must be in hosts/inventory.nix. Never overwrites.
    #[command(after_help = "Examples:\n  homelab host add n4 > n4_ssh_host_ed25519_key")]
    Add { name: String },
    /// Remove what `host add` made, once the host is out of hosts/inventory.nix
    #[command(after_help = "Examples:\n  homelab host remove n4")]
    Remove { name: String },
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let root = global.lab_root();
    let (source, display) = match &global.inventory {
        Some(json) => (InventorySource::Json(json.clone()), json.clone()),
        None => (
            InventorySource::Nix(root.join(INVENTORY_PATH)),
            PathBuf::from(INVENTORY_PATH),
        ),
    };
    let loaded = match inventory::load(&source, &display) {
        Ok(loaded) => loaded,
        Err(problem) => {
            print_diagnostics(
                &crate::diagnostic::Diagnostics::from(problem),
                global.output,
            );
            return Ok(ExitCode::from(1));
        }
    };
    match &args.command {
        HostCommand::Add { name } => {
            let added = hosts_admin::add(&root, &loaded.inventory, name)?;
            eprintln!("Added host `{name}`:");
            for path in &added.changed {
                eprintln!("  {path}");
            }
            eprintln!("The environments' secrets files are unchanged: only admins read them.");
            eprintln!(
                "\nIts age recipient (ssh-to-age of the key below): {}",
                added.key.age_recipient
            );
            eprintln!("Its SSH host key: {}", added.key.public_openssh);
            eprintln!("\nSet each secret (every one now holds the placeholder `{PLACEHOLDER}`):");
            for key in &added.placeholders {
                let index: String = key.split('/').map(|s| format!("[\"{s}\"]")).collect();
                eprintln!(
                    "  homelab secrets set --value-stdin secrets/hosts/{name}.yaml '{index}'"
                );
            }
            eprintln!(
                "\nThe private key is on standard output only and was written nowhere. At install \
                 time put it on `{name}` as /etc/ssh/ssh_host_ed25519_key (owner root, mode 0600; \
                 e.g. with `nixos-anywhere --extra-files`), since sops-nix decrypts with it."
            );
            print!("{}", added.key.private_openssh.expose_secret());
        }
        HostCommand::Remove { name } => {
            let changed = hosts_admin::remove(&root, &loaded.inventory, name)?;
            eprintln!("Removed host `{name}`'s files:");
            for path in &changed {
                eprintln!("  {path}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
