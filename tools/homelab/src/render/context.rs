//! The data templates see. Non-secret only: secrets reach the cluster as Secret objects
//! built outside templating, so no template can print one.
//!
//! Shape (field names as in the inventory and release.toml):
//!
//! ```text
//! env                      "dev"
//! inventory.domain         "example.org"   (all of hosts/inventory.nix, camelCase)
//! inventory.hosts.<h>      {system, roles, lanAddress, tailscaleAddress, labels, …, name}
//! release                  this release.toml: name, namespace, entrypoints.<e>.node_port, …
//! releases.<name>          that release's namespace, for every release of the environment
//! values                   the merged values (manifest templates only)
//! ```

use serde_json::{json, Map, Value};

use crate::inventory::model::Inventory;
use crate::release::model::Release;

/// The parts of the context shared by every release of one environment.
#[derive(Debug, Clone)]
pub(crate) struct SharedContext {
    pub env: String,
    pub inventory: Value,
    pub releases: Value,
}

impl SharedContext {
    pub(crate) fn new<'a>(
        env: &str,
        inventory: &Inventory,
        releases: impl IntoIterator<Item = &'a Release>,
    ) -> Self {
        let mut inventory = serde_json::to_value(inventory).unwrap_or(Value::Null);
        if let Some(hosts) = inventory.get_mut("hosts").and_then(Value::as_object_mut) {
            for (name, host) in hosts.iter_mut() {
                if let Some(host) = host.as_object_mut() {
                    host.insert("name".into(), Value::String(name.clone()));
                }
            }
        }
        let releases: Map<String, Value> = releases
            .into_iter()
            .map(|r| (r.name.clone(), Value::String(r.namespace.clone())))
            .collect();
        SharedContext {
            env: env.to_string(),
            inventory,
            releases: Value::Object(releases),
        }
    }

    /// The host map with names, for the `host` and `hosts_with_role` helpers.
    pub(crate) fn hosts(&self) -> Value {
        self.inventory
            .get("hosts")
            .cloned()
            .unwrap_or(Value::Object(Map::new()))
    }

    /// The context for one release's values files.
    pub(crate) fn for_values(&self, release: &Release) -> Value {
        json!({
            "env": self.env,
            "inventory": self.inventory,
            "release": serde_json::to_value(release).unwrap_or(Value::Null),
            "releases": self.releases,
        })
    }

    /// The context for one release's manifests: the values context plus merged `values`.
    pub(crate) fn for_manifests(&self, release: &Release, values: &Value) -> Value {
        let mut context = self.for_values(release);
        context["values"] = values.clone();
        context
    }
}
