//! `homelab import helmfile PATH [--dry-run] [--force]`: release folders from a Helmfile,
//! then a report. Exit 0 when nothing needs a person, 1 when something does (or the
//! Helmfile cannot be read), 2 for usage errors, an existing release folder among them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::import::{self, WriteError};

use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Source {
    /// Read a Helmfile (with helm-secrets) and write releases/<name>/ for each release
    Helmfile {
        /// helmfile.yaml, or the folder holding it
        #[arg(value_name = "PATH")]
        path: PathBuf,
        /// Print what would be written and the report; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Replace release folders that already exist
        #[arg(long)]
        force: bool,
    },
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let Source::Helmfile {
        path,
        dry_run,
        force,
    } = &args.source;
    let root = global.lab_root();
    let plan = import::plan(path)?;
    let written = if *dry_run {
        plan.files
            .iter()
            .map(|f| f.path.clone())
            .chain(
                std::iter::once(crate::environment::ENVIRONMENTS_PATH.to_string())
                    .filter(|_| !plan.environments.is_empty()),
            )
            .collect()
    } else {
        match import::write(&plan, &root, *force) {
            Ok(written) => written,
            Err(e @ WriteError::Exists { .. }) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
            Err(e) => return Err(e).context("Failed to write the imported releases"),
        }
    };
    let report = &plan.report;
    match global.output {
        OutputFormat::Json => println!("{}", json(report, &written, *dry_run)),
        OutputFormat::Text => {
            let verb = if *dry_run { "would write" } else { "wrote" };
            println!("{verb} {} path(s) under {}:", written.len(), root.display());
            for path in &written {
                println!("  {path}");
            }
            print!("{report}");
        }
    }
    Ok(if report.needs_a_person() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn json(report: &import::Report, written: &[String], dry_run: bool) -> serde_json::Value {
    let located = |l: &[import::Located]| -> Vec<serde_json::Value> {
        l.iter()
            .map(|l| serde_json::json!({"file": l.file, "line": l.line, "message": l.message}))
            .collect()
    };
    serde_json::json!({
        "dry_run": dry_run,
        "written": written,
        "environments": report.environments,
        "releases": report.releases.iter().map(|r| serde_json::json!({
            "name": r.name, "namespace": r.namespace, "chart": r.chart,
            "values": r.values, "overlays": r.overlays, "environments": r.environments,
        })).collect::<Vec<_>>(),
        "notes": located(&report.notes),
        "needs_a_person": located(&report.steps),
    })
}
