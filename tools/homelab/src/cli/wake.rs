//! `homelab wake HOST…`: sends each host's Wake-on-LAN magic packet to the broadcast
//! address of the inventory's LAN, then waits until every host answers SSH.
//! `--dry-run` prints the MAC and broadcast address and sends nothing.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use crate::deploy::hosts::HostTarget;
use crate::deploy::power::{self, WAKE_PORT};
use crate::names;

use super::duration::DurationArg;
use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The hosts to wake (names in hosts/inventory.nix, each with a `mac`)
    #[arg(required = true, value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Print each host's MAC and the broadcast address; send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Return once the packets are sent, without waiting for SSH
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for every host to answer SSH
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: DurationArg,
    /// The UDP port to send to (tests use a loopback socket)
    #[arg(long, hide = true, env = "HOMELAB_WAKE_PORT", default_value_t = WAKE_PORT)]
    pub port: u16,
    /// Send to this address instead of the LAN broadcast (tests use loopback)
    #[arg(long, hide = true, env = "HOMELAB_WAKE_TO", value_name = "ADDR")]
    pub send_to: Option<IpAddr>,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let inventory = lab.inventory();
    let plan = match super::deploy::selected_hosts(inventory, &args.hosts) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let broadcast = match args.send_to {
        Some(ip) => ip,
        None => match power::broadcast(&inventory.cluster.lan_cidr) {
            Ok(ip) => IpAddr::V4(ip),
            Err(e) => {
                eprintln!("error: Cannot wake hosts: {e}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    let to = SocketAddr::new(broadcast, args.port);
    let mut targets: Vec<(&HostTarget, [u8; 6])> = Vec::new();
    for host in plan.hosts() {
        let mac = inventory.hosts[&host.name].mac.as_deref();
        let Some(mac) = mac else {
            eprintln!("error: Host `{}` has no `mac` in hosts/inventory.nix\n  help: add `mac = \"…\";` (and `interface`, so its NixOS module enables Wake-on-LAN) to wake it", host.name);
            return Ok(ExitCode::from(1));
        };
        match names::parse_mac(mac) {
            Ok(bytes) => targets.push((host, bytes)),
            Err(e) => {
                eprintln!(
                    "error: Host `{}`: `mac` {e}; `homelab check` shows where",
                    host.name
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    for (host, mac) in &targets {
        let shown = inventory.hosts[&host.name].mac.as_deref().unwrap_or("");
        if args.dry_run {
            println!(
                "{}: would send the magic packet for {shown} to {to}",
                host.name
            );
            continue;
        }
        if let Err(e) = power::send_magic_packet(*mac, to) {
            eprintln!("error: Waking `{}`: {e}", host.name);
            return Ok(ExitCode::from(1));
        }
        println!("{}: sent the magic packet for {shown} to {to}", host.name);
    }
    if args.dry_run || args.no_wait {
        return Ok(ExitCode::SUCCESS);
    }
    for (host, _) in &targets {
        eprintln!("[{}] waiting for SSH on {}", host.name, host.ssh);
        match power::wait_for_ssh(host, "ssh".as_ref(), args.timeout.0) {
            Ok(()) => println!("{}: up", host.name),
            Err(e) => {
                eprintln!("error: {e}\n  help: check that Wake-on-LAN is enabled in its firmware and that `mac` is its wired card's");
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
