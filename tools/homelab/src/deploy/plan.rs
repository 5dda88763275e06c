//! What `homelab deploy --plan` prints: both layers' changes, before anything changes.
//!
//! The host layer comes from [`super::closures`], the cluster layer from the apply
//! engine's server dry run ([`crate::apply::diff`]). This module only summarises and
//! renders them; it runs nothing.

use std::fmt::Write as _;

use serde_json::json;

use super::closures::HostChange;
use super::hosts::{HostPlan, Stage};
use crate::apply::{Change, DiffReport};

/// The cluster layer of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClusterPlan {
    /// The diff ran: one entry per object that would change, then the summary.
    Diff {
        entries: Vec<PlanEntry>,
        /// `N to create, M to change, K unchanged, P to prune`.
        summary: String,
        changes: bool,
        problems: usize,
    },
    /// The cluster could not be diffed (already reported on stderr).
    Unavailable { reason: String },
}

/// One cluster object the plan would touch, or could not plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct PlanEntry {
    /// `create`, `change`, `prune`, `keep` (a prune the data-loss guard holds back),
    /// `conflict` or `error`.
    pub action: &'static str,
    /// `Kind/namespace/name`.
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl PlanEntry {
    fn new(action: &'static str, object: impl ToString, detail: Option<String>) -> PlanEntry {
        PlanEntry {
            action,
            object: object.to_string(),
            detail,
        }
    }
}

impl std::fmt::Display for PlanEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:<8} {}", self.action, self.object)?;
        match &self.detail {
            Some(detail) => write!(f, ": {detail}"),
            None => Ok(()),
        }
    }
}

impl ClusterPlan {
    pub(crate) fn from_diff(report: &DiffReport) -> ClusterPlan {
        let mut entries = Vec::new();
        for object in &report.objects {
            let name = &object.object;
            match &object.change {
                Change::Create => entries.push(PlanEntry::new("create", name, None)),
                Change::Change => entries.push(PlanEntry::new("change", name, None)),
                Change::Unchanged => {}
                Change::Conflict(conflicts) => entries.push(PlanEntry::new(
                    "conflict",
                    name,
                    Some(format!(
                        "{} field(s) owned by other managers (--force-conflicts takes them over)",
                        conflicts.len()
                    )),
                )),
                Change::Error(message) => {
                    entries.push(PlanEntry::new("error", name, Some(message.clone())))
                }
                Change::Adopt {
                    helm_release,
                    conflicts,
                } => entries.push(PlanEntry::new(
                    "adopt",
                    name,
                    Some(match conflicts.len() {
                        0 => format!("from Helm release {helm_release} (apply --adopt)"),
                        n => format!(
                            "from Helm release {helm_release}, but {n} field(s) differ from Helm's"
                        ),
                    }),
                )),
                Change::Terminating { .. } => entries.push(PlanEntry::new(
                    "create",
                    name,
                    Some("being deleted; created again once it is gone".into()),
                )),
            }
        }
        for p in &report.prune {
            entries.push(match &p.kept {
                None => PlanEntry::new("prune", &p.object, None),
                Some(why) => PlanEntry::new(
                    "keep",
                    &p.object,
                    Some(format!("no longer desired, but {why}")),
                ),
            });
        }
        if let Some(e) = &report.prune_error {
            entries.push(PlanEntry::new(
                "error",
                "listing what to prune",
                Some(e.clone()),
            ));
        }
        ClusterPlan::Diff {
            entries,
            summary: report.summary(),
            changes: report.has_changes(),
            problems: report.problems(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            ClusterPlan::Diff {
                entries,
                summary,
                changes,
                problems,
            } => {
                json!({"objects": entries, "summary": summary, "changes": changes, "problems": problems})
            }
            ClusterPlan::Unavailable { reason } => json!({"unavailable": reason}),
        }
    }
}

/// Both layers; a layer left out by `--hosts-only` or `--cluster-only` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeployPlan {
    pub env: String,
    pub hosts: Option<Vec<(String, HostChange)>>,
    pub cluster: Option<ClusterPlan>,
}

impl DeployPlan {
    pub(crate) fn has_changes(&self) -> bool {
        let hosts = self.hosts.iter().flatten().any(|(_, c)| c.is_change());
        hosts || self.cluster_changes()
    }

