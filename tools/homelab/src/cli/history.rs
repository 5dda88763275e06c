//! `homelab history -e ENV [-l name=X] [-o json]`: the environment's recorded
//! revisions, oldest first — number, time, commit, who, what caused it, how it ended,
//! and which releases it changed (compared with the previous revision that had them).

use std::process::ExitCode;

use serde_json::json;

use crate::apply::revision::{History, Revision};
use crate::apply::revision_store;
use crate::apply::Cluster;

use super::apply::{resolve_context, KubeArgs};
use super::exit::{settle, Reported};
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment, the releases (`-l`: only revisions that applied them) and how
    /// to reach the cluster, as for apply
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// A connection to the environment's cluster on a runtime of its own; the lab is
/// read only for the environment's context binding.
pub(crate) fn connect(
    kube: &KubeArgs,
    global: &GlobalArgs,
) -> anyhow::Result<(tokio::runtime::Runtime, Cluster)> {
    let lab = global.load_lab().map_err(Reported)?;
    let resolved = resolve_context(kube, &lab)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let cluster = runtime.block_on(Cluster::connect(&resolved, kube.concurrency))?;
    Ok((runtime, cluster))
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    settle(history(args, global))
}

fn history(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    {
        let selected = super::render::parse_selector(&args.kube.selector)?;
        let (runtime, cluster) = connect(&args.kube, global)?;
        let history = runtime.block_on(revision_store::read(&cluster.client, &args.kube.env))?;
        match global.output {
            OutputFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&document(&args.kube.env, &history, &selected))?
            ),
            OutputFormat::Text => print!("{}", table(&args.kube.env, &history, &selected)),
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// The revisions that applied every release of `selected` (all when empty).
fn shown<'a>(history: &'a History, selected: &'a [String]) -> impl Iterator<Item = &'a Revision> {
    history
        .revisions
        .iter()
        .filter(|r| selected.iter().all(|s| r.releases.contains_key(s)))
}

fn changed(history: &History, revision: &Revision, selected: &[String]) -> Vec<String> {
    history
        .changed(revision)
        .into_iter()
        .filter(|r| selected.is_empty() || selected.contains(r))
        .collect()
}

fn cause(revision: &Revision) -> String {
    let name = serde_json::to_value(revision.cause)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match revision.restores {
        Some(n) => format!("{name} of {n}"),
        None => name,
    }
}

fn outcome(revision: &Revision) -> String {
    serde_json::to_value(revision.outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// One line per revision under a header.
pub(crate) fn table(env: &str, history: &History, selected: &[String]) -> String {
    let rows: Vec<[String; 7]> = shown(history, selected)
        .map(|r| {
            let changed = changed(history, r, selected);
            [
                r.revision.to_string(),
                r.time.clone(),
                r.short_commit(),
                r.user.clone(),
                cause(r),
                outcome(r),
                match changed.is_empty() {
                    true => "-".to_string(),
                    false => changed.join(","),
                },
            ]
        })
        .collect();
    if rows.is_empty() {
        return format!("No revisions of environment `{env}` are recorded yet.\n");
    }
    let header = [
        "REVISION", "TIME", "COMMIT", "USER", "CAUSE", "RESULT", "CHANGED",
    ]
    .map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

/// The whole history as one JSON document.
fn document(env: &str, history: &History, selected: &[String]) -> serde_json::Value {
    let revisions: Vec<serde_json::Value> = shown(history, selected)
        .map(|r| {
            json!({
                "revision": r.revision,
                "time": r.time,
                "commit": r.source.commit,
                "dirty": r.source.dirty,
                "user": r.user,
                "homelab": r.homelab,
                "cause": r.cause,
                "restores": r.restores,
                "outcome": r.outcome,
                "changed": changed(history, r, selected),
                "releases": r.releases.iter()
                    .filter(|(name, _)| selected.is_empty() || selected.contains(name))
                    .map(|(name, rec)| (name.clone(), json!({"ready": rec.ready, "objects": rec.objects.len()})))
                    .collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    json!({"environment": env, "revisions": revisions})
}
