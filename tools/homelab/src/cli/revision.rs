//! What `apply`, `rollback` and `apply --atomic` share about revisions: how a run is
//! recorded, how the recording is reported, and rendering a recorded revision again
//! from its commit (a temporary work tree, the chart cache, that commit's SOPS files
//! decrypted in memory).

use std::process::ExitCode;

use crate::apply::revision::{Cause, History, Revision};
use crate::apply::revision_git::Checkout;
use crate::apply::revision_store;
use crate::apply::session::{Outcome, Recording, Session, SessionOptions};
use crate::Lab;

use super::apply::{prepare, KubeArgs};
use super::exit::Reported;
use super::{GlobalArgs, OutputFormat};

/// How a run of `env` is recorded: as an apply of the lab at `global`'s root.
pub(crate) fn recording(lab: &Lab, env: &str, global: &GlobalArgs) -> Recording {
    let keep = lab
        .environments
        .value
        .environments
        .get(env)
        .map_or(10, |e| e.keep_revisions());
    Recording {
        lab_root: global.lab_root(),
        keep,
        cause: Cause::Apply,
        restores: None,
    }
}

/// Says which revision the run recorded, or warns that none could be.
pub(crate) fn print_recorded(outcome: &Outcome, global: &GlobalArgs) {
    match &outcome.revision {
        Some(Ok(n)) if global.output == OutputFormat::Text => eprintln!("Recorded revision {n}."),
        Some(Err(e)) => eprintln!("warning: {e}: {}", cause_of(e)),
        _ => {}
    }
}

fn cause_of(e: &dyn std::error::Error) -> String {
    e.source().map_or_else(String::new, |s| s.to_string())
}

/// The environment's history, read through `session`'s connection.
pub(crate) fn read_history(session: &Session) -> anyhow::Result<History> {
    let env = session.set.environment.clone();
    Ok(session.block_on(revision_store::read(&session.cluster.client, &env))?)
}

/// A recorded revision rendered again, ready to apply; the work tree lives as long as
/// this does.
pub(crate) struct Rendered {
    pub session: Session,
    _checkout: Checkout,
}

/// Renders `revision` (only `releases` when not empty) from its commit and connects,
/// to be recorded as `cause` restoring it.
///
/// # Errors
/// A revision from a dirty tree or without a commit, with the reason; git, render and
/// connection failures.
pub(crate) fn render_revision(
    kube: &KubeArgs,
    global: &GlobalArgs,
    revision: &Revision,
    releases: &[String],
    cause: Cause,
    options: SessionOptions,
) -> anyhow::Result<Rendered> {
    if let Some(why) = revision.unrenderable() {
        eprintln!("error: Cannot roll back to {why}");
        return Err(Reported(ExitCode::from(1)).into());
    }
    let commit = revision.source.commit.as_deref().unwrap_or_default();
    let checkout = Checkout::new(&global.lab_root(), commit)?;
    let mut at_commit = global.clone();
    at_commit.root = Some(checkout.lab_root.clone());
    if let Some(file) = &global.inventory {
        // The flag is the user's explicit word, so it wins, but it is today's inventory.
        eprintln!(
            "warning: Rendering revision {} with the inventory in {} (--inventory), not the one in commit {}; drop --inventory to evaluate that commit's hosts/inventory.nix",
            revision.revision,
            file.display(),
            revision.short_commit()
        );
    }
    let mut kube = kube.clone();
    kube.selector = match releases.is_empty() {
        true => revision.selected.clone(),
        false => releases.to_vec(),
    };
    let mut session = prepare(&kube, &at_commit, options)?;
    if let Some(recording) = session.recording.as_mut() {
        recording.cause = cause;
        recording.restores = Some(revision.revision);
    }
    Ok(Rendered {
        session,
        _checkout: checkout,
    })
}
