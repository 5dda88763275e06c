//! Taking over what Helm installed (`apply --adopt`): a planned object that is live,
//! not yet a member, and listed in the newest manifest of a Helm release
//! ([`super::adopt_helm`]) is Helm's. `diff` shows it as "adopt"; apply refuses it
//! unless `--adopt`, and then applies it as field manager `homelab` without force, so
//! fields whose values equal Helm's become shared and only differing values conflict,
//! each named with its manager. The one exception is homelab's own
//! `app.kubernetes.io/managed-by` label, which Helm sets to `Helm`: that field alone is
//! taken over, since it is what adoption means.
//!
//! Objects of such a release that the lab no longer renders are never pruned (they
//! carry no ApplySet label); they are listed with the `kubectl delete` that removes
//! them. Helm's release Secrets stay unless `--forget-helm-release` deletes them once
//! everything applied.

use std::collections::HashMap;

use serde_json::Value;

use super::adopt_helm::{helm_releases, HelmObject, HelmRelease};
use super::client::{ApiClient, ApplyParams, RequestError};
use super::event::FieldConflict;
use super::live::{find, LiveSet};
use super::plan::ApplyPlan;
use super::resource::{split_api_version, Resource};
use super::run::{field_conflicts, Cluster};
use crate::render::ownership::{MANAGED_BY_LABEL, PART_OF_LABEL};

/// The Helm release a live object was installed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmOwner {
    /// `namespace/name`.
    pub release: String,
    pub revision: u64,
}

/// An object a Helm release had that the lab does not render.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Leftover {
    pub object: String,
    /// `namespace/name` of the Helm release.
    pub release: String,
    /// The `kubectl delete` that removes it.
    pub command: String,
}

/// What Helm installed that the plan touches.
#[derive(Debug, Clone, Default)]
pub struct Adoption {
    /// Plan index → the release whose live object it is.
    pub owned: HashMap<usize, HelmOwner>,
    /// Releases that installed a planned object.
    pub releases: Vec<HelmRelease>,
    pub leftovers: Vec<Leftover>,
    /// Release Secrets that could not be read.
    pub warnings: Vec<String>,
}

impl Adoption {
    /// Why apply refuses `index` without `--adopt`, if it does.
    pub fn refusal(&self, index: usize) -> Option<String> {
        self.owned.get(&index).map(|o| {
            format!(
                "it was installed by Helm release {} (revision {}); rerun with --adopt to take it over from Helm",
                o.release, o.revision
            )
        })
    }
}

/// Finds the planned objects Helm installed (and, with `leftovers`, what Helm has that
/// the plan lacks). One LIST of Helm's Secrets, then a GET per planned object Helm
/// lists that is not yet a member, and per leftover.
///
/// # Errors
/// When Helm's Secrets or a live object cannot be read.
pub(crate) async fn find_adoptions(
    cluster: &Cluster,
    plan: &ApplyPlan,
    live: &LiveSet,
    leftovers: bool,
) -> Result<Adoption, String> {
    let (releases, warnings) = match helm_releases(&cluster.client).await {
        Ok(found) => found,
        // Without the right to list Secrets cluster-wide there is nothing to adopt from.
        Err(e) if e.code() == Some(403) => (
            Vec::new(),
            vec![format!("Helm's release Secrets cannot be listed, so nothing Helm installed is recognised: {e}")],
        ),
        Err(e) => return Err(format!("Cannot list Helm's release Secrets: {e}")),
    };
    let mut adoption = Adoption {
        warnings,
        ..Adoption::default()
    };
    if releases.is_empty() {
        return Ok(adoption);
    }
    let mut by_name: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, o) in plan.objects.iter().enumerate() {
        by_name
            .entry((o.group(), o.kind(), o.name()))
            .or_default()
            .push(i);
    }
    let find = Finder {
        cluster,
        live,
        plan,
        by_name,
    };
    for release in releases {
        let mut matched = false;
        let mut unmatched = Vec::new();
        for object in &release.objects {
            let resource = cluster
                .discovery
                .resolve(&object.api_version, &object.kind)
                .await
                .ok();
            let namespace = effective_namespace(object, &release, resource.as_ref());
            let ns = namespace.as_deref();
            match (find.planned(object, ns), resource) {
                (Some(i), Some(resource)) => {
                    matched = true;
                    if find.foreign_live(&resource, ns, &object.name).await? {
                        let owner = HelmOwner {
                            release: release.describe(),
                            revision: release.revision,
                        };
                        adoption.owned.insert(i, owner);
                    }
                }
                (Some(_), None) => matched = true,
                (None, Some(resource)) => unmatched.push((object, resource, namespace)),
                (None, None) => {}
            }
        }
        if !matched {
            continue;
        }
        if leftovers {
            for (object, resource, namespace) in unmatched {
                let ns = namespace.as_deref();
                if find.foreign_live(&resource, ns, &object.name).await? {
                    let context = &cluster.context;
                    let found = leftover(context, &release, &resource, ns, &object.name);
                    adoption.leftovers.push(found);
                }
            }
        }
        adoption.releases.push(release);
    }
    Ok(adoption)
}

