//! Request-body checks (400) and object validation (422) for the mistakes
//! clients really make: malformed names and labels, ConfigMap values that
//! are not strings, Secret data that is not base64, and changes to
//! immutable fields (workload selectors, Job templates, `roleRef`, immutable
//! ConfigMaps and Secrets, StatefulSet spec outside the updatable fields).

use serde_json::Value;

use crate::resources::ResourceType;
use crate::status::{ApiError, Cause};

/// The body's apiVersion, kind, namespace and name agree with the URL.
pub fn check_body_identity(
    rt: &ResourceType,
    obj: &Value,
    url_namespace: Option<&str>,
    url_name: Option<&str>,
) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON or YAML object",
        ));
    }
    if let Some(v) = obj["apiVersion"].as_str() {
        if v != rt.api_version() {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({})",
                rt.api_version()
            )));
        }
    }
    if let Some(k) = obj["kind"].as_str() {
        if k != rt.kind {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({}) of {}",
                rt.kind,
                rt.qualified_plural()
            )));
        }
    }
    if let (Some(ns), Some(url)) = (obj["metadata"]["namespace"].as_str(), url_namespace) {
        if ns != url && !ns.is_empty() {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    if let (Some(name), Some(url)) = (obj["metadata"]["name"].as_str(), url_name) {
        if name != url {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({name}) does not match the name on the URL ({url})"
            )));
        }
    }
    Ok(())
}

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.to_owned(),
        message,
        field: field.to_owned(),
    }
}

/// Validates an object about to be stored (`live` is the current version on
/// updates).
pub fn validate(rt: &ResourceType, obj: &Value, live: Option<&Value>) -> Result<(), ApiError> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let mut causes = Vec::new();
    let label_name = rt.group.is_empty() && matches!(rt.kind.as_str(), "Namespace" | "Service");
    if let Some(msg) = invalid_name(name, label_name) {
        causes.push(cause("FieldValueInvalid", "metadata.name", msg));
    }
    if let Some(labels) = obj["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            let ok = v.as_str().is_some_and(valid_label_value);
            if !ok {
                causes.push(cause(
                    "FieldValueInvalid",
                    &format!("metadata.labels[{k}]"),
                    format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                ));
            }
        }
    }
    if let Some(live) = live.filter(|l| l["metadata"]["deletionTimestamp"].is_string()) {
        no_new_finalizers(obj, live, &mut causes);
    }
    if rt.builtin {
        kind_specific(rt, obj, live, &mut causes);
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            &rt.group,
            &rt.qualified_kind(),
            name,
            causes,
        ))
    }
}

/// apimachinery's `ValidateNoNewFinalizers`.
fn no_new_finalizers(obj: &Value, live: &Value, causes: &mut Vec<Cause>) {
    let list = |v: &Value| -> Vec<String> {
        v["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let old = list(live);
    let mut extra: Vec<String> = list(obj).into_iter().filter(|f| !old.contains(f)).collect();
    extra.sort();
    extra.dedup();
    if !extra.is_empty() {
        let shown: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
        causes.push(cause(
            "FieldValueForbidden",
            "metadata.finalizers",
            format!(
                "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                shown.join(", ")
            ),
        ));
    }
}

fn kind_specific(rt: &ResourceType, obj: &Value, live: Option<&Value>, causes: &mut Vec<Cause>) {
    let immutable = |field: &str, path: &[&str], causes: &mut Vec<Cause>| {
        let Some(live) = live else { return };
        let get = |v: &'_ Value| path.iter().try_fold(v, |x, k| x.get(*k)).cloned();
        if get(live) != get(obj) {
            let shown = get(obj)
                .map(|v| v.to_string())
                .unwrap_or_else(|| "null".into());
            causes.push(cause(
                "FieldValueInvalid",
                field,
                format!("Invalid value: {shown}: field is immutable"),
            ));
        }
    };
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "ConfigMap") => {
            for (k, v) in obj["data"].as_object().into_iter().flatten() {
                if !v.is_string() {
                    causes.push(cause(
                        "FieldValueInvalid",
                        &format!("data[{k}]"),
                        format!("Invalid value: {v}: ConfigMap data values must be strings"),
                    ));
                }
            }
            immutable_data(obj, live, causes);
        }
        ("", "Secret") => {
            for (k, v) in obj["data"].as_object().into_iter().flatten() {
                if !v.as_str().is_some_and(is_base64) {
                    causes.push(cause("FieldValueInvalid", &format!("data[{k}]"), "Invalid value: \"<redacted>\": Secret data values must be base64-encoded strings".into()));
                }
            }
            immutable_data(obj, live, causes);
        }
        ("apps", "Deployment" | "DaemonSet" | "ReplicaSet") => {
            immutable("spec.selector", &["spec", "selector"], causes);
            selector_matches_template(obj, causes);
        }
        ("apps", "StatefulSet") => {
            immutable("spec.selector", &["spec", "selector"], causes);
            if let Some(live) = live {
                let fixed = |v: &Value| {
                    let mut s = v["spec"].as_object().cloned().unwrap_or_default();
                    for k in [
                        "replicas",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                        "ordinals",
                        "revisionHistoryLimit",
                    ] {
                        s.remove(k);
                    }
                    s
                };
                if fixed(live) != fixed(obj) {
                    causes.push(cause("FieldValueForbidden", "spec", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into()));
                }
            }
            selector_matches_template(obj, causes);
        }
        ("batch", "Job") => {
            immutable("spec.selector", &["spec", "selector"], causes);
            immutable("spec.template", &["spec", "template"], causes);
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding")
            if live.is_some_and(|l| l["roleRef"] != obj["roleRef"]) =>
        {
            causes.push(cause(
                "FieldValueInvalid",
                "roleRef",
                format!("Invalid value: {}: cannot change roleRef", obj["roleRef"]),
            ));
        }
        ("", "Service")
            if live.is_some_and(|l| l["spec"]["clusterIP"].is_string())
                && obj["spec"]["clusterIP"].is_string() =>
        {
            immutable("spec.clusterIPs[0]", &["spec", "clusterIP"], causes);
        }
        _ => {}
    }
}

fn immutable_data(obj: &Value, live: Option<&Value>, causes: &mut Vec<Cause>) {
    let Some(live) = live else { return };
    if live["immutable"] == true
        && (live["data"] != obj["data"] || live["binaryData"] != obj["binaryData"])
    {
        causes.push(cause(
            "FieldValueForbidden",
            "data",
            "Forbidden: field is immutable when `immutable` is set".into(),
        ));
    }
}

fn selector_matches_template(obj: &Value, causes: &mut Vec<Cause>) {
    let Some(match_labels) = obj["spec"]["selector"]["matchLabels"].as_object() else {
        return;
    };
    let labels = &obj["spec"]["template"]["metadata"]["labels"];
    if match_labels.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        causes.push(cause(
            "FieldValueInvalid",
            "spec.template.metadata.labels",
            format!("Invalid value: {labels}: `selector` does not match template `labels`"),
        ));
    }
}

