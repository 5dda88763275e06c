//! `homelab generate [--check]`: writes `generated/hosts/<host>/…`, or reports which
//! files are stale with a unified diff.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use crate::generate::{self, files, ReleaseInput};

use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Change nothing: list stale, missing and obsolete files with a unified diff, and
    /// exit 1 when there is any
    #[arg(long)]
    pub check: bool,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let releases: Vec<ReleaseInput<'_>> = lab
        .releases
        .iter()
        .map(|r| ReleaseInput {
            release: r.release(),
            file: r.toml.file.path(),
        })
        .collect();
    let plan = match generate::plan(lab.inventory(), &releases) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    if args.check {
        let drift =
            files::check(&lab.root, &plan).context("Failed to compare generated/ with the lab")?;
        report_check(&drift, plan.len(), global.output);
        return Ok(if drift.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let drift = files::write(&lab.root, &plan).context("Failed to write generated/")?;
    report_write(&drift, plan.len(), global.output);
    Ok(ExitCode::SUCCESS)
}

fn report_check(drift: &[files::Drift], planned: usize, output: OutputFormat) {
    if output == OutputFormat::Json {
        println!(
            "{}",
            json!({ "fresh": drift.is_empty(), "files": planned, "drift": drift_json(drift) })
        );
        return;
    }
    if drift.is_empty() {
        println!("generated/ is up to date ({planned} files)");
        return;
    }
    for d in drift {
        println!("{}: {}", d.describe(), d.path().display());
    }
    for d in drift {
        print!("{}", d.diff());
    }
    eprintln!(
        "error: {} generated file{} out of date; run `homelab generate` and commit the result",
        drift.len(),
        if drift.len() == 1 { " is" } else { "s are" }
    );
}

fn report_write(drift: &[files::Drift], planned: usize, output: OutputFormat) {
    if output == OutputFormat::Json {
        println!(
            "{}",
            json!({ "files": planned, "changed": drift_json(drift) })
        );
        return;
    }
    if drift.is_empty() {
        println!("generated/ is up to date ({planned} files)");
        return;
    }
    for d in drift {
        let verb = match d {
            files::Drift::Missing { .. } => "created",
            files::Drift::Changed { .. } => "updated",
            files::Drift::Obsolete { .. } => "removed",
        };
        println!("{verb} {}", d.path().display());
    }
}

fn drift_json(drift: &[files::Drift]) -> serde_json::Value {
    drift
        .iter()
        .map(|d| json!({ "path": display(d.path()), "state": d.describe(), "diff": d.diff() }))
        .collect()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
