//! Revisions: what each apply of an environment did, recorded in the cluster so
//! `history`, `rollback`, `apply --atomic` and `status` can read it back.
//!
//! A revision holds the git commit the set was rendered from (and whether the tree was
//! dirty), the time, `user@host`, homelab's version, and per release the applied-hash of
//! each of its objects and whether it became ready. It never holds an object's body:
//! the digests are the `homelab.dev/applied-hash` values the live objects already
//! carry, and a Secret built from SOPS is hashed without its values (see
//! [`super::plan::stamp_applied_hash`]), so a record holds no secret plaintext.
//!
//! The store ([`super::revision_store`]) keeps them as ConfigMaps in `kube-system`;
//! this file is the pure model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::plan::ApplyPlan;
use super::run::{ApplyReport, ObjectStatus};

/// Where the rendered set came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Source {
    /// The full commit id of `HEAD`; `None` outside a git repository.
    pub commit: Option<String>,
    /// The work tree differed from `commit` (changed or untracked files).
    pub dirty: bool,
}

/// Why a revision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Cause {
    /// `homelab apply` or the cluster part of `homelab deploy`.
    Apply,
    /// `homelab rollback` to the revision in [`Revision::restores`].
    Rollback,
    /// `apply --atomic` restoring a release that did not become ready.
    AtomicRestore,
    /// `homelab destroy`: each release it names was deleted, and is recorded with no
    /// objects, as `helm uninstall --keep-history` keeps an uninstalled release.
    Destroy,
}

/// How the apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Outcome {
    Succeeded,
    Failed,
    Interrupted,
}

/// One release as an apply left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReleaseRecord {
    /// Every object applied and ready.
    pub ready: bool,
    /// [`object_key`] → applied-hash.
    pub objects: BTreeMap<String, String>,
}

/// One apply of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Revision {
    pub revision: u64,
    pub environment: String,
    /// RFC 3339, UTC.
    pub time: String,
    #[serde(flatten)]
    pub source: Source,
    /// `user@host`.
    pub user: String,
    /// homelab's version.
    pub homelab: String,
    pub cause: Cause,
    /// The revision a rollback or restore rendered again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<u64>,
    /// The releases the run was limited to (`-l`); empty for the whole environment.
    #[serde(default)]
    pub selected: Vec<String>,
    pub outcome: Outcome,
    pub releases: BTreeMap<String, ReleaseRecord>,
}

impl Revision {
    /// The record of `report`, the outcome of applying `plan` (revision number unset).
    pub(crate) fn of_run(
        plan: &ApplyPlan,
        report: &ApplyReport,
        source: Source,
        cause: Cause,
    ) -> Self {
        let mut releases: BTreeMap<String, ReleaseRecord> = BTreeMap::new();
        for (i, object) in plan.objects.iter().enumerate() {
            let record = releases
                .entry(object.release.clone())
                .or_insert(ReleaseRecord {
                    ready: true,
                    objects: BTreeMap::new(),
                });
            let applied = matches!(report.status.get(i), Some(ObjectStatus::Applied(_)));
            if !applied || report.not_ready.iter().any(|n| n.id == i) {
                record.ready = false;
            }
            if let Some(hash) = object.applied_hash() {
                let key = object_key(&object.group_kind(), object.namespace(), object.name());
                record.objects.insert(key, hash.to_string());
            }
        }
        let outcome = match (report.ok, report.cancelled) {
            (true, _) => Outcome::Succeeded,
            (false, true) => Outcome::Interrupted,
            (false, false) => Outcome::Failed,
        };
        Revision {
            revision: 0,
            environment: plan.environment.clone(),
            time: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
            source,
            user: user_at_host(),
            homelab: env!("CARGO_PKG_VERSION").to_string(),
            cause,
            restores: None,
            selected: plan.selected.iter().cloned().collect(),
            outcome,
            releases,
        }
    }

    /// The commit, shortened to 12 characters, with `+dirty` when the tree was.
    pub(crate) fn short_commit(&self) -> String {
        let short = match &self.source.commit {
            Some(c) => c.chars().take(12).collect(),
            None => "(no git)".to_string(),
        };
        match self.source.dirty {
            true => format!("{short}+dirty"),
            false => short,
        }
    }

