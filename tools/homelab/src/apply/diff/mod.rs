//! `diff`: what apply would change, object by object. Each object is server-side
//! applied with `dryRun=All` (so defaults, admission and field ownership are the
//! server's own), then compared with the live object, both without the fields the
//! server owns (managedFields, resourceVersion, generation, uid, timestamps, status).
//!
//! # Guarantees
//! Secret values never appear: each is `<redacted>`, marked `(changed)` or `(added)`
//! when it differs from the live value, and the whole text passes the [`Redactor`].

mod secret_mask;
mod text;

use serde::Serialize;
use serde_json::Value;

use super::adopt::{find_adoptions, take_over, Adoption, HelmOwner, Leftover, TakeOverError};
use super::applyset::Parent;
use super::client::ApplyParams;
use super::event::FieldConflict;
use super::live::LiveSet;
use super::plan::{ApplyPlan, PlannedObject};
use super::prune::candidates;
use super::run::{field_conflicts, Cluster};
use super::wait::{finalizers, is_terminating};
use crate::render::emit::to_yaml;
use crate::render::Redactor;
use secret_mask::mask_secret;
use text::{changed_text, normalize, render_diff, unified};

/// What apply would do to one object.
// The variants' names are the `change` values of `diff --output json`, so `Change`
// stays although clippy (once the enum stopped being exported) would rename it.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "change", content = "detail")]
pub enum Change {
    Create,
    Change,
    Unchanged,
    /// Fields owned by other managers; apply would stop here without `--force-conflicts`.
    Conflict(Vec<FieldConflict>),
    /// The dry run itself failed; the server's message.
    Error(String),
    /// Installed by Helm; `apply --adopt` takes it over. `conflicts`: fields whose
    /// values differ from what Helm (or another manager) set, which stop the take-over.
    #[serde(rename_all = "camelCase")]
    Adopt {
        helm_release: String,
        conflicts: Vec<FieldConflict>,
    },
    /// A member the server is deleting: apply waits until it is gone, then creates it.
    Terminating {
        finalizers: Vec<String>,
    },
}

/// One object's diff.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectDiff {
    pub object: String,
    pub release: String,
    #[serde(flatten)]
    pub change: Change,
    /// A unified diff of the YAML, live then desired; empty when unchanged.
    pub diff: String,
}

/// A member apply would prune (or keep, under the data-loss guard).
#[derive(Debug, Clone, Serialize)]
pub struct PruneDiff {
    pub object: String,
    /// Why the data-loss guard keeps it, if it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// A Helm hook of the plan: run by its phases, not diffed as a member.
#[derive(Debug, Clone, Serialize)]
pub struct HookDiff {
    pub object: String,
    pub release: String,
    /// Its phases as Helm spells them (`pre-install`, `test`).
    pub phases: Vec<String>,
}

/// Every object's diff, in apply order, then what would be pruned.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub objects: Vec<ObjectDiff>,
    pub hooks: Vec<HookDiff>,
    pub prune: Vec<PruneDiff>,
    /// Why prune candidates could not be listed, if they could not.
    pub prune_error: Option<String>,
    /// Objects Helm releases had that the lab does not render (never pruned).
    pub helm_leftovers: Vec<Leftover>,
    /// Helm release Secrets that could not be read, or why none could be listed.
    pub helm_warnings: Vec<String>,
    pub requests: u64,
}

