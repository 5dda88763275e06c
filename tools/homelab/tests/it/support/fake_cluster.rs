//! The in-process fake API server on its own runtime, with a kubeconfig in the lab
//! that points at it. Shared by the apply and deploy tests.

use std::path::{Path, PathBuf};

use fake_apiserver::{Config, FakeApiServer, ServerHandle};
use http::Method;
use serde_json::Value;

pub struct FakeCluster {
    pub server: ServerHandle,
    pub kubeconfig: PathBuf,
    // Declared last: dropped after the server it drives.
    _runtime: tokio::runtime::Runtime,
}

impl FakeCluster {
    /// A server whose kubeconfig (written to `lab/kubeconfig`) has `context` as its
    /// current context.
    pub fn start(lab: &Path, context: &str) -> FakeCluster {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let server = runtime
            .block_on(FakeApiServer::start(Config::default()))
            .expect("the fake API server starts");
        let kubeconfig = lab.join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml_for(context, "default"))
            .expect("writing the kubeconfig");
        FakeCluster {
            server,
            kubeconfig,
            _runtime: runtime,
        }
    }

    /// Whether the server holds `group/plural` `namespace/name` (`""` for core and
    /// for cluster-scoped objects).
    pub fn has(&self, group: &str, plural: &str, namespace: &str, name: &str) -> bool {
        self.server.get(group, plural, namespace, name).is_some()
    }

    /// The live object at the path the fake derives from `obj`.
    pub fn live(&self, obj: &Value) -> Option<Value> {
        let path = self.server.object_path(obj);
        let (code, body) = self.server.call(Method::GET, &path, "", b"");
        (code == 200).then_some(body)
    }
}
