//! DELETE and DELETE-collection: preconditions and the propagation policy;
//! [`crate::deletion`] decides whether the object goes at once or is held
//! by finalizers. Dependents and namespace contents are deleted
//! asynchronously by the simulated controllers, as on a real cluster; only
//! a CRD's custom objects go with it at once.

use serde_json::{json, Value};

use super::read::{key, not_found, selected, served};
use super::{ApiResponse, Ctx};
use crate::deletion::{self, Outcome, Policy};
use crate::state::State;
use crate::status::{delete_success, ApiError, Cause};
use crate::store::ObjKey;

struct Options {
    dry_run: bool,
    policy: Option<Policy>,
    /// `orphanDependents: false` was sent (the one case upstream answers 202).
    legacy_cascade: bool,
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
    let named = ctx
        .req
        .query
        .get("propagationPolicy")
        .map(str::to_owned)
        .or_else(|| body["propagationPolicy"].as_str().map(str::to_owned));
    let orphan_dependents = body["orphanDependents"]
        .as_bool()
        .or_else(|| ctx.req.query.get("orphanDependents").map(|v| v == "true"));
    let policy = match (named, orphan_dependents) {
        (Some(_), Some(_)) => return Err(invalid_options(
            "propagationPolicy",
            "Invalid value: \"null\": orphanDependents and deletionPropagation cannot be both set",
        )),
        (Some(p), None) => {
            Some(Policy::parse(&p).map_err(|m| invalid_options("propagationPolicy", &m))?)
        }
        (None, Some(true)) => Some(Policy::Orphan),
        (None, Some(false)) => Some(Policy::Background),
        (None, None) => None,
    };
    let dry_run = ctx.req.query.dry_run()
        || body["dryRun"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "All"));
    Ok(Options {
        dry_run,
        policy,
        legacy_cascade: orphan_dependents == Some(false),
        uid: body["preconditions"]["uid"].as_str().map(str::to_owned),
        resource_version: body["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_owned),
    })
}

fn invalid_options(field: &str, message: &str) -> ApiError {
    ApiError::invalid(
        "meta.k8s.io",
        "DeleteOptions.meta.k8s.io",
        "",
        vec![Cause {
            reason: "FieldValueInvalid".into(),
            message: message.to_owned(),
            field: field.to_owned(),
        }],
    )
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
        Outcome::Pending(marked) => {
            let code = if opts.legacy_cascade { 202 } else { 200 };
            Ok(ApiResponse::json(code, served(ctx, &marked)))
        }
        Outcome::Deleted(_) => Ok(ApiResponse::json(
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
        let shown = match remove(state, ctx, k, &obj, &opts) {
            Outcome::Pending(o) | Outcome::Deleted(o) => o,
        };
        items.push(served(ctx, &shown));
    }
    Ok(ApiResponse::json(
        200,
        json!({"kind": format!("{}List", ctx.rt.kind), "apiVersion": ctx.rt.api_version(),
            "metadata": {"resourceVersion": state.store.resource_version().to_string()}, "items": items}),
    ))
}

/// Deletes or marks one object; a deleted CRD takes its custom objects.
fn remove(state: &mut State, ctx: &Ctx, key: ObjKey, live: &Value, opts: &Options) -> Outcome {
    let outcome = deletion::delete(state, &key, live, opts.policy, &ctx.now, opts.dry_run);
    if matches!(outcome, Outcome::Deleted(_))
        && !opts.dry_run
        && key.group == "apiextensions.k8s.io"
        && key.plural == "customresourcedefinitions"
    {
        let (g, p) = (
            live["spec"]["group"].as_str().unwrap_or_default(),
            live["spec"]["names"]["plural"].as_str().unwrap_or_default(),
        );
        let custom: Vec<ObjKey> = state
            .store
            .list(g, p, None)
            .map(|(k, _)| k.clone())
            .collect();
        for k in custom {
            state.store.remove(&k);
        }
    }
    outcome
}