    /// The releases `homelab destroy` deleted, given the history before it: the
    /// `selected` ones, or without a selection every release whose latest record is not
    /// already a destroy. Each is recorded with no objects, so `history` shows it changed
    /// and the next apply of it is compared with nothing.
    pub(crate) fn destroyed(
        history: &History,
        selected: &[String],
    ) -> BTreeMap<String, ReleaseRecord> {
        let names: Vec<String> = match selected.is_empty() {
            false => selected.to_vec(),
            true => {
                let mut all: Vec<String> = history
                    .revisions
                    .iter()
                    .flat_map(|r| r.releases.keys().cloned())
                    .collect();
                all.sort();
                all.dedup();
                all.retain(|name| {
                    history
                        .last_with(name, u64::MAX)
                        .is_some_and(|r| r.cause != Cause::Destroy)
                });
                all
            }
        };
        names
            .into_iter()
            .map(|name| {
                let gone = ReleaseRecord {
                    ready: false,
                    objects: BTreeMap::new(),
                };
                (name, gone)
            })
            .collect()
    }

    /// Why this revision cannot be rendered again, if it cannot.
    pub(crate) fn unrenderable(&self) -> Option<String> {
        if self.cause == Cause::Destroy {
            return Some(format!(
                "revision {}: it destroyed its releases, so there is nothing to render again. Roll back to a revision before it (`homelab history`), or run `homelab rollback` without --to, which picks the last succeeded apply",
                self.revision
            ));
        }
        match (&self.source.commit, self.source.dirty) {
            (None, _) => Some(format!(
                "revision {} was not applied from a git repository, so there is no commit to render again",
                self.revision
            )),
            (Some(c), true) => Some(format!(
                "revision {} was applied from a work tree with uncommitted changes on top of {}; those changes were not recorded, so it cannot be rendered again. Pick a revision applied from a clean tree (`homelab history`)",
                self.revision,
                c.chars().take(12).collect::<String>()
            )),
            (Some(_), false) => None,
        }
    }
}

/// How a record names an object: `Kind.group/namespace/name` (`Kind.group/name` when
/// cluster-scoped), the group-kind as ApplySets write it.
pub(crate) fn object_key(group_kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{group_kind}/{ns}/{name}"),
        None => format!("{group_kind}/{name}"),
    }
}

/// `user@host` of this process (the lock's identity without the pid).
pub(crate) fn user_at_host() -> String {
    let identity = super::lock::identity();
    match identity.rsplit_once(" pid ") {
        Some((who, _)) => who.to_string(),
        None => identity,
    }
}

/// Revisions of one environment, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    pub revisions: Vec<Revision>,
}

impl History {
    /// `revisions` sorted by number.
    pub(crate) fn new(mut revisions: Vec<Revision>) -> History {
        revisions.sort_by_key(|r| r.revision);
        History { revisions }
    }

    pub(crate) fn latest(&self) -> Option<&Revision> {
        self.revisions.last()
    }