fn invalid_name(name: &str, label: bool) -> Option<String> {
    if name.is_empty() {
        return Some("Required value: name or generateName is required".into());
    }
    let max = if label { 63 } else { 253 };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = name.len() <= max
        && name.starts_with(alnum)
        && name.ends_with(alnum)
        && name
            .chars()
            .all(|c| alnum(c) || c == '-' || (!label && c == '.'));
    if ok {
        return None;
    }
    Some(if label {
        format!("Invalid value: {name:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
    } else {
        format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    })
}

fn valid_label_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.starts_with(|c: char| c.is_ascii_alphanumeric())
            && v.ends_with(|c: char| c.is_ascii_alphanumeric())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

fn is_base64(s: &str) -> bool {
    s.len() % 4 == 0
        && s.trim_end_matches('=').len() + 2 >= s.len()
        && s.trim_end_matches('=')
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_type as rt;
    use serde_json::json;

    #[test]
    fn names_and_labels() {
        let ok = json!({"metadata": {"name": "web-1.x", "labels": {"a": "b"}}});
        assert!(validate(&rt("ConfigMap"), &ok, None).is_ok());
        let bad = json!({"metadata": {"name": "Web", "labels": {"a": "b c"}}});
        let err = validate(&rt("ConfigMap"), &bad, None).unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(err.details.causes.len(), 2);
        let dotted_ns = json!({"metadata": {"name": "a.b"}});
        assert!(validate(&rt("Namespace"), &dotted_ns, None).is_err());
    }

    #[test]
    fn selector_is_immutable() {
        let live = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "1"}},
            "template": {"metadata": {"labels": {"a": "1"}}}}});
        let new = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "2"}},
            "template": {"metadata": {"labels": {"a": "2"}}}}});
        let err = validate(&rt("Deployment"), &new, Some(&live)).unwrap_err();
        assert!(
            err.message.contains("spec.selector: Invalid value"),
            "{}",
            err.message
        );
    }

    #[test]
    fn secret_data_must_be_base64() {
        let good = json!({"metadata": {"name": "s"}, "data": {"k": "aGk="}});
        assert!(validate(&rt("Secret"), &good, None).is_ok());
        let bad = json!({"metadata": {"name": "s"}, "data": {"k": "hi!"}});
        assert!(validate(&rt("Secret"), &bad, None).is_err());
    }

    #[test]
    fn body_identity() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}});
        assert!(check_body_identity(&rt("ConfigMap"), &cm, Some("x"), Some("a")).is_ok());
        assert_eq!(
            check_body_identity(&rt("ConfigMap"), &cm, Some("y"), None)
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            check_body_identity(&rt("Secret"), &cm, None, None)
                .unwrap_err()
                .code,
            400
        );
    }
}
