//! The `/scale` subresource of Deployments, StatefulSets and ReplicaSets
//! (`registry/apps/*/storage` `ScaleREST`): an autoscaling/v1 `Scale` read
//! from the object, and GET, PUT and merge/JSON/strategic PATCH that set
//! only `spec.replicas`. Writes are recorded in managedFields under the
//! parent's apiVersion with `subresource: scale`, as the scale handler of
//! upstream's field manager maps them.

use serde_json::{json, Value};

use super::read::{key, not_found};
use super::write::{body, finish, media_type, schema};
use super::{ApiResponse, Ctx};
use crate::apply::managed_fields::{self, Update};
use crate::apply::walk::{changes, owned_part};
use crate::objects::{carry_over, validate};
use crate::patch::{json_patch, merge_patch, strategic_merge_patch};
use crate::state::State;
use crate::status::{ApiError, Cause};

/// The Scale of a stored object.
pub fn scale_of(obj: &Value) -> Value {
    let meta = &obj["metadata"];
    let mut m = json!({"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
        "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]});
    if let Some(m) = m.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": m,
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_string(&obj["spec"]["selector"])}})
}

/// A label selector as a string (`app=web,tier in (a,b)`).
fn selector_string(sel: &Value) -> String {
    let mut parts: Vec<String> = sel["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for e in sel["matchExpressions"].as_array().into_iter().flatten() {
        let k = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{k} in ({})", values.join(",")),
            "NotIn" => format!("{k} notin ({})", values.join(",")),
            "Exists" => k.to_owned(),
            _ => format!("!{k}"),
        });
    }
    parts.join(",")
}

pub(super) fn get(state: &State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let obj = state.store.get(&key(ctx)).ok_or_else(|| not_found(ctx))?;
    Ok(ApiResponse::json(200, scale_of(obj)))
}

/// PUT or PATCH of the Scale.
pub(super) fn write(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let live = state
        .store
        .get(&key(ctx))
        .cloned()
        .ok_or_else(|| not_found(ctx))?;
    let mut scale = scale_of(&live);
    let sent = body(ctx)?;
    if ctx.req.method == http::Method::PUT {
        scale = sent;
    } else {
        match media_type(ctx).as_str() {
            "application/merge-patch+json" => merge_patch(&mut scale, &sent),
            "application/strategic-merge-patch+json" => strategic_merge_patch(&mut scale, &sent),
            "application/json-patch+json" => json_patch(&mut scale, &sent)
                .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?,
            _ => return Err(ApiError::unsupported_media_type(&ctx.req.content_type)),
        }
    }
    if let Some(rv) = scale["metadata"]["resourceVersion"]
        .as_str()
        .filter(|rv| !rv.is_empty())
    {
        if Some(rv) != live["metadata"]["resourceVersion"].as_str() {
            return Err(ApiError::conflict(
                &ctx.rt.group,
                &ctx.rt.plural,
                ctx.name(),
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
    }
    let replicas = match &scale["spec"]["replicas"] {
        Value::Null => 0,
        v => v.as_i64().filter(|r| *r >= 0).ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale.autoscaling",
                ctx.name(),
                vec![Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: {v}: must be greater than or equal to 0"),
                    field: "spec.replicas".into(),
                }],
            )
        })?,
    };
    let mut new = live.clone();
    new["spec"]["replicas"] = json!(replicas);
    carry_over(&ctx.rt, &live, &mut new, false);
    let crd: Option<Value> = None;
    let (set, removed) = changes(
        &owned_part(&live, true, false),
        &owned_part(&new, true, false),
        schema(ctx, &crd),
    );
    let mut entries = managed_fields::parse(&live);
    let (manager, api_version) = (ctx.manager(), ctx.rt.api_version());
    Update {
        manager: &manager,
        api_version: &api_version,
        subresource: Some("scale"),
        now: &ctx.now,
    }
    .record(&mut entries, &set, &removed);
    managed_fields::store(&mut new, &entries);
    validate(&ctx.rt, &new, Some(&live))?;
    let stored = finish(state, ctx, &live, new)?;
    Ok(ApiResponse::json(200, scale_of(&stored.body)))
}