    pub(crate) fn get(&self, revision: u64) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.revision == revision)
    }

    /// The latest revision that recorded `release`, before revision `before`.
    pub(crate) fn last_with(&self, release: &str, before: u64) -> Option<&Revision> {
        self.revisions
            .iter()
            .rev()
            .filter(|r| r.revision < before)
            .find(|r| r.releases.contains_key(release))
    }

    /// The releases of `revision` whose objects differ from the previous revision that
    /// recorded them (or that no earlier revision recorded).
    pub(crate) fn changed(&self, revision: &Revision) -> Vec<String> {
        revision
            .releases
            .iter()
            .filter(|(name, record)| {
                self.last_with(name, revision.revision)
                    .and_then(|r| r.releases.get(*name))
                    .is_none_or(|before| before.objects != record.objects)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// What `rollback` goes back to without `--to`: the latest succeeded revision
    /// before the latest one that covers every release of `releases` (every release
    /// when empty).
    pub(crate) fn previous_success(&self, releases: &[String]) -> Option<&Revision> {
        let latest = self.latest()?;
        self.revisions
            .iter()
            .rev()
            .filter(|r| r.revision < latest.revision && r.outcome == Outcome::Succeeded)
            .filter(|r| r.cause != Cause::Destroy)
            .find(|r| releases.iter().all(|name| r.releases.contains_key(name)))
    }

    /// The latest revision in which `release` became ready, before revision `before`:
    /// what `apply --atomic` restores.
    pub(crate) fn last_ready(&self, release: &str, before: u64) -> Option<&Revision> {
        self.revisions
            .iter()
            .rev()
            .filter(|r| r.revision < before)
            .find(|r| r.releases.get(release).is_some_and(|rec| rec.ready))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(n: u64, outcome: Outcome, releases: &[(&str, &str, bool)]) -> Revision {
        Revision {
            revision: n,
            environment: "dev".into(),
            time: "2026-01-01T00:00:00Z".into(),
            source: Source {
                commit: Some("0123456789abcdef0123".into()),
                dirty: false,
            },
            user: "ayumi@laptop".into(),
            homelab: "0.1.0".into(),
            cause: Cause::Apply,
            restores: None,
            selected: vec![],
            outcome,
            releases: releases
                .iter()
                .map(|(name, hash, ready)| {
                    let objects = [("Deployment/web/web".to_string(), hash.to_string())].into();
                    (
                        name.to_string(),
                        ReleaseRecord {
                            ready: *ready,
                            objects,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn changed_releases_compare_with_the_last_revision_that_had_them() {
        let h = History::new(vec![
            revision(2, Outcome::Succeeded, &[("web", "b", true)]),
            revision(
                1,
                Outcome::Succeeded,
                &[("web", "a", true), ("db", "x", true)],
            ),
            revision(
                3,
                Outcome::Failed,
                &[("web", "b", true), ("db", "y", false)],
            ),
        ]);
        assert_eq!(h.changed(h.get(1).unwrap()), ["db", "web"]);
        assert_eq!(h.changed(h.get(2).unwrap()), ["web"]);
        assert_eq!(h.changed(h.get(3).unwrap()), ["db"]);
        assert_eq!(h.previous_success(&[]).unwrap().revision, 2);
        assert_eq!(h.previous_success(&["db".into()]).unwrap().revision, 1);
        assert_eq!(h.last_ready("db", 3).unwrap().revision, 1);
    }

    #[test]
    fn a_dirty_or_gitless_revision_cannot_be_rendered_again() {
        let mut r = revision(4, Outcome::Succeeded, &[]);
        assert_eq!(r.unrenderable(), None);
        r.source.dirty = true;
        assert!(r.unrenderable().unwrap().contains("uncommitted changes"));
        assert_eq!(r.short_commit(), "0123456789ab+dirty");
        r.source.commit = None;
        assert!(r.unrenderable().unwrap().contains("not applied from a git"));
    }

    #[test]
    fn a_destroy_names_what_was_still_there_and_is_never_a_rollback_target() {
        let applied = revision(
            1,
            Outcome::Succeeded,
            &[("web", "a", true), ("db", "x", true)],
        );
        let before = History::new(vec![applied.clone()]);
        let mut one = revision(2, Outcome::Succeeded, &[]);
        one.cause = Cause::Destroy;
        one.selected = vec!["db".into()];
        one.releases = Revision::destroyed(&before, &one.selected);
        assert_eq!(one.releases.keys().collect::<Vec<_>>(), ["db"]);
        assert!(one.releases["db"].objects.is_empty() && !one.releases["db"].ready);

        // A whole-environment destroy names every release but the one already gone.
        let before = History::new(vec![applied.clone(), one.clone()]);
        let mut all = revision(3, Outcome::Succeeded, &[]);
        all.cause = Cause::Destroy;
        all.releases = Revision::destroyed(&before, &[]);
        assert_eq!(all.releases.keys().collect::<Vec<_>>(), ["web"]);

        let h = History::new(vec![applied, one, all.clone()]);
        assert_eq!(h.changed(&all), ["web"]);
        assert_eq!(h.previous_success(&[]).unwrap().revision, 1);
        assert_eq!(h.previous_success(&["db".into()]).unwrap().revision, 1);
        assert_eq!(h.last_ready("web", 4).unwrap().revision, 1);
        assert!(all
            .unrenderable()
            .unwrap()
            .contains("it destroyed its releases"));
    }

    #[test]
    fn the_record_round_trips_through_json() {
        let r = revision(7, Outcome::Succeeded, &[("web", "sha256:1", true)]);
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.contains("\"commit\":\"0123456789abcdef0123\""),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Revision>(&text).unwrap(), r);
    }
}
