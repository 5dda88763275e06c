//! `homelab host add|remove NAME`: the files a host needs besides its inventory entry.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use homelab_secrets::ExposeSecret;

use super::{print_diagnostics, GlobalArgs};
use crate::hosts_admin::{self, HostAdminError, NewHost, PLACEHOLDER};
use crate::inventory::{self, InventorySource, Role};
use crate::lab::INVENTORY_PATH;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: HostCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HostCommand {
    /// Make a host's folder, SSH host key (printed, never stored), .sops.yaml rule and
    /// secrets file, and its hosts/inventory.nix entry when it has none. Never overwrites.
    #[command(
        after_help = "Examples:\n  homelab host add n4 > n4_ssh_host_ed25519_key\n  \
        homelab host add n5 --role worker --role dns --lan-address 192.168.10.25 \\\n    \
        --label role=application > n5_ssh_host_ed25519_key"
    )]
    Add {
        name: String,
        #[command(flatten)]
        new: NewHostArgs,
    },
    /// Remove what `host add` made, and the host's hosts/inventory.nix entry
    #[command(after_help = "Examples:\n  homelab host remove n4")]
    Remove { name: String },
}

/// What a host missing from the inventory is; the defaults are in the help.
#[derive(Debug, clap::Args)]
struct NewHostArgs {
    /// Its Nix system [default: x86_64-linux]
    #[arg(long, value_name = "SYSTEM")]
    system: Option<String>,
    /// A role, once per role [default: worker]
    #[arg(long = "role", value_name = "ROLE", value_parser = parse_role)]
    roles: Vec<Role>,
    /// Its LAN address [default: the one after the highest in use]
    #[arg(long, visible_alias = "address", value_name = "IP")]
    lan_address: Option<IpAddr>,
    /// Its tailnet address, once it has joined [default: none]
    #[arg(long, value_name = "IP")]
    tailscale_address: Option<IpAddr>,
    /// Where `deploy` reaches it [default: root@NAME]
    #[arg(long = "ssh-target", visible_alias = "ssh", value_name = "USER@HOST")]
    ssh: Option<String>,
    /// A Kubernetes node label, once per label
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

impl NewHostArgs {
    fn new_host(&self) -> NewHost {
        NewHost {
            system: self.system.clone(),
            roles: self.roles.clone(),
            lan_address: self.lan_address,
            tailscale_address: self.tailscale_address,
            ssh: self.ssh.clone(),
            labels: self.labels.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            format!("expected one of {}", all.join(", "))
        })
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| "expected KEY=VALUE".to_string())
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
    let editable = global.inventory.is_none();
    let outcome = match &args.command {
        HostCommand::Add { name, new } => {
            hosts_admin::add(&root, &loaded, editable, name, &new.new_host()).map(|added| {
                report_added(name, &added);
            })
        }
        HostCommand::Remove { name } => {
            hosts_admin::remove(&root, &loaded, editable, name).map(|changed| {
                eprintln!("Removed host `{name}`:");
                for path in &changed {
                    eprintln!("  {path}");
                }
            })
        }
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e @ HostAdminError::Invalid { .. }) => {
            eprintln!("error: {e}");
            if let HostAdminError::Invalid { problems, .. } = &e {
                print_diagnostics(problems, global.output);
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn report_added(name: &str, added: &hosts_admin::Added) {
    eprintln!("Added host `{name}`:");
    for path in &added.changed {
        eprintln!("  {path}");
    }
    if let Some(entry) = &added.entry {
        eprintln!("\nIts inventory entry (change it there as needed):\n{entry}");
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
        eprintln!("  homelab secrets set --value-stdin secrets/hosts/{name}.yaml '{index}'");
    }
    eprintln!(
        "\nThe private key is on standard output only and was written nowhere. At install \
         time put it on `{name}` as /etc/ssh/ssh_host_ed25519_key (owner root, mode 0600; \
         e.g. with `nixos-anywhere --extra-files`), since sops-nix decrypts with it."
    );
    print!("{}", added.key.private_openssh.expose_secret());
}