/// What matching Helm's objects against the plan and the cluster needs.
struct Finder<'a> {
    cluster: &'a Cluster,
    live: &'a LiveSet,
    plan: &'a ApplyPlan,
    /// Plan indexes by (group, kind, name).
    by_name: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
}

impl Finder<'_> {
    /// The planned object that is `object` of a Helm release, living in `namespace`.
    fn planned(&self, object: &HelmObject, namespace: Option<&str>) -> Option<usize> {
        let group = split_api_version(&object.api_version).0;
        self.by_name
            .get(&(group, object.kind.as_str(), object.name.as_str()))
            .into_iter()
            .flatten()
            .copied()
            .find(|&i| {
                let o = &self.plan.objects[i];
                o.namespace().filter(|_| namespace.is_some()) == namespace
            })
    }

    /// Whether the object exists and is not already a member of the set.
    async fn foreign_live(
        &self,
        resource: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<bool, String> {
        let client = &self.cluster.client;
        if let Ok(members) = self.live.members(client, resource).await {
            if find(&members, namespace, name).is_some() {
                return Ok(false);
            }
        }
        let path = resource.object_path(namespace, name);
        let object = client
            .get(&path)
            .await
            .map_err(|e| format!("reading {path}: {e}"))?;
        Ok(object.is_some_and(|o| {
            o.pointer("/metadata/labels")
                .and_then(|l| l.get(PART_OF_LABEL))
                .and_then(Value::as_str)
                != Some(self.plan.applyset_id.as_str())
        }))
    }
}

/// The namespace an object of a release lives in: its own, else the release's (for
/// namespaced kinds; `None` for cluster-scoped ones).
fn effective_namespace(
    object: &HelmObject,
    release: &HelmRelease,
    resource: Option<&Resource>,
) -> Option<String> {
    match resource {
        Some(r) if !r.namespaced => None,
        _ => Some(
            object
                .namespace
                .clone()
                .unwrap_or_else(|| release.namespace.clone()),
        ),
    }
}

fn leftover(
    context: &str,
    release: &HelmRelease,
    resource: &Resource,
    namespace: Option<&str>,
    name: &str,
) -> Leftover {
    let target = match resource.group.as_str() {
        "" => format!("{}/{}", resource.plural, name),
        group => format!("{}.{group}/{}", resource.plural, name),
    };
    let mut command = format!(
        "kubectl --context {} delete {}",
        quote(context),
        quote(&target)
    );
    if let Some(ns) = namespace {
        command.push_str(&format!(" -n {}", quote(ns)));
    }
    Leftover {
        object: match namespace {
            Some(ns) => format!("{}/{ns}/{name}", resource.kind),
            None => format!("{}/{name}", resource.kind),
        },
        release: release.describe(),
        command,
    }
}

