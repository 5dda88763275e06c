//! `homelab diff -e ENV [--exit-code]`: every object dry-run applied on the server and
//! compared with the live one; a coloured unified YAML diff per object, then
//! "N to create, M to change, K unchanged". Secret values show as `<redacted>`.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use serde_json::json;

use crate::apply::session::SessionOptions;
use crate::apply::{ApplyOptions, Change, DiffReport, FieldConflict, ObjectDiff};

use super::apply::{prepare, KubeArgs};
use super::exit::settle;
use super::paint::{paint_for, Paint};
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Exit with 2 when there are changes
    #[arg(long)]
    pub exit_code: bool,
    /// Show the result as if conflicting fields were taken over
    #[arg(long)]
    pub force_conflicts: bool,
    /// Show PVCs, PVs and namespaces holding PVCs as pruned rather than kept
    #[arg(long)]
    pub allow_data_loss: bool,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = SessionOptions {
        concurrency: args.kube.concurrency,
        apply: ApplyOptions {
            force_conflicts: args.force_conflicts,
            allow_data_loss: args.allow_data_loss,
            ..ApplyOptions::default()
        },
        ..SessionOptions::default()
    };
    settle(prepare(&args.kube, global, options).and_then(|session| {
        let report = session.diff();
        show(&report, global.output)?;
        Ok(exit_code(&report, args.exit_code))
    }))
}

/// 1 with problems, 2 with changes when `--exit-code` asks for it, else 0.
fn exit_code(report: &DiffReport, exit_code: bool) -> ExitCode {
    if report.problems() > 0 {
        ExitCode::from(1)
    } else if exit_code && report.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the report: JSON lines, or a coloured diff per object and a summary.
pub(super) fn show(report: &DiffReport, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => {
            for object in &report.objects {
                let mut line = serde_json::to_value(object)?;
                line["event"] = json!("diff");
                println!("{line}");
            }
            for h in &report.hooks {
                let mut line = serde_json::to_value(h)?;
                line["event"] = json!("hook");
                println!("{line}");
            }
            for p in &report.prune {
                println!(
                    "{}",
                    json!({"event": "prune", "object": p.object, "kept": p.kept})
                );
            }
            if let Some(e) = &report.prune_error {
                println!("{}", json!({"event": "error", "message": e}));
            }
            for l in &report.helm_leftovers {
                let mut line = serde_json::to_value(l)?;
                line["event"] = json!("helmLeftover");
                println!("{line}");
            }
            for w in &report.helm_warnings {
                println!("{}", json!({"event": "warning", "message": w}));
            }
            println!(
                "{}",
                json!({"event": "summary", "create": report.to_create(), "change": report.to_change(),
                    "unchanged": report.unchanged(), "prune": report.to_prune(),
                    "problems": report.problems(), "requests": report.requests})
            );
        }
        OutputFormat::Text => {
            let paint = paint_for(std::io::stdout().is_terminal());
            for object in &report.objects {
                match &object.change {
                    Change::Create | Change::Change => print!("{}", paint.diff(&object.diff)),
                    Change::Unchanged => {}
                    Change::Conflict(conflicts) => {
                        println!(
                            "{} {}: fields owned by other managers; apply would stop here (use --force-conflicts to take them over):",
                            paint.red("conflict"),
                            object.object
                        );
                        for c in conflicts {
                            println!("    {} owned by \"{}\"", c.field, c.manager);
                        }
                    }
                    Change::Error(message) => {
                        println!("{} {}: {message}", paint.red("error"), object.object)
                    }
                    Change::Adopt {
                        helm_release,
                        conflicts,
                    } => show_adopt(paint, object, helm_release, conflicts),
                    Change::Terminating { finalizers } => {
                        let held = match finalizers.is_empty() {
                            true => String::new(),
                            false => format!(", held by finalizer(s) {}", finalizers.join(", ")),
                        };
                        println!(
                            "{} {}: being deleted{held}; apply waits until it is gone, then creates it again",
                            paint.yellow("recreate"),
                            object.object
                        );
                        print!("{}", paint.diff(&object.diff));
                    }
                }
            }
            for h in &report.hooks {
                let when = if h.phases.iter().all(|p| p == "test") {
                    "run by `homelab test`, never by apply".to_string()
                } else {
                    format!(
                        "runs when release {} changes, not applied as a member",
                        h.release
                    )
                };
                println!(
                    "{} {} ({}): {when}",
                    paint.yellow("hook"),
                    h.object,
                    h.phases.join(",")
                );
            }
            for p in &report.prune {
                match &p.kept {
                    None => println!("{} {}", paint.red("prune"), p.object),
                    Some(why) => println!(
                        "{} {}: no longer desired, but {why}",
                        paint.yellow("keep"),
                        p.object
                    ),
                }
            }
            if let Some(e) = &report.prune_error {
                println!("{} {e}", paint.red("error"));
            }
            for l in &report.helm_leftovers {
                println!(
                    "{} {} (Helm release {}): not rendered by the lab, never pruned; remove it with: {}",
                    paint.yellow("helm-leftover"),
                    l.object,
                    l.release,
                    l.command
                );
            }
            for w in &report.helm_warnings {
                println!("{} {w}", paint.yellow("warning"));
            }
            println!("{}", paint.bold(&report.summary()));
        }
    }
    Ok(())
}

/// An object Helm installed: what taking it over changes, or what stops it.
fn show_adopt(paint: Paint, object: &ObjectDiff, helm_release: &str, conflicts: &[FieldConflict]) {
    println!(
        "{} {}: installed by Helm release {helm_release}; `homelab apply --adopt` takes it over",
        paint.yellow("adopt"),
        object.object
    );
    if conflicts.is_empty() {
        print!("{}", paint.diff(&object.diff));
        return;
    }
    println!("    but these fields hold other values than the lab's (apply --adopt would stop here; --force-conflicts takes them over):");
    for c in conflicts {
        println!("    {} owned by \"{}\"", c.field, c.manager);
    }
}
