//! What `homelab check` prints about a valid lab, as text or JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::lab::Lab;
use crate::release::ChartSource;

/// The lab at a glance; the JSON form of `homelab check --output json`.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub domain: String,
    pub cluster: String,
    pub kubernetes_version: String,
    pub hosts: Vec<HostSummary>,
    pub releases: Vec<ReleaseSummary>,
    pub environments: Vec<EnvironmentSummary>,
}

#[derive(Debug, Serialize)]
pub(crate) struct HostSummary {
    pub name: String,
    pub system: String,
    pub roles: Vec<&'static str>,
    pub lan_address: String,
    pub tailscale_address: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReleaseSummary {
    pub name: String,
    pub namespace: String,
    /// `name version`, `local chart PATH`, or `manifests only`.
    pub chart: String,
    /// The chart repository URL, for repository charts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub needs: Vec<String>,
    pub environments: Vec<String>,
    /// Whether `environments` is a restriction rather than every environment.
    #[serde(skip)]
    pub restricted: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnvironmentSummary {
    pub name: String,
    pub context: String,
    pub secrets: String,
    pub releases: usize,
}

impl Summary {
    pub(crate) fn of(lab: &Lab) -> Summary {
        let inv = lab.inventory();
        let all_envs: Vec<String> = lab.environment_names().map(str::to_string).collect();
        Summary {
            domain: inv.domain.clone(),
            cluster: inv.cluster.name.clone(),
            kubernetes_version: inv.cluster.kubernetes_version.clone(),
            hosts: inv
                .hosts
                .iter()
                .map(|(name, h)| HostSummary {
                    name: name.clone(),
                    system: h.system.clone(),
                    roles: h.roles.iter().map(|r| r.as_str()).collect(),
                    lan_address: h.lan_address.to_string(),
                    tailscale_address: h.tailscale_address.map(|a| a.to_string()),
                })
                .collect(),
            releases: lab
                .releases
                .iter()
                .map(|r| {
                    let rel = r.release();
                    ReleaseSummary {
                        name: rel.name.clone(),
                        namespace: rel.namespace.clone(),
                        chart: match &rel.chart {
                            Some(ChartSource::Repository { name, version, .. }) => {
                                format!("{name} {version}")
                            }
                            Some(ChartSource::Local { path }) => format!("local chart {path}"),
                            None => "manifests only".into(),
                        },
                        repository: match &rel.chart {
                            Some(ChartSource::Repository { repository, .. }) => {
                                Some(repository.clone())
                            }
                            _ => None,
                        },
                        needs: rel.needs.clone(),
                        environments: if rel.environments.is_empty() {
                            all_envs.clone()
                        } else {
                            rel.environments.clone()
                        },
                        restricted: !rel.environments.is_empty(),
                    }
                })
                .collect(),
            environments: lab
                .environments
                .value
                .environments
                .iter()
                .map(|(name, e)| EnvironmentSummary {
                    name: name.clone(),
                    context: e.context.clone(),
                    secrets: e.secrets.clone(),
                    releases: lab.releases_in(name).count(),
                })
                .collect(),
        }
    }

    /// The human-readable form, aligned in columns.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Lab {} — cluster {}, Kubernetes {}\n",
            self.domain, self.cluster, self.kubernetes_version
        );
        let _ = writeln!(out, "Hosts");
        let rows: Vec<Vec<String>> = self
            .hosts
            .iter()
            .map(|h| {
                vec![
                    h.name.clone(),
                    h.system.clone(),
                    h.roles.join(", "),
                    h.lan_address.clone(),
                    h.tailscale_address.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        table(&mut out, &rows);
        let _ = writeln!(out, "\nReleases, in apply order");
        let rows: Vec<Vec<String>> = self
            .releases
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let needs = if r.needs.is_empty() {
                    String::new()
                } else {
                    format!("needs {}", r.needs.join(", "))
                };
                let only = if r.restricted {
                    format!("only in {}", r.environments.join(", "))
                } else {
                    String::new()
                };
                vec![
                    format!("{:>2}.", i + 1),
                    r.name.clone(),
                    format!("ns/{}", r.namespace),
                    r.chart.clone(),
                    only,
                    needs,
                ]
            })
            .collect();
        table(&mut out, &rows);
        let _ = writeln!(out, "\nEnvironments");
        let rows: Vec<Vec<String>> = self
            .environments
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    format!("context {}", e.context),
                    format!("secrets {}", e.secrets),
                    format!("{} releases", e.releases),
                ]
            })
            .collect();
        table(&mut out, &rows);
        let _ = writeln!(
            out,
            "\nValid: {} hosts, {} releases, {} environments",
            self.hosts.len(),
            self.releases.len(),
            self.environments.len()
        );
        out
    }
}

fn table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}
