//! PATCH with `application/apply-patch+yaml`: server-side apply through
//! [`crate::apply`], creating the object when it does not exist, answering
//! 409 with one cause per conflicting field unless `force=true`. On
//! `/status` only the status is applied (the object must exist).

use serde_json::json;

use super::read::{key, served};
use super::write::{body, commit, crd_schema, finish, require_namespace, schema};
use super::{ApiResponse, Ctx};
use crate::apply::{conflict_message, last_applied, Apply, Conflict};
use crate::objects::{
    apply_defaults, carry_over, check_body_identity, normalize, stamp_new, validate,
};
use crate::state::State;
use crate::status::{ApiError, Cause};

pub(super) fn apply(state: &mut State, ctx: &Ctx) -> Result<ApiResponse, ApiError> {
    let Some(manager) = ctx.req.query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "PatchOptions.meta.k8s.io",
            "",
            vec![Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: is required for apply patch".into(),
                field: "fieldManager".into(),
            }],
        ));
    };
    let applied = body(ctx)?;
    check_body_identity(
        &ctx.rt,
        &applied,
        ctx.path.namespace.as_deref(),
        Some(ctx.name()),
    )?;
    for field in ["apiVersion", "kind"] {
        if !applied[field].is_string() {
            return Err(ApiError::bad_request(format!(
                "{field} must be set in an apply configuration"
            )));
        }
    }
    if !applied["metadata"]["managedFields"].is_null() {
        return Err(ApiError::bad_request("metadata.managedFields must be nil"));
    }
    let live = state.store.get(&key(ctx)).cloned();
    if let Some(rv) = applied["metadata"]["resourceVersion"].as_str() {
        if live
            .as_ref()
            .and_then(|l| l["metadata"]["resourceVersion"].as_str())
            != Some(rv)
        {
            return Err(ApiError::conflict(
                &ctx.rt.group,
                &ctx.rt.plural,
                ctx.name(),
                "the object has been modified; please apply your changes to the latest version and try again",
            ));
        }
    }
    let crd = crd_schema(state, ctx);
    super::field_validation::check_apply(ctx, &applied, schema(ctx, &crd))?;
    let engine = Apply {
        manager,
        force: ctx.req.query.force(),
        has_status: ctx.rt.has_status,
        subresource: ctx.path.subresource.as_deref(),
        schema: schema(ctx, &crd),
        now: &ctx.now,
    };
    let status_write = ctx.path.subresource.is_some();
    match live {
        None if status_write => Err(super::read::not_found(ctx)),
        None => {
            // patch.go: an object that names a uid must exist.
            if let Some(uid) = applied["metadata"]["uid"]
                .as_str()
                .filter(|u| !u.is_empty())
            {
                return Err(ApiError::conflict(
                    &ctx.rt.group,
                    &ctx.rt.plural,
                    ctx.name(),
                    &format!("uid mismatch: the provided object specified uid {uid}, and no existing object was found"),
                ));
            }
            require_namespace(state, ctx, ctx.name())?;
            let mut skeleton = json!({"apiVersion": ctx.rt.api_version(), "kind": ctx.rt.kind,
                "metadata": {"name": ctx.name()}});
            if ctx.rt.namespaced {
                skeleton["metadata"]["namespace"] = json!(ctx.namespace());
            }
            let mut obj = engine
                .run(&skeleton, &applied)
                .map_err(|c| conflict_error(ctx, &c))?;
            if manager == last_applied::MANAGER {
                last_applied::update_annotation(&mut obj, &applied);
            }
            stamp_new(&ctx.rt, &mut obj, &mut state.rng, &ctx.now);
            apply_defaults(&ctx.rt, &mut obj, &mut state.rng);
            validate(&ctx.rt, &obj, None)?;
            let stored = commit(state, ctx, key(ctx), obj, None);
            Ok(ApiResponse::json(201, served(ctx, &stored)))
        }
        Some(live) => {
            let upgrade = manager == last_applied::MANAGER && !status_write;
            let mut new = match engine.run(&live, &applied) {
                Ok(new) => new,
                Err(c)
                    if upgrade
                        && last_applied::conflicts_allowed(
                            &live,
                            &c,
                            ctx.rt.has_status,
                            engine.schema,
                        ) =>
                {
                    let forced = Apply {
                        force: true,
                        ..engine
                    };
                    forced
                        .run(&live, &applied)
                        .map_err(|c| conflict_error(ctx, &c))?
                }
                Err(c) => return Err(conflict_error(ctx, &c)),
            };
            if upgrade {
                last_applied::update_annotation(&mut new, &applied);
            }
            if !status_write {
                carry_over(&ctx.rt, &live, &mut new, false);
            }
            apply_defaults(&ctx.rt, &mut new, &mut state.rng);
            validate(&ctx.rt, &new, Some(&live))?;
            normalize(&mut new);
            finish(state, ctx, &live, new)
        }
    }
}

fn conflict_error(ctx: &Ctx, conflicts: &[Conflict]) -> ApiError {
    let mut e = ApiError::new(409, "Conflict", conflict_message(conflicts));
    e.details.kind = Some(ctx.rt.plural.clone());
    e.details.group = Some(ctx.rt.group.clone());
    e.details.name = Some(ctx.name().to_owned());
    e.details.causes = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with {}", c.manager),
            field: c.path_string(),
        })
        .collect();
    e
}
