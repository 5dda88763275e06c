//! POST, PUT and PATCH (merge, strategic merge and JSON patch; apply is in
//! [`super::apply`]), on the main resource and on `/status`. Every write honours
//! `dryRun=All`, records managed fields and is skipped (no new
//! resourceVersion) when it would change nothing.

use serde_json::{json, Value};

use super::read::{key, not_found, served};
use super::{field_validation, ApiResponse, Ctx};
use crate::apply::managed_fields::{self, Update};
use crate::apply::walk::{changes, owned_part};
use crate::apply::Schema;
use crate::objects::{
    apply_defaults, carry_over, check_body_identity, normalize, stamp_new, unchanged, validate,
};
use crate::patch::{json_patch, merge_patch, strategic_merge_patch};
use crate::state::State;
use crate::status::{ApiError, Cause};
use crate::store::ObjKey;

pub(super) fn media_type(ctx: &Ctx) -> String {
    ctx.req
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The body as JSON, or YAML for YAML content types (apply patches).
pub(super) fn body(ctx: &Ctx) -> Result<Value, ApiError> {
    let bytes = &ctx.req.body;
    let media = media_type(ctx);
    if media.contains("protobuf") || media.contains("cbor") {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!("the fake API server decodes JSON and YAML only, not {media}; send application/json (kubectl: use `apply` or `create -f`)"),
        ));
    }
    let parsed = if media_type(ctx).contains("yaml") {
        serde_norway::from_slice::<Value>(bytes).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(bytes).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| ApiError::bad_request(format!("the request body could not be decoded: {e}")))
}

/// The schema merges follow: built-in tables, or the CRD's.
pub(super) fn crd_schema(state: &State, ctx: &Ctx) -> Option<Value> {
    if ctx.rt.builtin {
        return None;
    }
    state
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None)
        .map(|(_, crd)| crd)
        .find(|crd| {
            crd["spec"]["group"] == ctx.rt.group.as_str()
                && crd["spec"]["names"]["plural"] == ctx.rt.plural.as_str()
        })
        .and_then(|crd| {
            crd["spec"]["versions"]
                .as_array()?
                .iter()
                .find(|v| v["name"] == ctx.rt.version.as_str())
                .map(|v| v["schema"]["openAPIV3Schema"].clone())
        })
        .filter(|s| s.is_object())
}

pub(super) fn schema<'a>(ctx: &Ctx, crd: &'a Option<Value>) -> Schema<'a> {
    if ctx.rt.builtin {
        Schema::builtin(&ctx.rt.api_version(), &ctx.rt.kind)
    } else {
        Schema::crd(crd.as_ref())
    }
}

/// Stores (or, on dry run, only shapes) an object.
pub(super) fn commit(
    state: &mut State,
    ctx: &Ctx,
    key: ObjKey,
    mut obj: Value,
    live: Option<&Value>,
) -> Value {
    normalize(&mut obj);
    if ctx.req.query.dry_run() {
        if let Some(rv) = live.and_then(|l| l["metadata"].get("resourceVersion")) {
            obj["metadata"]["resourceVersion"] = rv.clone();
        }
        return obj;
    }
    state.store.put(key, obj)
}

/// A new namespaced object needs its namespace, and one not being deleted
/// (the NamespaceLifecycle admission plugin's answer).
pub(super) fn require_namespace(state: &State, ctx: &Ctx, name: &str) -> Result<(), ApiError> {
    if !ctx.rt.namespaced {
        return Ok(());
    }
    let ns = ctx.namespace();
    match state.store.get(&ObjKey::new("", "namespaces", "", ns)) {
        None => Err(ApiError::not_found("", "namespaces", ns)),
        Some(n) if crate::deletion::is_terminating(n) => {
            let what = if ctx.rt.group.is_empty() {
                ctx.rt.plural.clone()
            } else {
                format!("{}.{}", ctx.rt.plural, ctx.rt.group)
            };
            let mut e = ApiError::new(
                403,
                "Forbidden",
                format!("{what} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"),
            );
            e.details.name = Some(name.to_owned());
            e.details.group = Some(ctx.rt.group.clone());
            e.details.kind = Some(ctx.rt.plural.clone());
            e.details.causes = vec![Cause {
                reason: "NamespaceTerminating".into(),
                message: format!("namespace {ns} is being terminated"),
                field: "metadata.namespace".into(),
            }];
            Err(e)
        }
        Some(_) => Ok(()),
    }
}

