//! `homelab check`: validate the whole lab and summarise it.

use std::process::ExitCode;

use super::summary::Summary;
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  homelab check\n  homelab check --output json\n  homelab check --inventory inventory.json"
)]
pub(crate) struct Args {}

pub(super) fn run(_args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let summary = Summary::of(&lab);
    match global.output {
        OutputFormat::Text => print!("{}", summary.to_text()),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    Ok(ExitCode::SUCCESS)
}
