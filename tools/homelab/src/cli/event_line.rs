//! The human line for each event of an apply run, as both the plain-line and the
//! progress-bar reporters print it. One function per kind of event that needs more
//! than a format string.

use crate::apply::{Action, Event, FieldConflict};

use super::paint::Paint;

/// The human line for an event; `None` for events only bars show.
pub(crate) fn line(event: &Event, paint: Paint, stages: usize) -> Option<String> {
    Some(match event {
        Event::Started {
            environment,
            context,
            stages,
            objects,
            dry_run,
        } => started(environment, context, *stages, *objects, *dry_run),
        Event::StageStarted {
            index,
            label,
            objects,
            ..
        } => paint.bold(&format!(
            "stage {}/{stages}: {label} ({objects} object(s))",
            index + 1
        )),
        Event::Applied {
            object,
            action,
            dry_run,
            ..
        } => applied(paint, object, *action, *dry_run),
        Event::Conflict {
            object, conflicts, ..
        } => conflict(paint, object, conflicts),
        Event::Failed {
            object,
            release,
            source,
            message,
        } => format!(
            "  {} {object} (release {release}, from {source}): {message}",
            paint.red("failed    ")
        ),
        Event::Waiting { objects, .. } => {
            format!("  waiting for {objects} object(s) to become ready")
        }
        Event::Ready { object } => format!("  {} {object}", paint.green("ready     ")),
        Event::NotReady {
            object,
            release,
            reason,
            events,
        } => not_ready(paint, object, release, reason, events),
        Event::Pruned { object, dry_run } => format!(
            "  {} {object}",
            paint.yellow(if *dry_run {
                "pruned (dry run)"
            } else {
                "pruned    "
            })
        ),
        Event::PruneKept { object, reason } => format!(
            "  {} {object}: no longer desired, but {reason}",
            paint.yellow("kept      ")
        ),
        Event::PruneFailed { object, message } => format!(
            "  {} {object}: pruning failed: {message}",
            paint.red("failed    ")
        ),
        Event::LockWaiting { holder } => format!("waiting for the lock held by {holder}"),
        Event::LockTakenOver { holder, expired } => format!(
            "{} took over the lock of {holder}, which stopped renewing it (last renewed {expired})",
            paint.yellow("warning:")
        ),
        Event::Error { message } => format!("{} {message}", paint.red("error:")),
        Event::StageFinished { .. } => return None,
        Event::Finished { .. } => finished(paint, event)?,
    })
}

fn started(environment: &str, context: &str, stages: usize, objects: usize, dry: bool) -> String {
    let suffix = if dry {
        " (server dry run, nothing is stored)"
    } else {
        ""
    };
    match (objects, dry) {
        // Nothing to apply: a teardown (`homelab destroy`) that only prunes.
        (0, false) => format!("Tearing down {environment} with context {context}"),
        (0, true) => format!("Dry-run tearing down {environment} with context {context}{suffix}"),
        (_, dry) => format!(
            "{} {environment} with context {context}: {objects} object(s) in {stages} stage(s){suffix}",
            if dry { "Dry-run applying" } else { "Applying" },
        ),
    }
}

fn applied(paint: Paint, object: &str, action: Action, dry_run: bool) -> String {
    let verb = match action {
        Action::Created => "created",
        Action::Configured => "configured",
        Action::Unchanged => "unchanged",
        Action::Adopted => "adopted",
    };
    let verb = if dry_run {
        format!("{verb} (dry run)")
    } else {
        verb.to_string()
    };
    format!("  {} {object}", paint.green(&format!("{verb:<10}")))
}

fn conflict(paint: Paint, object: &str, conflicts: &[FieldConflict]) -> String {
    let mut s = format!(
        "  {} {object}: fields owned by other managers (rerun with --force-conflicts to take them over):",
        paint.red("conflict  ")
    );
    for c in conflicts {
        s.push_str(&format!("\n      {} owned by \"{}\"", c.field, c.manager));
    }
    s
}

fn not_ready(paint: Paint, object: &str, release: &str, reason: &str, events: &[String]) -> String {
    let mut s = format!(
        "  {} {object} (release {release}): {reason}",
        paint.red("not ready ")
    );
    for e in events {
        s.push_str(&format!("\n      event: {e}"));
    }
    s
}

/// The run's last line: what was applied, pruned and kept, what failed, and its cost;
/// `None` for any other event.
fn finished(paint: Paint, event: &Event) -> Option<String> {
    let Event::Finished {
        ok,
        created,
        configured,
        unchanged,
        pruned,
        kept,
        failed,
        not_ready,
        not_started,
        requests,
        elapsed_ms,
    } = event
    else {
        return None;
    };
    // Nothing was to be applied: a teardown (`homelab destroy`).
    let teardown = created + configured + unchanged + failed + not_ready + not_started == 0;
    let head = match (*ok, teardown) {
        (true, false) => paint.green("Applied"),
        (false, false) => paint.red("Apply failed"),
        (true, true) => paint.green("Torn down"),
        (false, true) => paint.red("Teardown failed"),
    };
    let mut s = match teardown {
        true => format!("{head}: {pruned} deleted"),
        false => format!(
            "{head}: {created} created, {configured} configured, {unchanged} unchanged, {pruned} pruned"
        ),
    };
    for (count, what) in [
        (*kept, "kept by the data-loss guard"),
        (*failed, "failed"),
        (*not_ready, "not ready"),
        (*not_started, "not applied (run stopped)"),
    ] {
        if count > 0 {
            s.push_str(&format!(", {count} {what}"));
        }
    }
    s.push_str(&format!(
        " in {:.1}s ({requests} requests)",
        *elapsed_ms as f64 / 1000.0
    ));
    Some(s)
}
