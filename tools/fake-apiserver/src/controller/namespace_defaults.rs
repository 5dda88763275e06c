//! What kube-controller-manager creates in every active namespace: the
//! `default` ServiceAccount (serviceaccounts controller) and the
//! `kube-root-ca.crt` ConfigMap (root-ca-cert-publisher), both written by
//! `kube-controller-manager` with an Update, and put back when deleted.

use serde_json::{json, Value};

use crate::apply::fieldset::FieldSet;
use crate::apply::managed_fields::{self, Update};
use crate::apply::walk::{changes, owned_part};
use crate::apply::Schema;
use crate::deletion::is_terminating;
use crate::state::State;
use crate::store::ObjKey;

pub const ROOT_CA: &str = "kube-root-ca.crt";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
/// Not a real certificate: nothing in the fake verifies TLS.
const FAKE_CA: &str = "-----BEGIN CERTIFICATE-----\nZmFrZS1hcGlzZXJ2ZXIgcm9vdCBDQSAobm90IGEgcmVhbCBjZXJ0aWZpY2F0ZSk=\n-----END CERTIFICATE-----\n";

/// Creates whatever is missing in the active namespaces.
pub fn ensure(state: &mut State, stamp: &str) {
    let active: Vec<String> = state
        .store
        .list("", "namespaces", None)
        .filter(|(_, ns)| !is_terminating(ns))
        .map(|(k, _)| k.name.clone())
        .collect();
    for ns in active {
        let sa = ObjKey::new("", "serviceaccounts", &ns, "default");
        if state.store.get(&sa).is_none() {
            let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns}});
            create(state, sa, "ServiceAccount", obj, stamp);
        }
        let cm = ObjKey::new("", "configmaps", &ns, ROOT_CA);
        if state.store.get(&cm).is_none() {
            let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": ROOT_CA, "namespace": ns,
                    "annotations": {"kubernetes.io/description": DESCRIPTION}},
                "data": {"ca.crt": FAKE_CA}});
            create(state, cm, "ConfigMap", obj, stamp);
        }
    }
}

fn create(state: &mut State, key: ObjKey, kind: &str, mut obj: Value, stamp: &str) {
    let (set, removed) = changes(
        &json!({}),
        &owned_part(&obj, false, false),
        Schema::builtin("v1", kind),
    );
    let mut entries = Vec::new();
    Update {
        manager: "kube-controller-manager",
        api_version: "v1",
        subresource: None,
        now: stamp,
    }
    .record(&mut entries, &set, &FieldSet::from_iter(removed));
    managed_fields::store(&mut obj, &entries);
    if let Some(rt) = crate::resources::builtin(kind) {
        crate::objects::stamp_new(rt, &mut obj, &mut state.rng, stamp);
    }
    state.store.put(key, obj);
}
