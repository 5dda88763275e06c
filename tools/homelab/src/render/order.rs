//! Apply order inside a release: definitions and cluster-scoped objects first, then
//! configuration, then workloads, then what routes to them; stable by kind, namespace
//! and name so two renders are identical.

use super::object::RenderedObject;

/// A kind's place in apply order (lower first); Helm hooks of one weight follow it too.
pub(crate) fn kind_rank(kind: &str) -> u8 {
    match kind {
        "CustomResourceDefinition" => 0,
        "Namespace" => 1,
        "PriorityClass" | "StorageClass" | "IngressClass" | "ClusterRole"
        | "ClusterRoleBinding" | "PersistentVolume" => 2,
        "ServiceAccount" => 3,
        "Role" | "RoleBinding" => 4,
        "Secret" | "ConfigMap" => 5,
        "PersistentVolumeClaim" => 6,
        "Service" => 7,
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "ReplicaSet" | "Pod" => 8,
        "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration" | "APIService" => 10,
        _ => 9,
    }
}

/// Sorts one release's objects into apply order.
pub(crate) fn sort_release(objects: &mut [RenderedObject]) {
    objects.sort_by(|a, b| {
        (
            kind_rank(a.kind()),
            a.kind(),
            a.namespace().unwrap_or(""),
            a.name(),
            &a.source,
        )
            .cmp(&(
                kind_rank(b.kind()),
                b.kind(),
                b.namespace().unwrap_or(""),
                b.name(),
                &b.source,
            ))
    });
}
