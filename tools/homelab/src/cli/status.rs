//! `homelab status [-e ENV] [-o json]`: the hosts and each environment's releases on
//! one screen. Unreachable hosts and clusters are shown, not errors: the exit code is
//! 0 whenever the lab loads.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::status::{gather, EnvironmentStatus, Generation, HostStatus, Status, StatusOptions};

use super::exit::{settle, Reported};
use super::{GlobalArgs, OutputFormat};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only this environment (every environment when absent)
    #[arg(short = 'e', long = "env", value_name = "ENV")]
    pub env: Vec<String>,
    /// The kubeconfig file [default: $KUBECONFIG, else ~/.kube/config]
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

pub(super) fn run(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    settle(status(args, global))
}

fn status(args: &Args, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    {
        let lab = global.load_lab().map_err(Reported)?;
        for env in &args.env {
            if !lab.environments.value.environments.contains_key(env) {
                anyhow::bail!(
                    "Unknown environment `{env}`; environments are: {}",
                    lab.environment_names().collect::<Vec<_>>().join(", ")
                );
            }
        }
        let inputs = lab
            .host_inputs()
            .map_err(|e| anyhow::anyhow!("{e}\n  help: {}", e.help()))?;
        let options = StatusOptions {
            inputs: inputs.map(|i| i.digest),
            environments: args.env.clone(),
            kubeconfig: args.kubeconfig.clone(),
            ssh: "ssh".into(),
            timeout: Duration::from_secs(10),
        };
        let status = gather(&lab, &options);
        match global.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&status)?),
            OutputFormat::Text => print!("{}", text(&status)),
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Rows of cells, left-aligned in columns two spaces apart.
fn columns(rows: &[Vec<String>]) -> String {
    let mut widths = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("  {}\n", cells.join("  ").trim_end())
        })
        .collect()
}

fn host_row(h: &HostStatus, compared: bool) -> Vec<String> {
    let reach = match (&h.error, h.reboot_for.is_empty()) {
        (Some(e), _) => format!("unreachable ({e})"),
        (None, true) => "reachable".to_string(),
        (None, false) => format!("reachable, reboot needed ({})", h.reboot_for.join(", ")),
    };
    let node = match &h.node {
        None => "no node".to_string(),
        Some(n) => format!(
            "node {}{}{}",
            if n.ready { "Ready" } else { "NotReady" },
            if n.cordoned { ",cordoned" } else { "" },
            match n.kubelet.is_empty() {
                true => String::new(),
                false => format!(" kubelet {}", n.kubelet),
            }
        ),
    };
    let system = match (h.generation, &h.inputs) {
        _ if h.error.is_some() || !compared => "-".to_string(),
        (Generation::Current, _) => "current".to_string(),
        (Generation::Outdated, Some(d)) => format!("outdated (built from {})", d.short()),
        (_, None) => "unknown (no host input digest recorded)".to_string(),
        (_, Some(d)) => format!("unknown (built from {})", d.short()),
    };
    vec![h.name.clone(), h.ssh.clone(), reach, system, node]
}

fn environment_text(e: &EnvironmentStatus) -> String {
    let mut out = format!("environment {} (context {})", e.name, e.context);
    if let Some(error) = &e.error {
        return format!("{out}: cluster unreachable: {error}\n");
    }
    let c = &e.cluster;
    out.push_str(&match c.latest_revision {
        Some(n) => format!(", revision {n}"),
        None => ", no revision recorded".to_string(),
    });
    out.push_str(&match &c.lock_holder {
        Some(holder) => format!(", locked by {holder}\n"),
        None => ", not locked\n".to_string(),
    });
    let mut rows = vec![["RELEASE", "READY", "REVISION", "COMMIT", "DRIFT"]
        .map(String::from)
        .to_vec()];
    for r in &c.releases {
        rows.push(vec![
            r.name.clone(),
            format!("{}/{}", r.ready, r.total),
            match (r.revision, r.destroyed) {
                (Some(n), true) => format!("{n} (destroyed)"),
                (Some(n), false) => n.to_string(),
                (None, _) => "-".into(),
            },
            r.commit.clone().unwrap_or_else(|| "-".into()),
            match r.destroyed {
                true => "-".into(),
                false => r.drift.to_string(),
            },
        ]);
    }
    out.push_str(&columns(&rows));
    out
}

/// The status as text: hosts, then each environment.
fn text(status: &Status) -> String {
    let mut out = match &status.inputs {
        Some(d) => format!(
            "hosts (the repository builds from host inputs {})\n",
            d.short()
        ),
        None => "hosts (no nix/host-inputs.json: systems are not compared)\n".to_string(),
    };
    let compared = status.inputs.is_some();
    let rows: Vec<Vec<String>> = status.hosts.iter().map(|h| host_row(h, compared)).collect();
    out.push_str(&columns(&rows));
    for e in &status.environments {
        out.push_str(&environment_text(e));
    }
    out
}
