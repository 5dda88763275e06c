//! `apply --atomic`: when a release does not become ready (or its pre-install or
//! pre-upgrade hook fails), apply the last revision in
//! which it was ready again — rendered from that revision's commit, only that release —
//! wait for it, and fail the run naming both the failure and the restore. Releases that
//! `needs` it were not applied: the run stops after the stage that failed.
//!
//! The restore is a second run under the environment's lock (the first released it),
//! recorded as its own revision (`atomic-restore of N`).

use std::collections::BTreeSet;
use std::process::ExitCode;

use crate::apply::revision::{Cause, History, Revision};
use crate::apply::session::Session;

use super::apply::{apply_session, ApplyFlags, KubeArgs};
use super::revision::{read_history, render_revision};
use super::GlobalArgs;

pub(crate) fn run(
    session: &Session,
    kube: &KubeArgs,
    flags: &ApplyFlags,
    global: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    let history = read_history(session)?;
    let (code, report) = apply_session(session, global)?;
    if report.ok || report.cancelled {
        return Ok(code);
    }
    let not_ready: BTreeSet<&str> = report
        .not_ready
        .iter()
        .map(|n| session.plan.objects[n.id].release.as_str())
        .collect();
    let failures = not_ready
        .into_iter()
        .map(|r| (r, "did not become ready"))
        .chain(
            report
                .hook_failed
                .as_deref()
                .map(|r| (r, "had a pre-install or pre-upgrade hook fail")),
        );
    let mut restored = 0;
    for (release, failure) in failures {
        restore(release, failure, &history, kube, flags, global);
        restored += 1;
    }
    if restored == 0 {
        eprintln!("error: --atomic restores releases that did not become ready or whose pre-upgrade hook failed; none did, so nothing was restored");
    }
    Ok(ExitCode::from(1))
}

/// Applies `release` as the last revision that had it ready, and says how that went.
fn restore(
    release: &str,
    failure: &str,
    history: &History,
    kube: &KubeArgs,
    flags: &ApplyFlags,
    global: &GlobalArgs,
) {
    let Some(target) = history.last_ready(release, u64::MAX) else {
        eprintln!("error: Release `{release}` {failure}, and no recorded revision had it ready; nothing was restored");
        return;
    };
    eprintln!(
        "Release `{release}` {failure}; restoring revision {} (commit {}).",
        target.revision,
        target.short_commit()
    );
    let options = flags.session_options(false, kube.concurrency);
    let releases = [release.to_string()];
    let restored = render_revision(
        kube,
        global,
        target,
        &releases,
        Cause::AtomicRestore,
        options,
    )
    .and_then(|rendered| apply_session(&rendered.session, global));
    eprintln!(
        "error: {}",
        verdict(
            &format!("Release `{release}` {failure} (see above)"),
            target,
            restored.map(|(_, r)| r.ok)
        )
    );
}

fn verdict(head: &str, target: &Revision, restored: anyhow::Result<bool>) -> String {
    match restored {
        Ok(true) => format!(
            "{head}; it was restored to revision {} (commit {}) and is ready again",
            target.revision,
            target.short_commit()
        ),
        Ok(false) => format!(
            "{head}, and restoring it to revision {} failed too (see above)",
            target.revision
        ),
        Err(e) => format!(
            "{head}, and restoring it to revision {} failed: {e:#}",
            target.revision
        ),
    }
}
