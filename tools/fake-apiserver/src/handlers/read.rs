//! GET and LIST (with label and field selectors). Objects are returned in
//! the version the client asked for (the fake stores one shape per kind).

use serde_json::{json, Value};

use super::{ApiResponse, Ctx};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::state::State;
use crate::status::ApiError;
use crate::store::ObjKey;

pub(super) fn key(ctx: &Ctx) -> ObjKey {
    ObjKey::new(&ctx.rt.group, &ctx.rt.plural, ctx.namespace(), ctx.name())
}

pub(super) fn not_found(ctx: &Ctx) -> ApiError {
    ApiError::not_found(&ctx.rt.group, &ctx.rt.plural, ctx.name())
}

/// The object as served at the requested version.
pub(super) fn served(ctx: &Ctx, obj: &Value) -> Value {
    let mut out = obj.clone();
    out["apiVersion"] = json!(ctx.rt.api_version());
    out
}

pub(super) fn get(state: &State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let obj = state.store.get(&key(ctx)).ok_or_else(|| not_found(ctx))?;
    if let Some(t) = as_table(state, ctx, std::slice::from_ref(obj)) {
        return Ok(t);
    }
    Ok(ApiResponse::json(200, served(ctx, obj)))
}

/// The objects a LIST or DELETE-collection selects.
pub(super) fn selected(state: &State, ctx: &Ctx) -> Result<Vec<(ObjKey, Value)>, ApiError> {
    let bad = |e: crate::selectors::SelectorError| ApiError::bad_request(e.to_string());
    let labels =
        LabelSelector::parse(ctx.req.query.get("labelSelector").unwrap_or("")).map_err(bad)?;
    let fields =
        FieldSelector::parse(ctx.req.query.get("fieldSelector").unwrap_or("")).map_err(bad)?;
    Ok(state
        .store
        .list(&ctx.rt.group, &ctx.rt.plural, ctx.path.namespace.as_deref())
        .filter(|(_, o)| labels.matches(o) && fields.matches(o))
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect())
}

pub(super) fn list(state: &State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let items: Vec<Value> = selected(state, ctx)?
        .iter()
        .map(|(_, o)| served(ctx, o))
        .collect();
    if let Some(t) = as_table(state, ctx, &items) {
        return Ok(t);
    }
    Ok(ApiResponse::json(
        200,
        json!({
            "kind": format!("{}List", ctx.rt.kind),
            "apiVersion": ctx.rt.api_version(),
            "metadata": {"resourceVersion": state.store.resource_version().to_string()},
            "items": items,
        }),
    ))
}

/// The objects as a `Table` when the client asked for one.
fn as_table(state: &State, ctx: &Ctx, objects: &[Value]) -> Option<ApiResponse> {
    if !super::table::wanted(&ctx.req.accept) || ctx.path.subresource.is_some() {
        return None;
    }
    let include = ctx.req.query.get("includeObject");
    let rv = state.store.resource_version();
    Some(ApiResponse::json(
        200,
        super::table::table(&ctx.rt, objects, include, rv),
    ))
}