    /// Hosts that could not be planned, cluster objects whose dry run failed, or a
    /// cluster that could not be diffed.
    pub(crate) fn problems(&self) -> usize {
        let hosts = self
            .hosts
            .iter()
            .flatten()
            .filter(|(_, c)| c.is_problem())
            .count();
        let cluster = match &self.cluster {
            Some(ClusterPlan::Diff { problems, .. }) => *problems,
            Some(ClusterPlan::Unavailable { .. }) => 1,
            None => 0,
        };
        hosts + cluster
    }

    /// `hosts` narrowed to the hosts this plan found changed, stages kept in order:
    /// after a plan, hosts that already run their system are not switched again.
    pub(crate) fn hosts_to_switch(&self, hosts: &HostPlan) -> HostPlan {
        let changed = |name: &str| {
            self.hosts
                .iter()
                .flatten()
                .any(|(n, c)| n == name && c.is_change())
        };
        let stages = hosts
            .stages
            .iter()
            .map(|s| Stage {
                label: s.label,
                hosts: s
                    .hosts
                    .iter()
                    .filter(|h| changed(&h.name))
                    .cloned()
                    .collect(),
            })
            .filter(|s| !s.hosts.is_empty())
            .collect();
        HostPlan { stages }
    }

    /// Whether the cluster layer has anything to apply or prune.
    pub(crate) fn cluster_changes(&self) -> bool {
        matches!(self.cluster, Some(ClusterPlan::Diff { changes: true, .. }))
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if let Some(hosts) = &self.hosts {
            let width = hosts.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            let changed = hosts.iter().filter(|(_, c)| c.is_change()).count();
            let _ = writeln!(
                out,
                "Hosts (control plane first): {changed} of {} to switch",
                hosts.len()
            );
            for (name, change) in hosts {
                let what = match change {
                    HostChange::Unchanged { .. } => "unchanged".to_string(),
                    HostChange::Current { inputs, .. } => format!(
                        "unchanged (host inputs {} as recorded on the host; not evaluated)",
                        inputs.short()
                    ),
                    HostChange::Changes { current, next } => {
                        format!("changes: {current} → {next}")
                    }
                    HostChange::Unreachable { reason } => format!("unreachable: {reason}"),
                    HostChange::BuildFailed { reason } => format!("build failed: {reason}"),
                };
                let _ = writeln!(out, "  {name:width$}  {what}");
            }
        }
        if let Some(cluster) = &self.cluster {
            let _ = writeln!(out, "Cluster (environment {}):", self.env);
            match cluster {
                ClusterPlan::Diff {
                    entries, summary, ..
                } => {
                    for entry in entries {
                        let _ = writeln!(out, "  {entry}");
                    }
                    let _ = writeln!(out, "  {summary}");
                }
                ClusterPlan::Unavailable { reason } => {
                    let _ = writeln!(out, "  could not be diffed: {reason}");
                }
            }
        }
        out
    }

