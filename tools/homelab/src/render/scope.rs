//! Which kinds are namespaced: a built-in table of Kubernetes' own kinds, well-known
//! custom resources, and the CustomResourceDefinitions in the render itself.

use std::collections::BTreeMap;

use super::object::RenderedObject;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Namespaced,
    Cluster,
}

/// Where a kind's scope was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Known {
    BuiltIn,
    WellKnownCustom,
    RenderedCrd,
}

const CLUSTER: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

const NAMESPACED: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "Service"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "ReplicationController"),
    ("", "PodTemplate"),
    ("", "Event"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("apps", "ControllerRevision"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("storage.k8s.io", "CSIStorageCapacity"),
    ("events.k8s.io", "Event"),
];

/// Custom resources common enough in a home lab that their CRDs may come from elsewhere
/// (another tool, a cluster add-on) without a warning.
const WELL_KNOWN_CUSTOM: &[(&str, &str, Scope)] = &[
    ("monitoring.coreos.com", "ServiceMonitor", Scope::Namespaced),
    ("monitoring.coreos.com", "PodMonitor", Scope::Namespaced),
    ("monitoring.coreos.com", "PrometheusRule", Scope::Namespaced),
    ("cert-manager.io", "Certificate", Scope::Namespaced),
    ("cert-manager.io", "Issuer", Scope::Namespaced),
    ("cert-manager.io", "ClusterIssuer", Scope::Cluster),
    (
        "snapshot.storage.k8s.io",
        "VolumeSnapshot",
        Scope::Namespaced,
    ),
    (
        "snapshot.storage.k8s.io",
        "VolumeSnapshotClass",
        Scope::Cluster,
    ),
    ("traefik.io", "IngressRoute", Scope::Namespaced),
    ("traefik.io", "Middleware", Scope::Namespaced),
    ("traefik.io", "TLSOption", Scope::Namespaced),
];

/// Scope lookups for one render.
#[derive(Debug, Default)]
pub(crate) struct ScopeTable {
    crds: BTreeMap<(String, String), Scope>,
}

impl ScopeTable {
    /// Learns the scope of every CustomResourceDefinition among `objects`.
    pub(crate) fn with_crds<'a>(objects: impl IntoIterator<Item = &'a RenderedObject>) -> Self {
        let mut crds = BTreeMap::new();
        for o in objects {
            if o.kind() != "CustomResourceDefinition" || o.group() != "apiextensions.k8s.io" {
                continue;
            }
            let spec = &o.body["spec"];
            let (Some(group), Some(kind)) =
                (spec["group"].as_str(), spec["names"]["kind"].as_str())
            else {
                continue;
            };
            let scope = if spec["scope"].as_str() == Some("Cluster") {
                Scope::Cluster
            } else {
                Scope::Namespaced
            };
            crds.insert((group.to_string(), kind.to_string()), scope);
        }
        ScopeTable { crds }
    }

    /// The scope of `group`/`kind` and where it is known from; `None` for an unknown kind.
    pub(crate) fn lookup(&self, group: &str, kind: &str) -> Option<(Scope, Known)> {
        let key = (group, kind);
        if CLUSTER.contains(&key) {
            return Some((Scope::Cluster, Known::BuiltIn));
        }
        if NAMESPACED.contains(&key) {
            return Some((Scope::Namespaced, Known::BuiltIn));
        }
        if let Some(scope) = self.crds.get(&(group.to_string(), kind.to_string())) {
            return Some((*scope, Known::RenderedCrd));
        }
        WELL_KNOWN_CUSTOM
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
            .map(|(_, _, s)| (*s, Known::WellKnownCustom))
    }
}
