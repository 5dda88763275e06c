//! The API group versions (and their kinds) a Kubernetes API server serves by default,
//! by minor version, as discovery lists them: what `helm upgrade --install` sees in
//! `.Capabilities.APIVersions` on a real cluster and `helm template` does not.
//!
//! Only APIs served by default: GA versions, and the betas that were on by default
//! before 1.24 (new betas have been off by default since). The facts come from the
//! Kubernetes deprecation guide and each release's API changes.

/// A group version's kinds served from minor `since` up to (not including) `until`.
struct Served {
    group_version: &'static str,
    since: u64,
    until: Option<u64>,
    kinds: &'static [&'static str],
}

const fn served(
    group_version: &'static str,
    since: u64,
    until: Option<u64>,
    kinds: &'static [&'static str],
) -> Served {
    Served {
        group_version,
        since,
        until,
        kinds,
    }
}

const CORE: &[&str] = &[
    "Binding",
    "ComponentStatus",
    "ConfigMap",
    "Endpoints",
    "Event",
    "LimitRange",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
];

const SERVED: &[Served] = &[
    served("v1", 0, None, CORE),
    served(
        "admissionregistration.k8s.io/v1",
        16,
        None,
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
    ),
    served(
        "admissionregistration.k8s.io/v1",
        30,
        None,
        &[
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
        ],
    ),
    served(
        "apiextensions.k8s.io/v1",
        16,
        None,
        &["CustomResourceDefinition"],
    ),
    served("apiregistration.k8s.io/v1", 10, None, &["APIService"]),
    served(
        "apps/v1",
        9,
        None,
        &[
            "ControllerRevision",
            "DaemonSet",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
        ],
    ),
    served("authentication.k8s.io/v1", 6, None, &["TokenReview"]),
    served("authentication.k8s.io/v1", 28, None, &["SelfSubjectReview"]),
    served(
        "authorization.k8s.io/v1",
        6,
        None,
        &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ],
    ),
    served("autoscaling/v1", 0, None, &["HorizontalPodAutoscaler"]),
    served("autoscaling/v2", 23, None, &["HorizontalPodAutoscaler"]),
    served(
        "autoscaling/v2beta1",
        8,
        Some(25),
        &["HorizontalPodAutoscaler"],
    ),
    served(
        "autoscaling/v2beta2",
        12,
        Some(26),
        &["HorizontalPodAutoscaler"],
    ),
    served("batch/v1", 0, None, &["Job"]),
    served("batch/v1", 21, None, &["CronJob"]),
    served("batch/v1beta1", 8, Some(25), &["CronJob"]),
    served(
        "certificates.k8s.io/v1",
        19,
        None,
        &["CertificateSigningRequest"],
    ),
    served("coordination.k8s.io/v1", 14, None, &["Lease"]),
    served("discovery.k8s.io/v1", 21, None, &["EndpointSlice"]),
    served("discovery.k8s.io/v1beta1", 17, Some(25), &["EndpointSlice"]),
    served("events.k8s.io/v1", 19, None, &["Event"]),
    served(
        "flowcontrol.apiserver.k8s.io/v1",
        29,
        None,
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    served(
        "flowcontrol.apiserver.k8s.io/v1beta2",
        23,
        Some(29),
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    served(
        "flowcontrol.apiserver.k8s.io/v1beta3",
        26,
        Some(32),
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    served(
        "networking.k8s.io/v1",
        19,
        None,
        &["Ingress", "IngressClass", "NetworkPolicy"],
    ),
    served(
        "networking.k8s.io/v1",
        33,
        None,
        &["IPAddress", "ServiceCIDR"],
    ),
    served("node.k8s.io/v1", 20, None, &["RuntimeClass"]),
    served("policy/v1", 21, None, &["PodDisruptionBudget"]),
    served(
        "policy/v1beta1",
        5,
        Some(25),
        &["PodDisruptionBudget", "PodSecurityPolicy"],
    ),
    served(
        "rbac.authorization.k8s.io/v1",
        8,
        None,
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    served(
        "resource.k8s.io/v1",
        34,
        None,
        &[
            "DeviceClass",
            "ResourceClaim",
            "ResourceClaimTemplate",
            "ResourceSlice",
        ],
    ),
    served("scheduling.k8s.io/v1", 14, None, &["PriorityClass"]),
    served("storage.k8s.io/v1", 6, None, &["StorageClass"]),
    served("storage.k8s.io/v1", 13, None, &["VolumeAttachment"]),
    served("storage.k8s.io/v1", 17, None, &["CSINode"]),
    served("storage.k8s.io/v1", 18, None, &["CSIDriver"]),
    served("storage.k8s.io/v1", 24, None, &["CSIStorageCapacity"]),
    served("storage.k8s.io/v1", 34, None, &["VolumeAttributesClass"]),
    served(
        "storage.k8s.io/v1beta1",
        21,
        Some(27),
        &["CSIStorageCapacity"],
    ),
];

/// `group/version` and `group/version/Kind` (core: `v1`, `v1/Pod`) of every API a
/// server of `kube_version` (`v1.34.1` or `1.34.1`) serves by default. A version
/// that is not `1.MINOR…` serves nothing known: the inventory's check reports it.
pub(crate) fn served_by(kube_version: &str) -> Vec<String> {
    let Some(minor) = minor_of(kube_version) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in SERVED
        .iter()
        .filter(|s| s.since <= minor && s.until.is_none_or(|u| minor < u))
    {
        out.push(s.group_version.to_string());
        out.extend(s.kinds.iter().map(|k| format!("{}/{k}", s.group_version)));
    }
    out.sort();
    out.dedup();
    out
}

fn minor_of(kube_version: &str) -> Option<u64> {
    let mut parts = kube_version
        .strip_prefix('v')
        .unwrap_or(kube_version)
        .split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_serves_its_apis_and_not_removed_ones() {
        let v134 = served_by("v1.34.1");
        for present in [
            "v1",
            "v1/Pod",
            "apps/v1/Deployment",
            "batch/v1/CronJob",
            "policy/v1",
            "resource.k8s.io/v1/ResourceClaim",
        ] {
            assert!(v134.iter().any(|v| v == present), "{present}");
        }
        for removed in [
            "policy/v1beta1",
            "autoscaling/v2beta2",
            "flowcontrol.apiserver.k8s.io/v1beta3",
        ] {
            assert!(!v134.iter().any(|v| v == removed), "{removed}");
        }
        let v124 = served_by("1.24.0");
        assert!(v124
            .iter()
            .any(|v| v == "policy/v1beta1/PodDisruptionBudget"));
        assert!(!v124.iter().any(|v| v == "resource.k8s.io/v1"));
        let mut sorted = v134.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, v134, "sorted and without repeats");
    }

    #[test]
    fn an_unknown_major_serves_nothing() {
        assert!(served_by("2.0.0").is_empty());
        assert!(served_by("latest").is_empty());
    }
}