    /// The plan as one JSON object (`"event": "plan"`), a line of the same JSON-lines
    /// stream that `--output json` gives for apply.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let hosts = self.hosts.as_ref().map(|hosts| {
            hosts
                .iter()
                .map(|(name, change)| {
                    let mut host = match change {
                        HostChange::Unchanged { current } => {
                            json!({"change": "unchanged", "current": current, "evaluated": true})
                        }
                        HostChange::Current { current, inputs } => json!({
                            "change": "unchanged", "current": current, "evaluated": false,
                            "inputs": inputs.as_str(),
                        }),
                        HostChange::Changes { current, next } => {
                            json!({"change": "changes", "current": current, "next": next})
                        }
                        HostChange::Unreachable { reason } => {
                            json!({"change": "unreachable", "reason": reason})
                        }
                        HostChange::BuildFailed { reason } => {
                            json!({"change": "build-failed", "reason": reason})
                        }
                    };
                    host["host"] = json!(name);
                    host
                })
                .collect::<Vec<_>>()
        });
        json!({
            "event": "plan",
            "env": self.env,
            "hosts": hosts,
            "cluster": self.cluster.as_ref().map(ClusterPlan::to_json),
            "changes": self.has_changes(),
            "problems": self.problems(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::host_inputs::InputDigest;

    fn plan(cluster: Option<ClusterPlan>) -> DeployPlan {
        DeployPlan {
            env: "prod".into(),
            hosts: Some(vec![
                (
                    "cp".into(),
                    HostChange::Unchanged {
                        current: "/nix/store/a".into(),
                    },
                ),
                (
                    "worker-1".into(),
                    HostChange::Changes {
                        current: "/nix/store/a".into(),
                        next: "/nix/store/b".into(),
                    },
                ),
            ]),
            cluster,
        }
    }

    #[test]
    fn renders_both_layers() {
        let cluster = ClusterPlan::Diff {
            entries: vec![
                PlanEntry::new("create", "ConfigMap/app/a", None),
                PlanEntry::new(
                    "keep",
                    "PersistentVolumeClaim/app/data",
                    Some("it may hold data (--allow-data-loss prunes it)".into()),
                ),
            ],
            summary: "1 to create, 0 to change, 0 unchanged, 0 to prune".into(),
            changes: true,
            problems: 0,
        };
        assert_eq!(
            plan(Some(cluster)).render(),
            "Hosts (control plane first): 1 of 2 to switch\n  \
             cp        unchanged\n  \
             worker-1  changes: /nix/store/a → /nix/store/b\n\
             Cluster (environment prod):\n  \
             create   ConfigMap/app/a\n  \
             keep     PersistentVolumeClaim/app/data: it may hold data (--allow-data-loss prunes it)\n  \
             1 to create, 0 to change, 0 unchanged, 0 to prune\n"
        );
    }

    #[test]
    fn json_names_every_field() {
        let cluster = ClusterPlan::Diff {
            entries: vec![PlanEntry::new("prune", "ConfigMap/app/old", None)],
            summary: "0 to create, 0 to change, 1 unchanged, 1 to prune".into(),
            changes: true,
            problems: 0,
        };
        let mut p = plan(Some(cluster));
        p.hosts.as_mut().unwrap().push((
            "worker-2".into(),
            HostChange::BuildFailed {
                reason: "exit status: 1".into(),
            },
        ));
        let digest = format!("v1-{}", "ab".repeat(32));
        p.hosts.as_mut().unwrap().push((
            "worker-3".into(),
            HostChange::Current {
                current: "/nix/store/c".into(),
                inputs: InputDigest::parse(&digest).expect("digest"),
            },
        ));
        assert!(p.render().contains(
            "worker-3  unchanged (host inputs v1-abababababab as recorded on the host; not evaluated)\n"
        ));
        assert_eq!(
            p.to_json(),
            json!({
                "event": "plan",
                "env": "prod",
                "hosts": [
                    {"host": "cp", "change": "unchanged", "current": "/nix/store/a", "evaluated": true},
                    {"host": "worker-1", "change": "changes", "current": "/nix/store/a", "next": "/nix/store/b"},
                    {"host": "worker-2", "change": "build-failed", "reason": "exit status: 1"},
                    {"host": "worker-3", "change": "unchanged", "current": "/nix/store/c",
                     "evaluated": false, "inputs": digest},
                ],
                "cluster": {
                    "objects": [{"action": "prune", "object": "ConfigMap/app/old"}],
                    "summary": "0 to create, 0 to change, 1 unchanged, 1 to prune",
                    "changes": true,
                    "problems": 0,
                },
                "changes": true,
                "problems": 1,
            })
        );
        let unavailable = plan(Some(ClusterPlan::Unavailable {
            reason: "no route".into(),
        }));
        assert_eq!(
            unavailable.to_json()["cluster"],
            json!({"unavailable": "no route"})
        );
    }

    #[test]
    fn changes_and_problems() {
        let p = plan(None);
        assert!(p.has_changes());
        assert_eq!(p.problems(), 0);
        let unavailable = plan(Some(ClusterPlan::Unavailable {
            reason: "no route".into(),
        }));
        assert_eq!(unavailable.problems(), 1);
        let mut unchanged = plan(None);
        unchanged.hosts = Some(vec![(
            "cp".into(),
            HostChange::Unreachable {
                reason: "refused".into(),
            },
        )]);
        assert!(!unchanged.has_changes());
        assert_eq!(unchanged.problems(), 1);
    }

    #[test]
    fn only_changed_hosts_are_switched() {
        use crate::deploy::hosts::HostTarget;
        let target = |name: &str| HostTarget {
            name: name.into(),
            ssh: crate::names::SshTarget::parse(&format!("root@{name}")).expect("target"),
        };
        let hosts = HostPlan {
            stages: vec![
                Stage {
                    label: "control plane",
                    hosts: vec![target("cp")],
                },
                Stage {
                    label: "other hosts",
                    hosts: vec![target("worker-1")],
                },
            ],
        };
        let narrowed = plan(None).hosts_to_switch(&hosts);
        assert_eq!(narrowed.stages.len(), 1);
        assert_eq!(narrowed.stages[0].label, "other hosts");
        assert_eq!(narrowed.stages[0].hosts, [target("worker-1")]);
    }
}
