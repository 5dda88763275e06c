//! How a host deploy ended: each host's outcome and the closing summary.

use std::time::Duration;

use crate::lab::host_inputs::InputDigest;

/// What happened to one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Succeeded {
        took: Duration,
        note: String,
    },
    /// The host's system records the repository's host input digest: it already runs
    /// what the repository builds, so it was neither evaluated nor touched.
    Current {
        inputs: InputDigest,
    },
    /// The host went back to its previous generation.
    RolledBack {
        reason: String,
    },
    Failed {
        reason: String,
        tail: Vec<String>,
    },
    NotStarted,
}

/// Every planned host with its outcome, in plan order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub hosts: Vec<(String, Outcome)>,
    /// Whether the deploy stopped at the SSH probe, before any host changed.
    pub unreachable: bool,
}

impl Outcome {
    /// Whether the host ended where it should: deployed, or already current.
    pub(crate) fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded { .. } | Outcome::Current { .. })
    }
}

impl Report {
    pub(crate) fn succeeded(&self) -> bool {
        self.hosts.iter().all(|(_, o)| o.is_success())
    }

    fn names(&self, pick: impl Fn(&Outcome) -> bool) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|(_, o)| pick(o))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The closing summary: what succeeded, what rolled back or failed (with the last
    /// lines of its output) and what was not started.
    pub(crate) fn summary(&self) -> String {
        let ok = self.names(|o| matches!(o, Outcome::Succeeded { .. }));
        let current = self.names(|o| matches!(o, Outcome::Current { .. }));
        if self.succeeded() {
            let hosts = |n: usize| if n == 1 { "host" } else { "hosts" };
            let mut out = match ok.is_empty() {
                true => String::new(),
                false => format!(
                    "Deployed {} {}: {}\n",
                    ok.len(),
                    hosts(ok.len()),
                    ok.join(", ")
                ),
            };
            if !current.is_empty() {
                out.push_str(&format!(
                    "{} {} already current (host inputs unchanged, not evaluated): {}\n",
                    current.len(),
                    hosts(current.len()),
                    current.join(", ")
                ));
            }
            return out;
        }
        let list = |names: Vec<&str>| {
            if names.is_empty() {
                "-".to_string()
            } else {
                names.join(", ")
            }
        };
        let mut out = String::new();
        for (name, outcome) in &self.hosts {
            if let Outcome::Failed { tail, .. } = outcome {
                if !tail.is_empty() {
                    out.push_str(&format!("--- last lines from {name} ---\n"));
                    for line in tail {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
        }
        let failed: Vec<String> = self
            .hosts
            .iter()
            .filter_map(|(n, o)| match o {
                Outcome::Failed { reason, .. } => Some(format!("{n} ({reason})")),
                Outcome::RolledBack { reason } => Some(format!("{n} (rolled back: {reason})")),
                _ => None,
            })
            .collect();
        out.push_str(if self.unreachable {
            "Host deploy stopped before changing anything: a host cannot be reached over SSH.\n"
        } else {
            "Host deploy stopped at the first failure.\n"
        });
        let mut ok = ok;
        ok.extend(current);
        out.push_str(&format!("  succeeded:   {}\n", list(ok)));
        out.push_str(&format!("  failed:      {}\n", failed.join(", ")));
        out.push_str(&format!(
            "  not started: {}\n",
            list(self.names(|o| matches!(o, Outcome::NotStarted)))
        ));
        out
    }
}
