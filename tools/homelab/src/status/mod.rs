//! `homelab status`: one look at the lab — each host (reachable, its node Ready or
//! cordoned, kubelet version) and, per environment, each release (objects ready of
//! total, last revision and commit, drift), the lock holder and the nodes.
//!
//! # Guarantees
//! - An unreachable host, a missing context or an unreachable cluster is part of the
//!   answer, never an error of the command.
//! - Reading changes nothing: no lock, no write, one LIST or GET per question.

pub(crate) mod cluster;
pub(crate) mod hosts;

use std::ffi::OsString;
use std::time::Duration;

use serde::Serialize;

use crate::apply::context::KubeTarget;
use crate::apply::discovery::Discovery;
use crate::apply::retry::RetryPolicy;
use crate::apply::{ApiClient, Cluster};
use crate::deploy::hosts::{plan, HostTarget};
use crate::deploy::probe::probe_all;
use crate::lab::host_inputs::InputDigest;
use crate::Lab;

pub(crate) use cluster::ClusterStatus;
pub(crate) use hosts::{host_status, Generation, HostStatus};

/// How `status` reaches things.
#[derive(Debug, Clone)]
pub(crate) struct StatusOptions {
    /// The environments to show (every environment when empty).
    pub environments: Vec<String>,
    /// The kubeconfig file (`KUBECONFIG` or `~/.kube/config` when absent).
    pub kubeconfig: Option<std::path::PathBuf>,
    /// `ssh`, found on PATH unless a path is given.
    pub ssh: OsString,
    /// How long one request to a cluster may take.
    pub timeout: Duration,
    /// The lab's host input digest, which each host's is compared with.
    pub inputs: Option<InputDigest>,
}

/// One environment: its context and what its cluster says, or why it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EnvironmentStatus {
    pub name: String,
    pub context: String,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub cluster: ClusterStatus,
}

/// The whole lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Status {
    /// The host input digest of the repository (`nix/host-inputs.json`), if it has one.
    pub inputs: Option<InputDigest>,
    pub hosts: Vec<HostStatus>,
    pub environments: Vec<EnvironmentStatus>,
}

/// Probes the hosts (in parallel) and reads each environment's cluster.
pub(crate) fn gather(lab: &Lab, options: &StatusOptions) -> Status {
    let environments: Vec<EnvironmentStatus> = lab
        .environments
        .value
        .environments
        .iter()
        .filter(|(name, _)| options.environments.is_empty() || options.environments.contains(name))
        .map(|(name, env)| environment(name, &env.context, options))
        .collect();
    let targets = plan(lab.inventory(), &[])
        .map(|p| p.hosts().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let targets: Vec<&HostTarget> = targets.iter().collect();
    let probes = probe_all(&targets, &options.ssh);
    let mut hosts: Vec<HostStatus> = targets
        .iter()
        .zip(probes)
        .map(|(host, probe)| host_status(host, probe, options.inputs.as_ref()))
        .collect();
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    for host in &mut hosts {
        host.node = environments
            .iter()
            .flat_map(|e| &e.cluster.nodes)
            .find(|n| n.name == host.name)
            .cloned();
    }
    Status {
        inputs: options.inputs.clone(),
        hosts,
        environments,
    }
}

fn environment(name: &str, context: &str, options: &StatusOptions) -> EnvironmentStatus {
    let answer = |result: Result<ClusterStatus, String>| {
        let (cluster, error) = match result {
            Ok(c) => (c, None),
            Err(e) => (ClusterStatus::default(), Some(e)),
        };
        EnvironmentStatus {
            name: name.to_string(),
            context: context.to_string(),
            reachable: error.is_none(),
            error,
            cluster,
        }
    };
    let target = KubeTarget {
        kubeconfig: options.kubeconfig.clone(),
        context: None,
        force_context: false,
    };
    let resolved = match target.resolve(name, context) {
        Ok(r) => r,
        Err(e) => return answer(Err(e.to_string())),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return answer(Err(e.to_string())),
    };
    answer(runtime.block_on(async {
        let client = resolved.client().await.map_err(|e| e.to_string())?;
        let client = ApiClient::new(client, 8)
            .with_timeout(options.timeout)
            .with_retry(RetryPolicy {
                attempts: 1,
                base: Duration::ZERO,
                cap: Duration::ZERO,
            });
        let cluster = Cluster {
            context: resolved.context.clone(),
            discovery: Discovery::new(client.clone()),
            client,
        };
        cluster::read(&cluster, name).await
    }))
}
