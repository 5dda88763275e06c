//! Property test: server-side apply on a ConfigMap's `data` agrees with a
//! small ownership model for random sequences of applies by two managers,
//! with and without force.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{json, Value};

use super::schema::Schema;
use super::ssa::Apply;

type Config = BTreeMap<String, String>;

#[derive(Default, Debug)]
struct Model {
    live: BTreeMap<String, String>,
    owners: BTreeMap<String, BTreeSet<String>>,
    applied: BTreeMap<String, BTreeSet<String>>,
}

impl Model {
    /// Returns whether the apply conflicted (and so changed nothing).
    fn apply(&mut self, m: &str, cfg: &Config, force: bool) -> bool {
        let conflicts: Vec<&String> = cfg
            .iter()
            .filter(|(k, v)| {
                let others = self
                    .owners
                    .get(*k)
                    .is_some_and(|o| o.iter().any(|x| x != m));
                others && self.live.get(*k) != Some(*v)
            })
            .map(|(k, _)| k)
            .collect();
        if !conflicts.is_empty() && !force {
            return true;
        }
        for k in conflicts {
            if let Some(o) = self.owners.get_mut(k) {
                o.retain(|x| x == m);
            }
        }
        let previous = self.applied.remove(m).unwrap_or_default();
        for (k, v) in cfg {
            self.live.insert(k.clone(), v.clone());
            self.owners
                .entry(k.clone())
                .or_default()
                .insert(m.to_owned());
        }
        for k in previous.iter().filter(|k| !cfg.contains_key(*k)) {
            let owners = self.owners.entry(k.clone()).or_default();
            owners.remove(m);
            if owners.is_empty() {
                self.live.remove(k);
            }
        }
        self.applied
            .insert(m.to_owned(), cfg.keys().cloned().collect());
        false
    }
}

fn config_map(cfg: &Config) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}, "data": cfg})
}

fn step() -> impl Strategy<Value = (usize, Config, bool)> {
    let cfg = prop::collection::btree_map("k[0-4]", "v[0-1]", 0..4);
    (0..2usize, cfg, prop::bool::weighted(0.3))
}

proptest! {
    #[test]
    fn apply_matches_the_ownership_model(steps in prop::collection::vec(step(), 1..12)) {
        let mut model = Model::default();
        let mut live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}});
        for (who, cfg, force) in steps {
            let manager = ["a", "b"][who];
            let engine = Apply { manager, force, has_status: false, subresource: None, schema: Schema::builtin("v1", "ConfigMap"), now: "t" };
            let result = engine.run(&live, &config_map(&cfg));
            let conflicted = model.apply(manager, &cfg, force);
            prop_assert_eq!(result.is_err(), conflicted, "conflict verdict for {} {:?}", manager, cfg);
            if let Ok(new) = result {
                live = new;
            }
            let data: BTreeMap<String, String> = live["data"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default();
            prop_assert_eq!(&data, &model.live);
        }
    }
}
