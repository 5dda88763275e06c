//! How a run applies ([`ApplyOptions`]) and where to ([`Cluster`]).

use super::*;

/// How a run applies.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// `dryRun=All` on every write: the server validates and computes, stores nothing.
    pub dry_run: bool,
    /// Take over fields other managers own.
    pub force_conflicts: bool,
    /// Wait for workloads to become ready between stages.
    pub wait: bool,
    /// How long one stage may take to become ready.
    pub timeout: Duration,
    /// Skip objects whose live applied-hash matches (the no-op fast path).
    pub skip_unchanged: bool,
    /// Delete members no longer desired, once everything applied.
    pub prune: bool,
    /// Let pruning delete PVCs, PVs and namespaces holding PVCs.
    pub allow_data_loss: bool,
    /// Set from outside (SIGINT/SIGTERM) to stop at the next object boundary.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Run the releases' `pre-delete` hooks before pruning and their `post-delete` hooks
    /// once workloads and configuration are deleted, before namespaces and CRDs go (so
    /// the hook still has its namespace): what `destroy` asks for.
    pub delete_hooks: bool,
    /// Take over objects Helm installed ([`super::adopt`]); without it they are refused.
    pub adopt: bool,
    /// Once everything applied, delete the adopted Helm releases' Secrets.
    pub forget_helm_release: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            dry_run: false,
            force_conflicts: false,
            wait: true,
            timeout: Duration::from_secs(300),
            skip_unchanged: true,
            prune: true,
            allow_data_loss: false,
            cancel: None,
            delete_hooks: false,
            adopt: false,
            forget_helm_release: false,
        }
    }
}

/// A connected cluster: one client (one connection pool) and the run's discovery cache.
pub struct Cluster {
    pub context: String,
    pub client: ApiClient,
    pub discovery: Discovery,
}

impl Cluster {
    /// Connects through `context` with at most `concurrency` requests in flight.
    pub async fn connect(
        context: &ResolvedContext,
        concurrency: usize,
    ) -> Result<Cluster, ContextError> {
        let client = ApiClient::new(context.client().await?, concurrency);
        Ok(Cluster {
            context: context.context.clone(),
            discovery: Discovery::new(client.clone()),
            client,
        })
    }

    /// Maps an object to its resource: discovery, or (when the server does not serve
    /// it yet) the CRD of the plan that defines it, flagged `false` for "not served".
    pub async fn resource_of(
        &self,
        plan: &ApplyPlan,
        object: &PlannedObject,
    ) -> Result<(Resource, bool), String> {
        match self
            .discovery
            .resolve(object.api_version(), object.kind())
            .await
        {
            Ok(r) => Ok((r, true)),
            Err(e) => match plan.crd_resource(object) {
                Some(r) => Ok((r, false)),
                None => Err(e.to_string()),
            },
        }
    }
}
