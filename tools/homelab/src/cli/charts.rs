//! `homelab charts {lock,pull,update}`: the only commands that reach chart repositories
//! and registries.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::charts::ops::{self, Pulled, RepoChart};
use crate::charts::ChartCache;
use crate::release::model::ChartSource;
use crate::Lab;

use super::GlobalArgs;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub command: ChartsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum ChartsCommand {
    /// Resolve every repository chart in its index.yaml (or its OCI registry's manifest)
    /// and write releases/releases.lock (archive URL or pinned manifest, version, sha256)
    Lock,
    /// Download locked charts missing from the cache ($HOMELAB_CACHE_DIR, else
    /// $XDG_CACHE_HOME/homelab), verified against releases.lock and the index or manifest
    Pull,
    /// Move RELEASE to a new chart version (default: the newest stable one) in its
    /// release.toml and releases.lock
    Update {
        /// The release to move
        release: String,
        /// The exact version to move to
        #[arg(long)]
        version: Option<String>,
    },
}

/// Every release's repository chart, in the lab's order.
pub(super) fn repo_charts(lab: &Lab) -> Vec<RepoChart> {
    lab.releases
        .iter()
        .filter_map(|r| match &r.release().chart {
            Some(ChartSource::Repository {
                repository,
                name,
                version,
            }) => Some(RepoChart {
                release: r.name().to_string(),
                repository: repository.clone(),
                name: name.clone(),
                version: version.clone(),
            }),
            _ => None,
        })
        .collect()
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let lab = match global.load_lab() {
        Ok(lab) => lab,
        Err(code) => return Ok(code),
    };
    let charts = repo_charts(&lab);
    match &args.command {
        ChartsCommand::Lock => {
            let lock = ops::lock(&lab.root, &charts)?;
            for c in &lock.charts {
                println!("locked {} {} {} {}", c.release, c.name, c.version, c.digest);
            }
        }
        ChartsCommand::Pull => {
            let cache = ChartCache::from_env()?;
            for (release, pulled) in ops::pull(&lab.root, &charts, &cache)? {
                match pulled {
                    Pulled::AlreadyCached(path) => println!("cached {release} {}", path.display()),
                    Pulled::Downloaded(path) => println!("pulled {release} {}", path.display()),
                }
            }
        }
        ChartsCommand::Update { release, version } => {
            let chart = charts
                .iter()
                .find(|c| &c.release == release)
                .ok_or_else(|| ops::ChartsError::UnknownRelease(release.clone()))?;
            let loaded = lab
                .releases
                .iter()
                .find(|r| r.name() == release)
                .context("release vanished")?;
            let toml = loaded.dir.join("release.toml");
            let new = ops::update(&lab.root, &toml, chart, version.as_deref())?;
            println!(
                "{release}: {} {} -> {new}; run `homelab charts pull`",
                chart.name, chart.version
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
