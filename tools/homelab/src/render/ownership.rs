//! The labels that make every object ours: `managed-by`, release, environment, and the
//! ApplySet `part-of` label computed exactly as kubectl computes it, so `kubectl apply
//! --prune --applyset` and homelab agree on membership.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub(crate) const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub(crate) const MANAGED_BY_VALUE: &str = "homelab";
pub(crate) const RELEASE_LABEL: &str = "homelab.dev/release";
pub(crate) const ENVIRONMENT_LABEL: &str = "homelab.dev/environment";
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// The namespace of each environment's ApplySet parent Secret.
pub(crate) const APPLYSET_PARENT_NAMESPACE: &str = "kube-system";

/// The name of the environment's ApplySet parent Secret.
pub(crate) fn applyset_parent_name(env: &str) -> String {
    format!("homelab-{env}")
}

/// kubectl's ApplySet id (`k8s.io/kubectl/pkg/cmd/apply/applyset.go`, `ID()`):
/// `applyset-` + base64url-no-pad(sha256("<name>.<namespace>.<kind>.<group>")) + `-v1`,
/// here for a parent Secret (kind `Secret`, core group ``).
pub fn applyset_id(env: &str) -> String {
    let unencoded = format!(
        "{}.{}.Secret.",
        applyset_parent_name(env),
        APPLYSET_PARENT_NAMESPACE
    );
    let hashed = Sha256::digest(unencoded.as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hashed)
    )
}

/// Adds homelab's labels to `body`'s `metadata.labels`, keeping the object's own.
pub fn label(body: &mut Value, release: &str, env: &str, applyset_id: &str) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let labels = metadata
        .entry("labels")
        .or_insert_with(|| Value::Object(Map::new()));
    if !labels.is_object() {
        *labels = Value::Object(Map::new());
    }
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
        labels.insert(RELEASE_LABEL.into(), release.into());
        labels.insert(ENVIRONMENT_LABEL.into(), env.into());
        labels.insert(PART_OF_LABEL.into(), applyset_id.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applyset_id_matches_kubectl() {
        // sha256("homelab-dev.kube-system.Secret.") base64url without padding, as
        // kubectl's ID() builds it.
        let id = applyset_id("dev");
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"));
        assert_eq!(id.len(), "applyset-".len() + 43 + "-v1".len());
        let expected = {
            let h = Sha256::digest(b"homelab-dev.kube-system.Secret.");
            format!(
                "applyset-{}-v1",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h)
            )
        };
        assert_eq!(id, expected);
    }
}