impl DiffReport {
    fn count(&self, f: impl Fn(&Change) -> bool) -> usize {
        self.objects.iter().filter(|o| f(&o.change)).count()
    }
    /// Objects to create, those being deleted (created again once gone) included.
    pub fn to_create(&self) -> usize {
        self.count(|c| matches!(c, Change::Create | Change::Terminating { .. }))
    }
    pub fn to_adopt(&self) -> usize {
        self.count(|c| matches!(c, Change::Adopt { .. }))
    }
    pub fn to_change(&self) -> usize {
        self.count(|c| *c == Change::Change)
    }
    pub fn unchanged(&self) -> usize {
        self.count(|c| *c == Change::Unchanged)
    }
    /// Objects whose dry run failed or conflicted (and a failed prune listing).
    pub fn problems(&self) -> usize {
        self.count(|c| match c {
            Change::Conflict(_) | Change::Error(_) => true,
            Change::Adopt { conflicts, .. } => !conflicts.is_empty(),
            _ => false,
        }) + usize::from(self.prune_error.is_some())
    }
    pub fn to_prune(&self) -> usize {
        self.prune.iter().filter(|p| p.kept.is_none()).count()
    }
    pub fn has_changes(&self) -> bool {
        self.to_create() + self.to_change() + self.to_adopt() + self.to_prune() > 0
    }
    /// `N to create, M to change, K unchanged` (and problems, when there are some).
    pub fn summary(&self) -> String {
        let adopt = match self.to_adopt() {
            0 => String::new(),
            n => format!("{n} to adopt from Helm, "),
        };
        let mut s = format!(
            "{} to create, {} to change, {adopt}{} unchanged, {} to prune",
            self.to_create(),
            self.to_change(),
            self.unchanged(),
            self.to_prune()
        );
        let kept = self.prune.len() - self.to_prune();
        if kept > 0 {
            s.push_str(&format!(", {kept} kept by the data-loss guard"));
        }
        if self.problems() > 0 {
            s.push_str(&format!(", {} with problems", self.problems()));
        }
        s
    }
}

/// Diffs every object of `plan` against `cluster`, and lists what apply would prune
/// (with `allow_data_loss` as apply would be given it).
pub async fn diff(
    cluster: &Cluster,
    plan: &ApplyPlan,
    force_conflicts: bool,
    allow_data_loss: bool,
    redactor: &Redactor,
) -> DiffReport {
    let before = cluster.client.requests_sent();
    let live = LiveSet::new(&plan.applyset_id);
    let (adoption, mut helm_warnings) = match find_adoptions(cluster, plan, &live, true).await {
        Ok(a) => {
            let warnings = a.warnings.clone();
            (a, warnings)
        }
        Err(e) => (Adoption::default(), vec![e]),
    };
    let order: Vec<usize> = plan.stages.iter().flat_map(|s| s.objects()).collect();
    let objects = futures::future::join_all(order.iter().map(|&i| {
        let owner = adoption.owned.get(&i);
        diff_object(
            cluster,
            plan,
            &plan.objects[i],
            owner,
            force_conflicts,
            redactor,
        )
    }))
    .await;
    helm_warnings
        .iter_mut()
        .for_each(|w| *w = redactor.redact(w));
    let (prune, prune_error) = match prune_candidates(cluster, plan, &live, allow_data_loss).await {
        Ok(p) => (p, None),
        Err(e) => (Vec::new(), Some(redactor.redact(&e))),
    };
    DiffReport {
        objects,
        hooks: plan.hooks.iter().filter_map(hook_diff).collect(),
        prune,
        prune_error,
        helm_leftovers: adoption.leftovers,
        helm_warnings,
        requests: cluster.client.requests_sent() - before,
    }
}

fn hook_diff(hook: &super::PlannedObject) -> Option<HookDiff> {
    let super::hooks::Role::Hook(declared) = super::hooks::role(&hook.body) else {
        return None;
    };
    Some(HookDiff {
        object: hook.describe(),
        release: hook.release.clone(),
        phases: declared
            .phases
            .iter()
            .map(|p| super::hook_run::phase_name(*p))
            .collect(),
    })
}

