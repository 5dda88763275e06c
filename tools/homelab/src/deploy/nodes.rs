//! What a host deploy asks of the cluster: the API server's `/readyz`, a node's
//! state, cordon and uncordon, and drains ([`super::drain`]). [`NodeOps`] is the
//! interface the host steps use; [`KubeNodes`] implements it with the environment's
//! kube context, on a runtime of its own so the host threads stay synchronous.

use std::time::Duration;

use serde_json::{json, Value};

use crate::apply::client::ApplyParams;
use crate::apply::retry::RetryPolicy;
use crate::apply::{ApiClient, ResolvedContext};

/// The cluster as the host deploy sees it. Errors are sentences for the report.
pub(crate) trait NodeOps: Sync {
    /// `GET /readyz` answered 200.
    fn readyz(&self) -> Result<(), String>;
    /// The Node object, `None` when the node has not registered.
    fn node(&self, name: &str) -> Result<Option<Value>, String>;
    /// Marks the node (un)schedulable (`spec.unschedulable`).
    fn cordon(&self, name: &str, cordoned: bool) -> Result<(), String>;
    /// Evicts every pod of the node that a drain moves, respecting disruption budgets,
    /// within `timeout`; the error names the pod that blocked.
    fn drain(
        &self,
        name: &str,
        timeout: Duration,
        log: &(dyn Fn(&str) + Sync),
    ) -> Result<(), String>;
}

/// [`NodeOps`] over a kube context.
pub(crate) struct KubeNodes {
    runtime: tokio::runtime::Runtime,
    client: kube::Client,
    api: ApiClient,
}

impl KubeNodes {
    /// Connects to `context`; nothing is sent yet.
    pub(crate) fn connect(context: &ResolvedContext) -> Result<KubeNodes, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("could not start a runtime: {e}"))?;
        let client = runtime
            .block_on(context.client())
            .map_err(|e| format!("{e}: {}", source_chain(&e)))?;
        // One attempt per request: the health gate and the drain retry on their own
        // clock, and a 429 from an eviction is an answer, not a hiccup.
        let api = ApiClient::new(client.clone(), 4)
            .with_timeout(Duration::from_secs(10))
            .with_retry(RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            });
        Ok(KubeNodes {
            runtime,
            client,
            api,
        })
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out.join(": ")
}

pub(super) fn node_path(name: &str) -> String {
    format!("/api/v1/nodes/{name}")
}

impl NodeOps for KubeNodes {
    fn readyz(&self) -> Result<(), String> {
        let request = http::Request::get("/readyz")
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        self.runtime
            .block_on(self.client.request_text(request))
            .map(drop)
            .map_err(|e| format!("the API server's /readyz failed: {e}"))
    }

    fn node(&self, name: &str) -> Result<Option<Value>, String> {
        self.runtime
            .block_on(self.api.get(&node_path(name)))
            .map_err(|e| format!("reading node `{name}` failed: {e}"))
    }

    fn cordon(&self, name: &str, cordoned: bool) -> Result<(), String> {
        let body = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name},
            "spec": {"unschedulable": cordoned},
        });
        let params = ApplyParams {
            dry_run: false,
            // `kubectl cordon` may own the field already; the deploy decides now.
            force: true,
        };
        self.runtime
            .block_on(self.api.apply(&node_path(name), &body, params))
            .map(drop)
            .map_err(|e| {
                let verb = if cordoned { "cordoning" } else { "uncordoning" };
                format!("{verb} node `{name}` failed: {e}")
            })
    }

    fn drain(
        &self,
        name: &str,
        timeout: Duration,
        log: &(dyn Fn(&str) + Sync),
    ) -> Result<(), String> {
        self.runtime
            .block_on(super::drain::drain(&self.api, name, timeout, log))
    }
}
