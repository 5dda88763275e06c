//! The environment's ApplySet parent: a Secret `homelab-<env>` in `kube-system`, as
//! kubectl's ApplySet (KEP-3659) defines it, so `kubectl apply --prune --applyset`
//! and homelab agree on what belongs to the set.
//!
//! - label `applyset.kubernetes.io/id`: the id every member carries in
//!   `applyset.kubernetes.io/part-of`;
//! - annotation `applyset.kubernetes.io/tooling`: `homelab/<version>`;
//! - annotation `applyset.kubernetes.io/contains-group-kinds`: the group-kinds members
//!   may have (`Deployment.apps,Namespace,…`, sorted);
//! - annotation `applyset.kubernetes.io/additional-namespaces`: the namespaces besides
//!   the parent's that members live in.
//!
//! Before applying, the parent is widened to old ∪ new (so an interrupted run still
//! knows where to look); after a successful prune it is narrowed to the new set.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::client::{ApiClient, ApplyParams, RequestError};
use super::resource::Resource;
use crate::render::ownership::{applyset_parent_name, APPLYSET_PARENT_NAMESPACE};

pub(crate) const ID_LABEL: &str = "applyset.kubernetes.io/id";
pub(crate) const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
pub(crate) const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
pub(crate) const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";

/// `homelab/<version>`.
pub(crate) fn tooling() -> String {
    format!("homelab/{}", env!("CARGO_PKG_VERSION"))
}

/// What the parent records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Membership {
    pub group_kinds: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
}

impl Membership {
    pub(crate) fn union(&self, other: &Membership) -> Membership {
        Membership {
            group_kinds: self
                .group_kinds
                .union(&other.group_kinds)
                .cloned()
                .collect(),
            namespaces: self.namespaces.union(&other.namespaces).cloned().collect(),
        }
    }
}

/// Why the parent cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ParentError {
    #[error("The ApplySet parent Secret {namespace}/{name} belongs to other tooling (`{tooling}`); homelab will not adopt or prune its set. Remove it or pick another environment name")]
    ForeignTooling {
        namespace: String,
        name: String,
        tooling: String,
    },
    #[error("The ApplySet parent Secret {namespace}/{name} has id `{found}`, expected `{expected}`; it was not made by homelab for this environment")]
    WrongId {
        namespace: String,
        name: String,
        found: String,
        expected: String,
    },
    #[error("Reading or writing the ApplySet parent failed: {0}")]
    Request(#[from] RequestError),
}

/// The parent Secret of one environment.
pub(crate) struct Parent {
    pub name: String,
    pub id: String,
    path: String,
}

fn secrets() -> Resource {
    Resource {
        group: String::new(),
        version: "v1".into(),
        kind: "Secret".into(),
        plural: "secrets".into(),
        namespaced: true,
    }
}

fn split(annotation: Option<&Value>) -> BTreeSet<String> {
    annotation
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Parent {
    pub(crate) fn new(environment: &str, id: &str) -> Parent {
        let name = applyset_parent_name(environment);
        Parent {
            path: secrets().object_path(Some(APPLYSET_PARENT_NAMESPACE), &name),
            name,
            id: id.to_string(),
        }
    }

    /// The membership the live parent records (empty when there is none yet), after
    /// checking it is ours.
    pub(crate) async fn read(&self, client: &ApiClient) -> Result<Membership, ParentError> {
        let Some(live) = client.get(&self.path).await? else {
            return Ok(Membership::default());
        };
        let annotations = live.pointer("/metadata/annotations");
        let tooling = annotations
            .and_then(|a| a.get(TOOLING_ANNOTATION))
            .and_then(Value::as_str)
            .unwrap_or("");
        if !tooling.is_empty() && !tooling.starts_with("homelab/") {
            return Err(ParentError::ForeignTooling {
                namespace: APPLYSET_PARENT_NAMESPACE.into(),
                name: self.name.clone(),
                tooling: tooling.into(),
            });
        }
        let found = live
            .pointer("/metadata/labels")
            .and_then(|l| l.get(ID_LABEL))
            .and_then(Value::as_str)
            .unwrap_or("");
        if found != self.id {
            return Err(ParentError::WrongId {
                namespace: APPLYSET_PARENT_NAMESPACE.into(),
                name: self.name.clone(),
                found: found.into(),
                expected: self.id.clone(),
            });
        }
        Ok(Membership {
            group_kinds: split(annotations.and_then(|a| a.get(GROUP_KINDS_ANNOTATION))),
            namespaces: split(annotations.and_then(|a| a.get(NAMESPACES_ANNOTATION))),
        })
    }

    /// The parent object recording `membership`.
    pub(crate) fn body(&self, membership: &Membership) -> Value {
        let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
        let namespaces: BTreeSet<String> = membership
            .namespaces
            .iter()
            .filter(|n| n.as_str() != APPLYSET_PARENT_NAMESPACE)
            .cloned()
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": self.name,
                "namespace": APPLYSET_PARENT_NAMESPACE,
                "labels": { ID_LABEL: self.id },
                "annotations": {
                    TOOLING_ANNOTATION: tooling(),
                    GROUP_KINDS_ANNOTATION: join(&membership.group_kinds),
                    NAMESPACES_ANNOTATION: join(&namespaces),
                },
            },
            "type": "Opaque",
        })
    }

    /// Records `membership` on the server.
    pub(crate) async fn write(
        &self,
        client: &ApiClient,
        membership: &Membership,
        dry_run: bool,
    ) -> Result<(), ParentError> {
        let params = ApplyParams {
            dry_run,
            force: true,
        };
        client
            .apply(&self.path, &self.body(membership), params)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_body_lists_sorted_kinds_and_other_namespaces() {
        let p = Parent::new("dev", "applyset-x-v1");
        let m = Membership {
            group_kinds: ["Namespace", "Deployment.apps", "ConfigMap"]
                .map(String::from)
                .into(),
            namespaces: ["web", "kube-system", "db"].map(String::from).into(),
        };
        let body = p.body(&m);
        let a = &body["metadata"]["annotations"];
        assert_eq!(
            a[GROUP_KINDS_ANNOTATION],
            "ConfigMap,Deployment.apps,Namespace"
        );
        assert_eq!(a[NAMESPACES_ANNOTATION], "db,web");
        assert_eq!(body["metadata"]["labels"][ID_LABEL], "applyset-x-v1");
        assert!(a[TOOLING_ANNOTATION]
            .as_str()
            .unwrap()
            .starts_with("homelab/"));
    }
}
