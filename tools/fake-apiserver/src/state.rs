//! The server's shared state: the store (behind one mutex, so every request
//! is atomic), the generator for UIDs, the fault knobs, the request counter
//! and the simulated controller's settings.

use std::sync::{Mutex, MutexGuard, OnceLock};

use serde_json::json;
use tokio::sync::{watch, Notify};

use crate::controller::ControllerConfig;
use crate::counter::RequestCounter;
use crate::faults::FaultState;
use crate::resources::{crd_types, Registry};
use crate::rng::Rng;
use crate::store::{ObjKey, Store};

#[derive(Debug)]
pub struct State {
    pub store: Store,
    pub rng: Rng,
}

impl State {
    /// The served types now: built-ins plus every Established CRD's.
    pub fn registry(&self) -> Registry {
        let custom = self
            .store
            .list("apiextensions.k8s.io", "customresourcedefinitions", None)
            .flat_map(|(_, crd)| crd_types(crd))
            .collect();
        Registry::new(custom)
    }

    pub fn namespace_exists(&self, ns: &str) -> bool {
        self.store
            .get(&ObjKey::new("", "namespaces", "", ns))
            .is_some()
    }
}

#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
    pub faults: FaultState,
    pub counter: RequestCounter,
    controller: Mutex<ControllerConfig>,
    /// Wakes the simulated controller after a write.
    pub wake: Notify,
    /// Bumped after every write, for watches.
    pub written: watch::Sender<u64>,
    /// `127.0.0.1:PORT`, once bound.
    pub address: OnceLock<String>,
}

impl Shared {
    pub fn new(
        seed: u64,
        faults: FaultState,
        controller: ControllerConfig,
        namespaces: &[String],
    ) -> Self {
        let mut state = State {
            store: Store::default(),
            rng: Rng::new(seed ^ 0x5eed_0f0b_1ec7),
        };
        for ns in namespaces {
            let mut obj = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}});
            if let Some(rt) = crate::resources::builtin("Namespace") {
                crate::objects::stamp_new(
                    rt,
                    &mut obj,
                    &mut state.rng,
                    &crate::clock::now_rfc3339(),
                );
            }
            crate::objects::normalize(&mut obj);
            state.store.put(ObjKey::new("", "namespaces", "", ns), obj);
        }
        // A cluster that has been running: its namespaces' default objects
        // exist before the first request.
        if controller.namespace_defaults {
            crate::controller::namespace_defaults::ensure(&mut state, &crate::clock::now_rfc3339());
        }
        Shared {
            state: Mutex::new(state),
            faults,
            counter: RequestCounter::default(),
            controller: Mutex::new(controller),
            wake: Notify::new(),
            written: watch::channel(0).0,
            address: OnceLock::new(),
        }
    }

    /// Locks the store. A panic while holding the lock cannot leave a
    /// half-written object (writes are single inserts), so poisoning is
    /// ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells the controller and open watches that something was written.
    pub fn notify_write(&self) {
        self.wake.notify_one();
        self.written.send_modify(|n| *n += 1);
    }

    pub fn controller(&self) -> ControllerConfig {
        self.controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_controller(&self, c: ControllerConfig) {
        *self.controller.lock().unwrap_or_else(|e| e.into_inner()) = c;
        self.wake.notify_one();
    }
}
