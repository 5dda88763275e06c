//! The command line: clap definitions turned into library calls. Only this module
//! knows about clap, terminals and exit codes, and only it prints: progress bars and
//! lines for the library's apply events ([`progress`]), prompts ([`confirm`]), colour
//! ([`paint`]), the lab's summary and rendered output.
//!
//! Exit codes: 0 success, 1 invalid input or a failed operation, 2 usage errors (and
//! `diff --exit-code` when there are changes, and a declined `deploy --plan` or
//! `destroy`).

mod apply;
mod atomic;
mod charts;
mod check;
mod completions;
mod confirm;
mod deploy;
mod destroy;
mod diff;
mod duration;
mod event_line;
mod exit;
mod export;
mod final_event;
mod generate;
mod history;
mod host;
mod import;
mod output;
mod paint;
mod progress;
mod render;
mod report;
mod revision;
mod rollback;
mod secrets;
mod shutdown;
mod status;
mod summary;
mod test;
mod wake;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub(crate) use report::print_diagnostics;
pub use report::render_diagnostics;

/// Declare a NixOS + Kubernetes home lab in one repository; render, diff and apply it.
#[derive(Debug, Parser)]
#[command(name = "homelab", version, about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GlobalArgs {
    /// The lab repository [default: the nearest folder upwards with releases/environments.toml]
    #[arg(
        short = 'C',
        long,
        global = true,
        env = "HOMELAB_ROOT",
        value_name = "DIR"
    )]
    pub root: Option<PathBuf>,
    /// Read the inventory from JSON (the output of `nix-instantiate --eval --strict --json
    /// hosts/inventory.nix`) instead of evaluating it with Nix
    #[arg(long, global = true, value_name = "FILE.json")]
    pub inventory: Option<PathBuf>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Validate the inventory, environments and releases, and summarise the lab
    Check(check::Args),
    /// Write the hosts' generated configs (generated/hosts/<host>/…) from the inventory and releases
    Generate(generate::Args),
    /// Print the environment's Kubernetes objects, secrets redacted
    Render(render::Args),
    /// Pin, fetch and update upstream Helm charts
    Charts(charts::Args),
    /// Export the environment for another tool (Helmfile)
    Export(export::Args),
    /// Import releases from another tool (Helmfile + helm-secrets)
    Import(import::Args),
    /// Show what `apply` would change: a server dry run diffed against the live objects
    Diff(diff::Args),
    /// Server-side apply the environment to its cluster, stage by stage
    Apply(apply::Args),
    /// Deploy the hosts over SSH (control plane first, each rolled back by itself unless
    /// confirmed and healthy; a host already built from the repository's host inputs is
    /// not evaluated), then apply the cluster; `--plan` shows both first
    Deploy(deploy::Args),
    /// Wake hosts with a Wake-on-LAN magic packet and wait until they answer SSH
    Wake(wake::Args),
    /// Cordon and drain hosts' nodes, then power the hosts off (the control plane only with --force)
    Shutdown(shutdown::Args),
    /// Delete what the environment's apply set holds (or only the selected releases'), as
    /// `helmfile destroy` does; lists it and asks first, and records it in the history
    Destroy(destroy::Args),
    /// Run the releases' Helm test hooks, as `helm test` does
    Test(test::Args),
    /// List the environment's recorded revisions: number, time, commit, who, releases
    /// changed, result
    History(history::Args),
    /// Render a recorded revision again from its git commit, show the plan, and apply it
    /// (default: the latest succeeded revision before the latest)
    Rollback(rollback::Args),
    /// Show each host (reachable, whether it runs what the repository builds, reboot due,
    /// node Ready/cordoned, kubelet) and each environment's releases (ready objects,
    /// revision, commit, drift) and lock holder
    Status(status::Args),
    /// Encrypt, decrypt and edit SOPS files (age), interoperable with sops
    Secrets(secrets::Args),
    /// Add or remove a host's folder, SSH host key, .sops.yaml rule and secrets file
    Host(host::Args),
    /// Print a shell completion script
    Completions(completions::Args),
}

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Check(args) => check::run(&args, &cli.global),
        Command::Generate(args) => generate::run(&args, &cli.global),
        Command::Render(args) => render::run(&args, &cli.global),
        Command::Charts(args) => charts::run(&args, &cli.global),
        Command::Export(args) => export::run(&args, &cli.global),
        Command::Import(args) => import::run(&args, &cli.global),
        Command::Diff(args) => diff::run(&args, &cli.global),
        Command::Apply(args) => apply::run(&args, &cli.global),
        Command::Deploy(args) => deploy::run(&args, &cli.global),
        Command::Wake(args) => wake::run(&args, &cli.global),
        Command::Shutdown(args) => shutdown::run(&args, &cli.global),
        Command::Destroy(args) => destroy::run(&args, &cli.global),
        Command::Test(args) => test::run(&args, &cli.global),
        Command::History(args) => history::run(&args, &cli.global),
        Command::Rollback(args) => rollback::run(&args, &cli.global),
        Command::Status(args) => status::run(&args, &cli.global),
        Command::Secrets(args) => secrets::run(&args, &cli.global),
        Command::Host(args) => host::run(&args, &cli.global),
        Command::Completions(args) => completions::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

impl GlobalArgs {
    /// The lab root: `--root`, or the nearest folder upwards holding
    /// `releases/environments.toml`, or the current directory.
    pub(crate) fn lab_root(&self) -> PathBuf {
        if let Some(root) = &self.root {
            return root.clone();
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        cwd.ancestors()
            .find(|dir| dir.join(homelab_environments()).is_file())
            .map_or(cwd.clone(), PathBuf::from)
    }

    pub(crate) fn load_options(&self) -> crate::LoadOptions {
        crate::LoadOptions {
            inventory_json: self.inventory.clone(),
        }
    }

    /// Loads the lab, printing its problems when it is invalid.
    pub(crate) fn load_lab(&self) -> Result<crate::Lab, ExitCode> {
        crate::Lab::load(&self.lab_root(), &self.load_options()).map_err(|problems| {
            print_diagnostics(&problems, self.output);
            ExitCode::from(1)
        })
    }
}

fn homelab_environments() -> &'static str {
    crate::environment::ENVIRONMENTS_PATH
}
