//! `homelab completions SHELL`: shell completion scripts generated from the clap
//! definitions, so they never drift from the real flags.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  homelab completions bash > ~/.local/share/bash-completion/completions/homelab"
)]
pub(crate) struct Args {
    /// The shell to generate completions for
    pub shell: Shell,
}

pub(super) fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "homelab", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
