//! Starting the server and the handle tests hold: its URL, kubeconfig,
//! request counters, fault and controller knobs, and direct (uncounted,
//! never faulted) access to the API for setting up and checking state.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::controller::{ControllerConfig, FailRule};
use crate::counter::{RequestCounts, RequestRecord};
use crate::faults::{FaultState, Faults};
use crate::handlers::{self, ApiRequest, Params};
use crate::routes;
use crate::state::Shared;
use crate::store::ObjKey;

/// How to start a server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seeds fault decisions, UIDs and cluster IPs.
    pub seed: u64,
    pub faults: Faults,
    pub controller: ControllerConfig,
    /// Namespaces that exist at start.
    pub namespaces: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            seed: 1,
            faults: Faults::default(),
            controller: ControllerConfig::default(),
            namespaces: ["default", "kube-system", "kube-public", "kube-node-lease"]
                .map(String::from)
                .to_vec(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Failed to listen on 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    /// The built-in kinds' schema (PyPI `kubernetes-validate`) is missing.
    #[error(transparent)]
    Schema(&'static crate::apply::builtin::SchemaError),
}

/// Entry point.
pub struct FakeApiServer;

impl FakeApiServer {
    /// Binds 127.0.0.1, starts serving and the simulated controller on the
    /// current tokio runtime, and returns the handle. Dropping the handle
    /// stops both.
    pub async fn start(config: Config) -> Result<ServerHandle, StartError> {
        crate::apply::builtin::load().map_err(StartError::Schema)?;
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| StartError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            port: config.port,
            source,
        })?;
        let shared = Arc::new(Shared::new(
            config.seed,
            FaultState::new(config.faults, config.seed),
            config.controller,
            &config.namespaces,
        ));
        let _ = shared.address.set(addr.to_string());
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(crate::server::serve(listener, shared.clone(), stopped));
        let controller = tokio::spawn(crate::controller::run(shared.clone()));
        Ok(ServerHandle {
            shared,
            addr,
            stop,
            tasks: vec![server, controller],
        })
    }
}

/// A running server. Cheap accessors; none of them is counted as a request.
pub struct ServerHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig whose current context `fake` points here, namespace
    /// `default`.
    pub fn kubeconfig_yaml(&self) -> String {
        self.kubeconfig_yaml_for("fake", "default")
    }

    pub fn kubeconfig_yaml_for(&self, context: &str, namespace: &str) -> String {
        crate::kubeconfig::yaml(&self.url(), context, namespace)
    }

    /// Writes [`Self::kubeconfig_yaml`] to `path` (temp file + rename).
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        crate::kubeconfig::write_atomically(path, &self.kubeconfig_yaml())
    }

    pub fn requests(&self) -> RequestCounts {
        self.shared.counter.snapshot()
    }

    /// Every request since the last reset (up to 100,000).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.shared.counter.records()
    }

    pub fn reset_requests(&self) {
        self.shared.counter.reset();
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.get()
    }

    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.set(faults);
    }

    /// Keeps the per-verb faults, changes the latency.
    pub fn set_latency(&self, latency: Duration) {
        let mut f = self.shared.faults.get();
        f.latency = latency;
        self.shared.faults.set(f);
    }

    /// Removes every fault (latency included).
    pub fn clear_faults(&self) {
        self.shared.faults.set(Faults::default());
    }

    /// Restarts the fault generator from `seed`.
    pub fn reseed_faults(&self, seed: u64) {
        self.shared.faults.reseed(seed);
    }

    pub fn controller(&self) -> ControllerConfig {
        self.shared.controller()
    }

    pub fn set_controller(&self, config: ControllerConfig) {
        self.shared.set_controller(config);
    }

    pub fn set_ready_delay(&self, delay: Duration) {
        let mut c = self.shared.controller();
        c.ready_delay = delay;
        self.shared.set_controller(c);
    }

    /// Keeps objects matching `rule` failing from now on.
    pub fn fail(&self, rule: FailRule) {
        let mut c = self.shared.controller();
        c.failing.push(rule);
        self.shared.set_controller(c);
    }

    /// The stored object, by API group ("" for core), plural resource,
    /// namespace ("" for cluster-scoped) and name.
    pub fn get(&self, group: &str, plural: &str, namespace: &str, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .store
            .get(&ObjKey::new(group, plural, namespace, name))
            .cloned()
    }

    /// Stored objects of one resource, in one namespace or all.
    pub fn list(&self, group: &str, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        self.shared
            .lock()
            .store
            .list(group, plural, namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every stored object, in (group, resource, namespace, name) order.
    pub fn all_objects(&self) -> Vec<Value> {
        self.shared
            .lock()
            .store
            .all()
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Waits until `done` holds, checking after every write (the
    /// controllers finish deletions asynchronously); false after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&ServerHandle) -> bool,
    ) -> bool {
        let mut written = self.shared.written.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            written.mark_unchanged();
            if done(self) {
                return true;
            }
            if !matches!(
                tokio::time::timeout_at(deadline, written.changed()).await,
                Ok(Ok(()))
            ) {
                return done(self);
            }
        }
    }

    /// The latest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().store.resource_version()
    }

    /// Serves one request directly, bypassing HTTP, counters and faults:
    /// for setting up state (e.g. objects owned by another field manager)
    /// and checking it. `path_and_query` as on the wire
    /// (`/api/v1/namespaces/default/configmaps/x?fieldManager=other`).
    pub fn call(
        &self,
        method: Method,
        path_and_query: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let req = ApiRequest {
            method,
            route: routes::parse(path),
            query: Params::parse(query),
            content_type: content_type.to_owned(),
            accept: "application/json".to_owned(),
            user_agent: "fake-apiserver-handle".to_owned(),
            body: Bytes::copy_from_slice(body),
        };
        let resp = handlers::handle(&self.shared, &req);
        if req.method != Method::GET {
            self.shared.notify_write();
        }
        (resp.status, resp.body)
    }

    /// Server-side applies `obj` as `manager` (the URL is derived from its
    /// apiVersion, kind, namespace and name).
    pub fn apply_as(&self, manager: &str, obj: &Value, force: bool) -> (u16, Value) {
        let path = self.object_path(obj);
        let body = serde_json::to_vec(obj).unwrap_or_default();
        let q = format!("{path}?fieldManager={manager}&force={force}");
        self.call(Method::PATCH, &q, "application/apply-patch+yaml", &body)
    }

    /// The URL path of an object from its apiVersion, kind, namespace and
    /// name (resource found through discovery, plural guessed by lowercase
    /// kind + "s" when the kind is unknown).
    pub fn object_path(&self, obj: &Value) -> String {
        let api_version = obj["apiVersion"].as_str().unwrap_or("v1");
        let kind = obj["kind"].as_str().unwrap_or_default();
        let reg = self.shared.lock().registry();
        let (plural, namespaced) = reg
            .by_kind(api_version, kind)
            .map(|t| (t.plural.clone(), t.namespaced))
            .unwrap_or_else(|| (format!("{}s", kind.to_lowercase()), true));
        let prefix = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        match obj["metadata"]["namespace"].as_str() {
            Some(ns) if namespaced => format!("{prefix}/namespaces/{ns}/{plural}/{name}"),
            None if namespaced => format!("{prefix}/namespaces/default/{plural}/{name}"),
            _ => format!("{prefix}/{plural}/{name}"),
        }
    }

    /// Stops serving (open connections are closed).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}
