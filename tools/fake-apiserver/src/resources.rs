//! The resource types the server knows: a fixed table of built-in kinds plus
//! one entry per served version of every Established CustomResourceDefinition.
//!
//! Discovery, routing and the store all look types up here, so a CRD becoming
//! served is nothing more than a new row appearing in [`Registry`].

use serde_json::Value;

/// The verbs every served resource supports (discovery lists them).
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource (group, version, plural) and what kind it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// Plural lowercase name used in URLs (`deployments`).
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Whether the type has a `/status` subresource (status is then ignored on
    /// main-resource writes, as on a real server).
    pub has_status: bool,
    /// Whether `metadata.generation` is maintained.
    pub tracks_generation: bool,
    /// Built-in types get the built-in list/map merge semantics; custom types
    /// use their CRD schema.
    pub builtin: bool,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether the type has a `/scale` subresource (autoscaling/v1 Scale).
    pub fn has_scale(&self) -> bool {
        self.builtin
            && self.group == "apps"
            && matches!(
                self.plural.as_str(),
                "deployments" | "statefulsets" | "replicasets"
            )
    }

    /// `deployments.apps`, or `configmaps` for the core group, as error
    /// messages name resources.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, as validation messages name kinds.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    status: bool,
    generation: bool,
    all: bool,
}

const fn b(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
) -> Builtin {
    Builtin {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short,
        status: false,
        generation: false,
        all: false,
    }
}

const fn with_status(mut x: Builtin) -> Builtin {
    x.status = true;
    x
}

const fn with_generation(mut x: Builtin) -> Builtin {
    x.generation = true;
    x
}

const fn in_all(mut x: Builtin) -> Builtin {
    x.all = true;
    x
}