async fn prune_candidates(
    cluster: &Cluster,
    plan: &ApplyPlan,
    live: &LiveSet,
    allow_data_loss: bool,
) -> Result<Vec<PruneDiff>, String> {
    let parent = Parent::new(&plan.environment, &plan.applyset_id);
    let old = parent
        .read(&cluster.client)
        .await
        .map_err(|e| e.to_string())?;
    let scope = old
        .group_kinds
        .union(&plan.group_kinds())
        .cloned()
        .collect();
    let found = candidates(
        &cluster.client,
        &cluster.discovery,
        live,
        plan,
        &scope,
        allow_data_loss,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(found
        .iter()
        .map(|c| PruneDiff {
            object: c.describe(),
            kept: c.kept.clone(),
        })
        .collect())
}

async fn diff_object(
    cluster: &Cluster,
    plan: &ApplyPlan,
    object: &PlannedObject,
    owner: Option<&HelmOwner>,
    force: bool,
    redactor: &Redactor,
) -> ObjectDiff {
    let result = |change: Change, diff: String| ObjectDiff {
        object: object.describe(),
        release: object.release.clone(),
        change,
        diff,
    };
    let (resource, served) = match cluster.resource_of(plan, object).await {
        Ok(r) => r,
        Err(message) => return result(Change::Error(redactor.redact(&message)), String::new()),
    };
    let create_desired = || {
        let text = render_diff(object, None, Some(object.body.clone()), redactor);
        result(Change::Create, text)
    };
    if !served {
        return create_desired();
    }
    let path = resource.object_path(object.namespace(), object.name());
    let params = ApplyParams {
        dry_run: true,
        force,
    };
    let mut body = object.body.clone();
    if !resource.namespaced {
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("namespace");
        }
    }
    if let Some(owner) = owner {
        return adopt_diff(cluster, object, owner, &path, &body, redactor).await;
    }
    let (created, dry) = match cluster.client.apply(&path, &body, params).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(conflicts) = field_conflicts(&e) {
                return result(Change::Conflict(conflicts), String::new());
            }
            let ns_planned = object.namespace().is_some_and(|ns| {
                plan.objects
                    .iter()
                    .any(|o| o.kind() == "Namespace" && o.group().is_empty() && o.name() == ns)
            });
            if e.is_not_found() && ns_planned {
                return create_desired();
            }
            return result(
                Change::Error(redactor.redact(&e.to_string())),
                String::new(),
            );
        }
    };
    if created {
        let text = render_diff(object, None, Some(dry), redactor);
        return result(Change::Create, text);
    }
    let live = match cluster.client.get(&path).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            let text = render_diff(object, None, Some(dry), redactor);
            return result(Change::Create, text);
        }
        Err(e) => {
            return result(
                Change::Error(redactor.redact(&e.to_string())),
                String::new(),
            )
        }
    };
    if is_terminating(&live) {
        let finalizers = finalizers(&live);
        let text = render_diff(object, None, Some(object.body.clone()), redactor);
        return result(Change::Terminating { finalizers }, text);
    }
    let mut live = normalize(live);
    let mut desired = normalize(dry);
    if live == desired {
        return result(Change::Unchanged, String::new());
    }
    if object.is_secret() {
        mask_secret(Some(&mut live), &mut desired);
    }
    if live == desired {
        // Only a secret value's encoding differed in a way the mask hides; still a change.
        return result(
            Change::Change,
            format!("Secret data of {} differs\n", object.describe()),
        );
    }
    let text = unified(object, &to_yaml(&live), &to_yaml(&desired), redactor);
    result(Change::Change, text)
}

/// An object Helm installed: its take-over dry-run against the live object.
async fn adopt_diff(
    cluster: &Cluster,
    object: &PlannedObject,
    owner: &HelmOwner,
    path: &str,
    body: &Value,
    redactor: &Redactor,
) -> ObjectDiff {
    let result = |conflicts: Vec<FieldConflict>, diff: String| ObjectDiff {
        object: object.describe(),
        release: object.release.clone(),
        change: Change::Adopt {
            helm_release: owner.release.clone(),
            conflicts,
        },
        diff,
    };
    let dry = match take_over(&cluster.client, path, body, true).await {
        Ok((_, dry)) => dry,
        Err(TakeOverError::Conflicts(conflicts)) => return result(conflicts, String::new()),
        Err(TakeOverError::Request(e)) => {
            return ObjectDiff {
                change: Change::Error(redactor.redact(&e.to_string())),
                ..result(Vec::new(), String::new())
            }
        }
    };
    let live = match cluster.client.get(path).await {
        Ok(Some(live)) => live,
        _ => Value::Null,
    };
    result(Vec::new(), changed_text(object, live, dry, redactor))
}