pub(super) fn create(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let mut obj = body(ctx)?;
    check_body_identity(&ctx.rt, &obj, ctx.path.namespace.as_deref(), None)?;
    let crd = crd_schema(state, ctx);
    let warnings = field_validation::check(ctx, &mut obj, schema(ctx, &crd))?;
    obj["apiVersion"] = json!(ctx.rt.api_version());
    obj["kind"] = json!(ctx.rt.kind);
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let name = match (
        obj["metadata"]["name"].as_str(),
        obj["metadata"]["generateName"].as_str(),
    ) {
        (Some(n), _) if !n.is_empty() => n.to_owned(),
        (_, Some(prefix)) => format!("{prefix}{}", state.rng.suffix(5)),
        _ => String::new(),
    };
    obj["metadata"]["name"] = json!(name);
    if ctx.rt.namespaced {
        obj["metadata"]["namespace"] = json!(ctx.namespace());
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    validate(&ctx.rt, &obj, None)?;
    require_namespace(state, ctx, &name)?;
    let key = ObjKey::new(&ctx.rt.group, &ctx.rt.plural, ctx.namespace(), &name);
    if state.store.get(&key).is_some() {
        return Err(ApiError::already_exists(
            &ctx.rt.group,
            &ctx.rt.plural,
            &name,
        ));
    }
    stamp_new(&ctx.rt, &mut obj, &mut state.rng, &ctx.now);
    let schema = schema(ctx, &crd);
    let (set, removed) = changes(
        &json!({}),
        &owned_part(&obj, ctx.rt.has_status, false),
        schema,
    );
    let mut entries = Vec::new();
    let (manager, api_version) = (ctx.manager(), ctx.rt.api_version());
    Update {
        manager: &manager,
        api_version: &api_version,
        subresource: None,
        now: &ctx.now,
    }
    .record(&mut entries, &set, &removed);
    managed_fields::store(&mut obj, &entries);
    apply_defaults(&ctx.rt, &mut obj, &mut state.rng);
    let stored = commit(state, ctx, key, obj, None);
    Ok(field_validation::warn(
        ApiResponse::json(201, served(ctx, &stored)),
        warnings,
    ))
}

pub(super) fn update(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let mut new = body(ctx)?;
    check_body_identity(
        &ctx.rt,
        &new,
        ctx.path.namespace.as_deref(),
        Some(ctx.name()),
    )?;
    let live = state
        .store
        .get(&key(ctx))
        .cloned()
        .ok_or_else(|| not_found(ctx))?;
    new["apiVersion"] = json!(ctx.rt.api_version());
    new["kind"] = json!(ctx.rt.kind);
    let crd = crd_schema(state, ctx);
    let warnings = field_validation::check(ctx, &mut new, schema(ctx, &crd))?;
    let r = write_update(state, ctx, live, new)?;
    Ok(field_validation::warn(r, warnings))
}

pub(super) fn patch(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let media = media_type(ctx);
    if media == "application/apply-patch+yaml" {
        return super::apply::apply(state, ctx);
    }
    let known = [
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
    ];
    if !known.contains(&media.as_str()) || (media == known[2] && !ctx.rt.builtin) {
        return Err(ApiError::unsupported_media_type(&ctx.req.content_type));
    }
    let live = state
        .store
        .get(&key(ctx))
        .cloned()
        .ok_or_else(|| not_found(ctx))?;
    let patch = body(ctx)?;
    let mut new = live.clone();
    match media.as_str() {
        "application/merge-patch+json" => merge_patch(&mut new, &patch),
        "application/json-patch+json" => json_patch(&mut new, &patch)
            .map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?,
        "application/strategic-merge-patch+json" if ctx.rt.builtin => {
            strategic_merge_patch(&mut new, &patch)
        }
        _ => return Err(ApiError::unsupported_media_type(&ctx.req.content_type)),
    }
    check_body_identity(
        &ctx.rt,
        &new,
        ctx.path.namespace.as_deref(),
        Some(ctx.name()),
    )?;
    let crd = crd_schema(state, ctx);
    let warnings = field_validation::check(ctx, &mut new, schema(ctx, &crd))?;
    let r = write_update(state, ctx, live, new)?;
    Ok(field_validation::warn(r, warnings))
}

/// The common tail of PUT and non-apply PATCH: preconditions, server-set
/// fields, ownership by an Update operation, validation, storing.
fn write_update(
    state: &mut State,
    ctx: &Ctx,
    live: Value,
    mut new: Value,
) -> Result<ApiResponse, ApiError> {
    let live_rv = live["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if let Some(rv) = new["metadata"]["resourceVersion"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        if rv != live_rv {
            return Err(ApiError::conflict(
                &ctx.rt.group,
                &ctx.rt.plural,
                ctx.name(),
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
    }
    let status_write = ctx.path.subresource.is_some();
    carry_over(&ctx.rt, &live, &mut new, status_write);
    apply_defaults(&ctx.rt, &mut new, &mut state.rng);
    let crd = crd_schema(state, ctx);
    let schema = schema(ctx, &crd);
    let (set, removed) = changes(
        &owned_part(&live, ctx.rt.has_status, status_write),
        &owned_part(&new, ctx.rt.has_status, status_write),
        schema,
    );
    let mut entries = crate::apply::sent_fields::starting_entries(&live, &new, status_write);
    let manager = ctx.manager();
    let api_version = ctx.rt.api_version();
    Update {
        manager: &manager,
        api_version: &api_version,
        subresource: ctx.path.subresource.as_deref(),
        now: &ctx.now,
    }
    .record(&mut entries, &set, &removed);
    managed_fields::store(&mut new, &entries);
    validate(&ctx.rt, &new, Some(&live))?;
    finish(state, ctx, &live, new)
}

/// Stores an updated object unless nothing changed; completes a pending
/// deletion once its finalizers are gone.
pub(super) fn finish(
    state: &mut State,
    ctx: &Ctx,
    live: &Value,
    new: Value,
) -> Result<ApiResponse, ApiError> {
    if unchanged(live, &new) {
        return Ok(ApiResponse::json(200, served(ctx, live)));
    }
    if crate::deletion::is_terminating(&new) && !crate::deletion::held(&new) {
        if !ctx.req.query.dry_run() {
            state.store.remove(&key(ctx));
        }
        return Ok(ApiResponse::json(200, served(ctx, &new)));
    }
    let stored = commit(state, ctx, key(ctx), new, Some(live));
    Ok(ApiResponse::json(200, served(ctx, &stored)))
}
