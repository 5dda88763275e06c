//! `homelab export helmfile -e ENV [--out DIR]`: the environment as a Helmfile project
//! (see `export::helmfile`), secrets as `ref+sops://` references.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::export::helmfile::{self, ReleaseExport};
use crate::render::{self, LabInput, RenderOptions};

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub target: Target,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Target {
    /// Write helmfile.yaml, values and manifests that real Helmfile can sync
    Helmfile {
        /// The environment to export
        #[arg(short = 'e', long = "env", value_name = "ENV")]
        env: String,
        /// The folder to write into
        #[arg(long, value_name = "DIR", default_value = "helmfile")]
        out: PathBuf,
    },
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let Target::Helmfile { env, out } = &args.target;
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let input = LabInput::from_lab(&lab);
    let mut options = RenderOptions::from_env()?;
    let values = render::release_values(&input, env, &options)?;
    // Only manifest-only releases are rendered here; Helmfile renders the charts.
    options.selector = input
        .releases
        .iter()
        .filter(|r| r.release.chart.is_none() && values.iter().any(|(n, _)| n == &r.release.name))
        .map(|r| r.release.name.clone())
        .collect();
    let manifests = render::render(&input, env, &options)?;
    let mut problems: Vec<String> = manifests.errors.iter().map(ToString::to_string).collect();
    let mut exports = Vec::new();
    for (name, result) in values {
        let Some(r) = input.releases.iter().find(|r| r.release.name == name) else {
            continue;
        };
        match result {
            Ok(values) => exports.push(ReleaseExport {
                release: r.release,
                dir: r.dir,
                values,
            }),
            Err(problem) => problems.push(problem.to_string()),
        }
    }
    let out_dir = if out.is_absolute() {
        out.clone()
    } else {
        std::env::current_dir()?.join(out)
    };
    for file in helmfile::export(&input, env, &exports, &manifests, &out_dir) {
        let path = out_dir.join(&file.path);
        crate::charts::atomic::write(&path, file.content.as_bytes())
            .with_context(|| format!("Failed to write {}", path.display()))?;
    }
    for problem in &problems {
        eprintln!("error: {}", manifests.redactor.redact(problem));
    }
    eprintln!("wrote {}", out_dir.join("helmfile.yaml").display());
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
