//! DELETE and DELETE-collection: preconditions, finalizers (deletion waits
//! for them), cascading to dependents by `ownerReferences` (unless
//! `propagationPolicy=Orphan`), to a namespace's contents and to a CRD's
//! custom objects.

use serde_json::{json, Value};

use super::read::{key, not_found, selected, served};
use super::{ApiResponse, Ctx};
use crate::state::State;
use crate::status::{delete_success, ApiError};
use crate::store::ObjKey;

struct Options {
    dry_run: bool,
    orphan: bool,
    uid: Option<String>,
    resource_version: Option<String>,
}

fn options(ctx: &Ctx) -> Result<Options, ApiError> {
    let body: Value = if ctx.req.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&ctx.req.body).map_err(|e| {
            ApiError::bad_request(format!("the DeleteOptions body could not be decoded: {e}"))
        })?
    };
    let policy = ctx
        .req
        .query
        .get("propagationPolicy")
        .map(str::to_owned)
        .or_else(|| body["propagationPolicy"].as_str().map(str::to_owned));
    let orphan = policy.as_deref() == Some("Orphan") || body["orphanDependents"] == true;
    let dry_run = ctx.req.query.dry_run()
        || body["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "All"));
    Ok(Options {
        dry_run,
        orphan,
        uid: body["preconditions"]["uid"].as_str().map(str::to_owned),
        resource_version: body["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_owned),
    })
}

pub(super) fn delete(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    if ctx.path.subresource.is_some() {
        return Err(ApiError::method_not_allowed(
            "DELETE is not supported on subresources",
        ));
    }
    let opts = options(ctx)?;
    let live = state
        .store
        .get(&key(ctx))
        .cloned()
        .ok_or_else(|| not_found(ctx))?;
    let meta = &live["metadata"];
    for (want, field, what) in [
        (&opts.uid, "uid", "UID"),
        (&opts.resource_version, "resourceVersion", "ResourceVersion"),
    ] {
        if let Some(want) = want {
            let have = meta[field].as_str().unwrap_or_default();
            if want != have {
                return Err(ApiError::conflict(
                    &ctx.rt.group,
                    &ctx.rt.plural,
                    ctx.name(),
                    &format!("Precondition failed: {what} in precondition: {want}, {what} in object meta: {have}"),
                ));
            }
        }
    }
    match remove(state, ctx, key(ctx), &live, &opts) {
        Some(pending) => Ok(ApiResponse::json(200, served(ctx, &pending))),
        None => Ok(ApiResponse::json(
            200,
            delete_success(
                &ctx.rt.group,
                &ctx.rt.plural,
                ctx.name(),
                meta["uid"].as_str().unwrap_or_default(),
            ),
        )),
    }
}

pub(super) fn delete_collection(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let opts = options(ctx)?;
    let mut items = Vec::new();
    for (k, obj) in selected(state, ctx)? {
        let shown = remove(state, ctx, k, &obj, &opts).unwrap_or(obj);
        items.push(served(ctx, &shown));
    }
    Ok(ApiResponse::json(
        200,
        json!({"kind": format!("{}List", ctx.rt.kind), "apiVersion": ctx.rt.api_version(),
            "metadata": {"resourceVersion": state.store.resource_version().to_string()}, "items": items}),
    ))
}

/// Deletes one object, or marks it for deletion while finalizers remain
/// (returning the marked object).
fn remove(
    state: &mut State,
    ctx: &Ctx,
    key: ObjKey,
    live: &Value,
    opts: &Options,
) -> Option<Value> {
    let has_finalizers = live["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if has_finalizers {
        let mut marked = live.clone();
        if marked["metadata"]["deletionTimestamp"].is_null() {
            marked["metadata"]["deletionTimestamp"] = json!(ctx.now);
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            crate::objects::normalize(&mut marked);
            if !opts.dry_run {
                marked = state.store.put(key, marked);
            }
        }
        return Some(marked);
    }
    if opts.dry_run {
        return None;
    }
    state.store.remove(&key);
    cascade(state, &key, live, opts.orphan);
    None
}

fn cascade(state: &mut State, key: &ObjKey, obj: &Value, orphan: bool) {
    let mut doomed: Vec<ObjKey> = Vec::new();
    if key.group.is_empty() && key.plural == "namespaces" {
        doomed.extend(
            state
                .store
                .all()
                .filter(|(k, _)| k.namespace == key.name)
                .map(|(k, _)| k.clone()),
        );
    }
    if key.group == "apiextensions.k8s.io" && key.plural == "customresourcedefinitions" {
        let (g, p) = (
            obj["spec"]["group"].as_str(),
            obj["spec"]["names"]["plural"].as_str(),
        );
        if let (Some(g), Some(p)) = (g, p) {
            doomed.extend(state.store.list(g, p, None).map(|(k, _)| k.clone()));
        }
    }
    let uid = obj["metadata"]["uid"].as_str().unwrap_or_default();
    let dependents: Vec<ObjKey> = state
        .store
        .all()
        .filter(|(_, o)| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .map(|(k, _)| k.clone())
        .collect();
    if orphan {
        for k in dependents {
            if let Some(mut o) = state.store.get(&k).cloned() {
                if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|r| r["uid"] != uid);
                    if refs.is_empty() {
                        if let Some(meta) = o["metadata"].as_object_mut() {
                            meta.remove("ownerReferences");
                        }
                    }
                }
                state.store.put(k, o);
            }
        }
    } else {
        doomed.extend(dependents);
    }
    for k in doomed {
        if let Some(o) = state.store.remove(&k) {
            cascade(state, &k, &o, orphan);
        }
    }
}
