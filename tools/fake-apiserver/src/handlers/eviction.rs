//! `POST /api/v1/namespaces/NS/pods/NAME/eviction` (policy/v1 Eviction): deletes the
//! pod unless a PodDisruptionBudget selecting it forbids the disruption, in which case
//! it answers 429 as a real API server does, so drains can be tested.
//!
//! # Differences from a real server
//! - Disruptions allowed are computed on the spot from the budget's integer
//!   `minAvailable` / `maxUnavailable` and the pods its selector matches now (every
//!   matching pod counts as healthy); percentages and `status.disruptionsAllowed` from a
//!   controller are not read. `matchLabels` only.
//! - The pod is removed at once (no grace period, no finalizers).

use serde_json::{json, Value};

use super::{ApiResponse, Ctx};
use crate::state::State;
use crate::status::ApiError;
use crate::store::ObjKey;

pub(super) fn evict(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let namespace = ctx.namespace().to_owned();
    let key = ObjKey::new("", "pods", &namespace, ctx.name());
    let pod = state
        .store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found("", "pods", ctx.name()))?;
    let pods: Vec<Value> = state
        .store
        .list("", "pods", Some(&namespace))
        .map(|(_, p)| p.clone())
        .collect();
    let budgets: Vec<Value> = state
        .store
        .list("policy", "poddisruptionbudgets", Some(&namespace))
        .map(|(_, b)| b.clone())
        .collect();
    for budget in budgets.iter().filter(|b| selects(b, &pod)) {
        let healthy = pods.iter().filter(|p| selects(budget, p)).count() as i64;
        let spec = &budget["spec"];
        let allowed = match (
            spec["minAvailable"].as_i64(),
            spec["maxUnavailable"].as_i64(),
        ) {
            (Some(min), _) => healthy - min,
            (None, Some(max)) => max,
            (None, None) => healthy,
        };
        if allowed <= 0 {
            let name = budget["metadata"]["name"].as_str().unwrap_or_default();
            let mut e = ApiError::new(
                429,
                "TooManyRequests",
                format!("Cannot evict pod as it would violate the pod's disruption budget. The disruption budget {name} needs {} healthy pods and has {healthy} currently", spec["minAvailable"].as_i64().unwrap_or(healthy)),
            );
            e.details.retry_after = Some(1);
            return Err(e);
        }
    }
    state.store.remove(&key);
    Ok(ApiResponse::json(
        201,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
    ))
}

/// Whether the budget's `spec.selector.matchLabels` all appear on the pod.
fn selects(budget: &Value, pod: &Value) -> bool {
    let Some(wanted) = budget["spec"]["selector"]["matchLabels"].as_object() else {
        return false;
    };
    let labels = &pod["metadata"]["labels"];
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}
