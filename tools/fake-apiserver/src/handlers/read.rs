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
    let (page, next, remaining) = paginate(selected(state, ctx)?, ctx)?;
    let items: Vec<Value> = page.iter().map(|(_, o)| served(ctx, o)).collect();
    let mut metadata = json!({"resourceVersion": state.store.resource_version().to_string()});
    if let Some(token) = next {
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(remaining);
    }
    if let Some(mut t) = as_table(state, ctx, &items) {
        t.body["metadata"] = metadata;
        return Ok(t);
    }
    Ok(ApiResponse::json(
        200,
        json!({
            "kind": format!("{}List", ctx.rt.kind),
            "apiVersion": ctx.rt.api_version(),
            "metadata": metadata,
            "items": items,
        }),
    ))
}

/// `limit` and `continue`: pages in key order; the token names the last
/// key returned, so pages stay consistent while objects change.
type Page = (Vec<(ObjKey, Value)>, Option<String>, usize);

fn paginate(mut all: Vec<(ObjKey, Value)>, ctx: &Ctx) -> Result<Page, ApiError> {
    if let Some(token) = ctx.req.query.get("continue").filter(|t| !t.is_empty()) {
        let after = decode_token(token)
            .ok_or_else(|| ApiError::bad_request(format!("invalid continue token {token:?}")))?;
        all.retain(|(k, _)| {
            (k.namespace.as_str(), k.name.as_str()) > (after.0.as_str(), after.1.as_str())
        });
    }
    let limit = ctx
        .req
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    if limit == 0 || all.len() <= limit {
        return Ok((all, None, 0));
    }
    let rest = all.split_off(limit);
    let token = all.last().map(|(k, _)| encode_token(&k.namespace, &k.name));
    Ok((all, token, rest.len()))
}

fn encode_token(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_token(token: &str) -> Option<(String, String)> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (ns, name) = text.split_once('/')?;
    Some((ns.to_owned(), name.to_owned()))
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
