//! Checks on the rendered set before anyone applies it:
//!
//! - built-in kinds must deserialize as their k8s-openapi types; fields the type does
//!   not know are warnings, as kubectl's strict field validation reports them;
//! - one kind/namespace/name from two places is an error naming both;
//! - a custom resource whose CRD is neither rendered nor well known is a warning.

use std::collections::BTreeMap;

use serde_json::Value;

use super::object::RenderedObject;
use super::scope::{Known, ScopeTable};

/// A problem the render can live with; printed, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub release: String,
    pub source: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "release `{}` ({}): {}",
            self.release, self.source, self.message
        )
    }
}

/// Checks one object against its built-in type. `Ok(warnings)` lists unknown fields;
/// `Err` says why the object cannot be what its kind claims. Kinds without a type here
/// pass unchecked.
pub(crate) fn check_typed(object: &RenderedObject) -> Result<Vec<String>, String> {
    let Some(round_trip) = typed_round_trip(object.api_version(), object.kind(), &object.body)
    else {
        return Ok(Vec::new());
    };
    let round_trip = round_trip?;
    let mut unknown = Vec::new();
    unknown_fields(&object.body, &round_trip, "", &mut unknown);
    Ok(unknown
        .into_iter()
        .map(|path| format!("{}: unknown field \"{path}\"", object.describe()))
        .collect())
}

fn unknown_fields(input: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match b.get(key) {
                    None if !value.is_null() => out.push(here),
                    None => {}
                    Some(typed) => unknown_fields(value, typed, &here, out),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                unknown_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

macro_rules! typed {
    ($api_version:expr, $kind:expr, $body:expr; $($ty:ty),* $(,)?) => {{
        $(
            if $api_version == <$ty as k8s_openapi::Resource>::API_VERSION && $kind == <$ty as k8s_openapi::Resource>::KIND {
                return Some(
                    serde_json::from_value::<$ty>($body.clone())
                        .map_err(|e| format!("not a valid {} {}: {e}", $api_version, $kind))
                        .and_then(|typed| serde_json::to_value(&typed).map_err(|e| e.to_string())),
                );
            }
        )*
        None
    }};
}

/// The object read as its k8s-openapi type and written back, or `None` when the kind has
/// no type here.
fn typed_round_trip(api_version: &str, kind: &str, body: &Value) -> Option<Result<Value, String>> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps, autoscaling::v2 as autoscaling,
        batch::v1 as batch, coordination::v1 as coordination, core::v1 as core,
        discovery::v1 as discovery, networking::v1 as networking, policy::v1 as policy,
        rbac::v1 as rbac, scheduling::v1 as scheduling, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    typed!(api_version, kind, body;
        core::ConfigMap, core::Secret, core::Service, core::ServiceAccount, core::PersistentVolumeClaim,
        core::PersistentVolume, core::Namespace, core::Pod, core::Endpoints, core::LimitRange, core::ResourceQuota,
        apps::Deployment, apps::StatefulSet, apps::DaemonSet, apps::ReplicaSet,
        batch::Job, batch::CronJob,
        rbac::Role, rbac::RoleBinding, rbac::ClusterRole, rbac::ClusterRoleBinding,
        networking::Ingress, networking::IngressClass, networking::NetworkPolicy,
        policy::PodDisruptionBudget, autoscaling::HorizontalPodAutoscaler,
        storage::StorageClass, storage::CSIDriver, scheduling::PriorityClass,
        admission::MutatingWebhookConfiguration, admission::ValidatingWebhookConfiguration,
        apiextensions::CustomResourceDefinition, coordination::Lease, discovery::EndpointSlice,
    )
}

/// Same kind, namespace and name twice: one message per clash, naming both sources.
pub(crate) fn duplicates<'a>(objects: impl IntoIterator<Item = &'a RenderedObject>) -> Vec<String> {
    let mut seen: BTreeMap<(String, String, String, String), &RenderedObject> = BTreeMap::new();
    let mut out = Vec::new();
    for o in objects {
        let key = (
            o.group().to_string(),
            o.kind().to_string(),
            o.namespace().unwrap_or("").to_string(),
            o.name().to_string(),
        );
        match seen.get(&key) {
            Some(first) => out.push(format!(
                "{} is rendered twice: by release `{}` from {} and by release `{}` from {}",
                o.describe(),
                first.release,
                first.source,
                o.release,
                o.source
            )),
            None => {
                seen.insert(key, o);
            }
        }
    }
    out
}

/// Warns about custom resources whose kind nothing defines.
pub(crate) fn unknown_kind_warning(
    object: &RenderedObject,
    scopes: &ScopeTable,
) -> Option<Warning> {
    match scopes.lookup(object.group(), object.kind()) {
        Some((_, Known::BuiltIn | Known::RenderedCrd | Known::WellKnownCustom)) => None,
        None => Some(Warning {
            release: object.release.clone(),
            source: object.source.clone(),
            message: format!(
                "{} ({}) has no CustomResourceDefinition in this render and is not a known kind; it is assumed namespaced and will fail to apply unless the CRD is installed",
                object.describe(),
                object.api_version()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(body: Value) -> RenderedObject {
        RenderedObject {
            release: "r".into(),
            source: "s.yaml".into(),
            body,
        }
    }

    #[test]
    fn unknown_fields_are_listed() {
        let o = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labelz": {}}, "data": {"k": "v"}, "extra": 1}),
        );
        let warnings = check_typed(&o).unwrap();
        assert_eq!(
            warnings,
            [
                "ConfigMap/a: unknown field \"metadata.labelz\"",
                "ConfigMap/a: unknown field \"extra\""
            ]
        );
    }

    #[test]
    fn wrong_types_are_errors() {
        let o = object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": "two", "selector": {}, "template": {}}}),
        );
        let err = check_typed(&o).unwrap_err();
        assert!(err.starts_with("not a valid apps/v1 Deployment"), "{err}");
    }

    #[test]
    fn duplicates_name_both_sources() {
        let a = object(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}),
        );
        let mut b = a.clone();
        b.release = "other".into();
        b.source = "t.yaml".into();
        assert_eq!(
            duplicates([&a, &b]),
            ["ConfigMap/n/a is rendered twice: by release `r` from s.yaml and by release `other` from t.yaml"]
        );
    }
}