/// A word for a POSIX shell: as is when it is plainly safe, else single-quoted (names
/// come from the cluster, which is not trusted to spell them safely).
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@=".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// What a run found of Helm's, for the person to act on.
#[derive(Debug, Clone, Default)]
pub struct HelmReport {
    /// `namespace/name` of the releases whose objects the plan holds.
    pub releases: Vec<String>,
    pub leftovers: Vec<Leftover>,
    /// `namespace/name` of the release Secrets `--forget-helm-release` deleted.
    pub forgotten: Vec<String>,
    pub warnings: Vec<String>,
}

impl HelmReport {
    pub fn of(adoption: &Adoption) -> HelmReport {
        HelmReport {
            releases: adoption
                .releases
                .iter()
                .map(HelmRelease::describe)
                .collect(),
            leftovers: adoption.leftovers.clone(),
            forgotten: Vec::new(),
            warnings: adoption.warnings.clone(),
        }
    }
}

/// Why a take-over did not happen.
#[derive(Debug, Clone)]
pub(crate) enum TakeOverError {
    /// Fields whose values differ from another manager's.
    Conflicts(Vec<FieldConflict>),
    Request(RequestError),
}

/// Applies `body` at `path` without force; when the only conflicts are on homelab's
/// managed-by label, applies again taking that over. Returns the server's object.
pub(crate) async fn take_over(
    client: &ApiClient,
    path: &str,
    body: &Value,
    dry_run: bool,
) -> Result<(bool, Value), TakeOverError> {
    let params = ApplyParams {
        dry_run,
        force: false,
    };
    let error = match client.apply(path, body, params).await {
        Ok(r) => return Ok(r),
        Err(e) => e,
    };
    match field_conflicts(&error) {
        Some(conflicts) if conflicts.iter().all(|c| is_managed_by(&c.field)) => client
            .apply(
                path,
                body,
                ApplyParams {
                    force: true,
                    ..params
                },
            )
            .await
            .map_err(|e| match field_conflicts(&e) {
                Some(c) => TakeOverError::Conflicts(c),
                None => TakeOverError::Request(e),
            }),
        Some(conflicts) => Err(TakeOverError::Conflicts(
            conflicts
                .into_iter()
                .filter(|c| !is_managed_by(&c.field))
                .collect(),
        )),
        None => Err(TakeOverError::Request(error)),
    }
}

/// `.metadata.labels.app.kubernetes.io/managed-by` (or with the key in brackets).
fn is_managed_by(field: &str) -> bool {
    let Some(key) = field.strip_prefix(".metadata.labels") else {
        return false;
    };
    let key = key
        .trim_start_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']');
    key.trim_matches('"') == MANAGED_BY_LABEL
}

/// Deletes every revision's Secret of `releases` (`helm list` forgets them, and Helm
/// can no longer roll them back over homelab). Returns the Secrets deleted.
///
/// # Errors
/// The first Secret that could not be deleted.
pub(crate) async fn forget_releases(
    client: &ApiClient,
    releases: &[HelmRelease],
    dry_run: bool,
) -> Result<Vec<String>, String> {
    let mut forgotten = Vec::new();
    for release in releases {
        for secret in &release.secrets {
            let path = format!("/api/v1/namespaces/{}/secrets/{secret}", release.namespace);
            client.delete(&path, dry_run).await.map_err(|e| {
                format!(
                    "deleting Helm's release Secret {}/{secret}: {e}",
                    release.namespace
                )
            })?;
            forgotten.push(format!("{}/{secret}", release.namespace));
        }
    }
    Ok(forgotten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_managed_by_label_is_taken_over() {
        assert!(is_managed_by(
            ".metadata.labels.app.kubernetes.io/managed-by"
        ));
        assert!(is_managed_by(
            ".metadata.labels[app.kubernetes.io/managed-by]"
        ));
        assert!(!is_managed_by(".metadata.labels.helm.sh/chart"));
        assert!(!is_managed_by(".spec.replicas"));
    }

    #[test]
    fn words_from_the_cluster_are_quoted_for_the_shell() {
        assert_eq!(quote("deployments.apps/web"), "deployments.apps/web");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("x';rm -rf ~'"), "'x'\\'';rm -rf ~'\\'''");
        assert_eq!(quote(""), "''");
    }
}