// One row a kind reads best unwrapped.
#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    with_status(b("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"])),
    b("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"]),
    b("", "v1", "secrets", "secret", "Secret", true, &[]),
    in_all(with_status(b("", "v1", "services", "service", "Service", true, &["svc"]))),
    b("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"]),
    with_status(b("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"])),
    with_status(b("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, &["pv"])),
    b("", "v1", "events", "event", "Event", true, &["ev"]),
    in_all(with_status(b("", "v1", "pods", "pod", "Pod", true, &["po"]))),
    b("", "v1", "podtemplates", "podtemplate", "PodTemplate", true, &[]),
    in_all(with_status(b("", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", true, &["rc"]))),
    b("", "v1", "endpoints", "endpoints", "Endpoints", true, &["ep"]),
    b("", "v1", "limitranges", "limitrange", "LimitRange", true, &["limits"]),
    with_status(b("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, &["quota"])),
    with_status(b("", "v1", "nodes", "node", "Node", false, &["no"])),
    in_all(with_generation(with_status(b("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"])))),
    in_all(with_generation(with_status(b("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"])))),
    in_all(with_generation(with_status(b("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"])))),
    in_all(with_generation(with_status(b("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"])))),
    b("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, &[]),
    in_all(with_generation(with_status(b("batch", "v1", "jobs", "job", "Job", true, &[])))),
    in_all(with_generation(with_status(b("batch", "v1", "cronjobs", "cronjob", "CronJob", true, &["cj"])))),
    in_all(with_generation(with_status(b("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"])))),
    with_generation(with_status(b("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"]))),
    with_generation(b("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, &[])),
    with_generation(b("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, &["netpol"])),
    b("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, &[]),
    with_generation(with_status(b("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"]))),
    b("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, &[]),
    b("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, &[]),
    b("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, &[]),
    b("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, &[]),
    with_generation(with_status(b("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, &["crd", "crds"]))),
    with_status(b("apiregistration.k8s.io", "v1", "apiservices", "apiservice", "APIService", false, &[])),
    with_generation(b("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, &[])),
    with_generation(b("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, &[])),
    b("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, &[]),
    b("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, &["sc"]),
    b("storage.k8s.io", "v1", "csidrivers", "csidriver", "CSIDriver", false, &[]),
    b("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, &["pc"]),
    b("node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", false, &[]),
];

/// The built-in resource types, in discovery order (built once).
pub fn builtins() -> &'static [ResourceType] {
    static TYPES: std::sync::OnceLock<Vec<ResourceType>> = std::sync::OnceLock::new();
    TYPES.get_or_init(builtin_types)
}

/// The built-in type of a core or named-group kind.
pub fn builtin(kind: &str) -> Option<&'static ResourceType> {
    builtins().iter().find(|t| t.kind == kind)
}

/// The built-in resource types, in discovery order.
/// The built-in resource type of `kind`, for unit tests.
#[cfg(test)]
pub(crate) fn builtin_type(kind: &str) -> ResourceType {
    builtin_types()
        .into_iter()
        .find(|t| t.kind == kind)
        .unwrap_or_else(|| panic!("no built-in kind {kind}"))
}

pub fn builtin_types() -> Vec<ResourceType> {
    BUILTINS
        .iter()
        .map(|x| ResourceType {
            group: x.group.to_owned(),
            version: x.version.to_owned(),
            kind: x.kind.to_owned(),
            plural: x.plural.to_owned(),
            singular: x.singular.to_owned(),
            namespaced: x.namespaced,
            short_names: x.short.iter().map(|s| (*s).to_owned()).collect(),
            categories: if x.all {
                vec!["all".to_owned()]
            } else {
                Vec::new()
            },
            has_status: x.status,
            tracks_generation: x.generation,
            builtin: true,
        })
        .collect()
}

/// The resource types a CRD object serves (one per served version), or none
/// while the CRD is not Established.
pub fn crd_types(crd: &Value) -> Vec<ResourceType> {
    if !crd_established(crd) {
        return Vec::new();
    }
    let spec = &crd["spec"];
    let names = &spec["names"];
    let (Some(group), Some(kind), Some(plural)) = (
        spec["group"].as_str(),
        names["kind"].as_str(),
        names["plural"].as_str(),
    ) else {
        return Vec::new();
    };
    let singular = names["singular"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| kind.to_lowercase());
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            Some(ResourceType {
                group: group.to_owned(),
                version: v["name"].as_str()?.to_owned(),
                kind: kind.to_owned(),
                plural: plural.to_owned(),
                singular: singular.clone(),
                namespaced: spec["scope"].as_str() != Some("Cluster"),
                short_names: strings(&names["shortNames"]),
                categories: strings(&names["categories"]),
                has_status: v["subresources"]["status"].is_object(),
                tracks_generation: true,
                builtin: false,
            })
        })
        .collect()
}

/// Whether a CRD carries `Established=True`.
pub fn crd_established(crd: &Value) -> bool {
    crd["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}

/// All served types at one moment: built-ins first, then CRD types sorted by
/// group, version and plural (deterministic discovery output).
#[derive(Clone, Debug)]
pub struct Registry {
    custom: Vec<ResourceType>,
}

impl Registry {
    pub fn new(custom: Vec<ResourceType>) -> Self {
        let mut custom = custom;
        custom.sort_by(|a, b| {
            (&a.group, &a.version, &a.plural).cmp(&(&b.group, &b.version, &b.plural))
        });
        Registry { custom }
    }

    /// Every served type: built-ins first, then custom types.
    pub fn types(&self) -> impl Iterator<Item = &ResourceType> {
        builtins().iter().chain(self.custom.iter())
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// The (group, versions) pairs in discovery order; the first version of a
    /// group is its preferred version.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types() {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceType> + 'a {
        self.types()
            .filter(move |t| t.group == group && t.version == version)
    }

    /// The type storing objects of `apiVersion`/`kind` (the first served
    /// version of its group/kind when several exist).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types()
            .find(|t| t.api_version() == api_version && t.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn established_crd_serves_each_served_version() {
        let crd = json!({
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
                "versions": [{"name": "v1", "served": true, "subresources": {"status": {}}},
                             {"name": "v0", "served": false}]},
            "status": {"conditions": [{"type": "Established", "status": "True"}]}
        });
        let types = crd_types(&crd);
        assert_eq!(types.len(), 1);
        assert_eq!(types[0].singular, "widget");
        assert!(types[0].has_status);
        assert_eq!(types[0].short_names, vec!["wd"]);
    }

    #[test]
    fn crd_without_established_serves_nothing() {
        let crd = json!({"spec": {"group": "g", "names": {"kind": "K", "plural": "ks"},
            "versions": [{"name": "v1", "served": true}]}});
        assert!(crd_types(&crd).is_empty());
    }

    #[test]
    fn groups_keep_core_first() {
        let r = Registry::new(Vec::new());
        assert_eq!(r.groups()[0].0, "");
        assert!(r.find("apps", "v1", "deployments").is_some());
    }
}
