//! `GET /api/v1/namespaces/NS/pods/NAME/log`: a Pod's log as `text/plain`, as
//! kube-apiserver streams it from the kubelet. There is no kubelet here: the log is
//! the one configured for the Pod's name in [`crate::ControllerConfig::pod_logs`]
//! (empty when none is). `follow`, `container`, `tailLines` and the like are ignored.

use http::Method;
use serde_json::Value;

use super::ApiResponse;
use crate::controller::ControllerConfig;
use crate::routes::ResourcePath;
use crate::state::State;
use crate::status::ApiError;
use crate::store::ObjKey;

pub(super) fn get(
    state: &State,
    config: &ControllerConfig,
    method: &Method,
    path: &ResourcePath,
) -> Result<ApiResponse, ApiError> {
    if method != Method::GET {
        return Err(ApiError::method_not_allowed(format!(
            "{method} is not supported on pods/log"
        )));
    }
    let (Some(namespace), Some(name)) = (&path.namespace, &path.name) else {
        return Err(ApiError::no_route());
    };
    if state
        .store
        .get(&ObjKey::new("", "pods", namespace, name))
        .is_none()
    {
        return Err(ApiError::not_found("", "pods", name));
    }
    let log = config.pod_logs.get(name).cloned().unwrap_or_default();
    Ok(ApiResponse {
        status: 200,
        content_type: "text/plain".into(),
        body: Value::String(log),
        headers: Vec::new(),
    })
}
