//! Request handling independent of HTTP plumbing: a parsed request in, a
//! status code, content type and JSON body out. Discovery is answered here;
//! resource verbs live in [`read`], [`write`] and [`delete`].

mod apply;
mod control;
mod delete;
mod eviction;
mod field_validation;
mod log;
mod read;
mod scale;
mod table;
mod write;

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use crate::discovery;
use crate::resources::ResourceType;
use crate::routes::{ResourcePath, Route};
use crate::state::{Shared, State};
use crate::status::ApiError;

/// A request, parsed.
#[derive(Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub route: Route,
    pub query: Params,
    pub content_type: String,
    pub accept: String,
    pub user_agent: String,
    pub body: Bytes,
}

/// A response: status, content type, JSON body and extra headers.
#[derive(Debug)]
pub struct ApiResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl ApiResponse {
    pub fn json(status: u16, body: Value) -> Self {
        ApiResponse {
            status,
            content_type: "application/json".into(),
            body,
            headers: Vec::new(),
        }
    }

    pub fn error(e: &ApiError) -> Self {
        let mut r = ApiResponse::json(e.code, e.to_status());
        if let Some(secs) = e.details.retry_after {
            r.headers.push(("Retry-After".into(), secs.to_string()));
        }
        r
    }
}

/// Query parameters (the last value of a repeated key wins).
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    pub fn parse(query: &str) -> Self {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1"))
    }

    pub fn watch(&self) -> bool {
        self.flag("watch")
    }

    pub fn dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }

    pub fn force(&self) -> bool {
        self.flag("force")
    }
}

pub fn handle(shared: &Shared, req: &ApiRequest) -> ApiResponse {
    match dispatch(shared, req) {
        Ok(r) => r,
        Err(e) => ApiResponse::error(&e),
    }
}

fn dispatch(shared: &Shared, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    if let Route::Control(path) = &req.route {
        return control::handle(shared, req, path);
    }
    if let Route::Resource(path) = &req.route {
        return resource(shared, req, path);
    }
    if req.method != Method::GET {
        return Err(ApiError::method_not_allowed(format!(
            "{} is not supported on discovery paths",
            req.method
        )));
    }
    let reg = shared.lock().registry();
    let ok = |body: Value| Ok(ApiResponse::json(200, body));
    let aggregated = discovery::aggregated_media_type(&req.accept);
    match &req.route {
        Route::Version => ok(discovery::version()),
        Route::Health => Ok(ApiResponse {
            status: 200,
            content_type: "text/plain".into(),
            body: Value::String("ok".into()),
            headers: Vec::new(),
        }),
        Route::LegacyRoot | Route::GroupList if aggregated.is_some() => {
            let media = aggregated.unwrap_or_default();
            let body = discovery::aggregated(&reg, req.route == Route::LegacyRoot, &media);
            Ok(ApiResponse {
                status: 200,
                content_type: media,
                body,
                headers: Vec::new(),
            })
        }
        Route::LegacyRoot => {
            let addr = shared.address.get().cloned().unwrap_or_default();
            ok(discovery::legacy_root(&addr))
        }
        Route::GroupList => ok(discovery::group_list(&reg)),
        Route::Group(g) => discovery::group(&reg, g).map_or_else(|| Err(ApiError::no_route()), ok),
        Route::GroupVersion(g, v) => {
            discovery::resource_list(&reg, g, v).map_or_else(|| Err(ApiError::no_route()), ok)
        }
        // kubectl reads it only to validate a `kind: List` client-side (the
        // fieldValidation parameter does not apply to List); an empty
        // document (protobuf of no fields) has no schemas, so kubectl skips
        // that validation instead of failing on a 404.
        Route::OpenApiV2 => Ok(ApiResponse {
            status: 200,
            content_type: crate::server::OPENAPI_V2_PROTOBUF.into(),
            body: Value::String(String::new()),
            headers: Vec::new(),
        }),
        Route::OpenApiV3Root => ok(discovery::openapi_v3_root(&reg)),
        Route::OpenApiV3(p) => discovery::openapi_v3_group_version(&reg, p)
            .map_or_else(|| Err(ApiError::no_route()), ok),
        _ => Err(ApiError::no_route()),
    }
}

/// What every resource verb needs: the type, the path and the locked state.
pub(crate) struct Ctx<'a> {
    pub rt: ResourceType,
    pub path: &'a ResourcePath,
    pub req: &'a ApiRequest,
    pub now: String,
}

impl Ctx<'_> {
    /// The namespace of the request ("" for cluster-scoped types).
    pub fn namespace(&self) -> &str {
        self.path.namespace.as_deref().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.path.name.as_deref().unwrap_or("")
    }

    /// The field manager: `fieldManager`, else the user agent's program
    /// name, as a real server defaults it.
    pub fn manager(&self) -> String {
        if let Some(m) = self.req.query.get("fieldManager") {
            return m.to_owned();
        }
        let ua = self.req.user_agent.split('/').next().unwrap_or_default();
        if ua.is_empty() {
            "unknown".into()
        } else {
            ua.to_owned()
        }
    }
}

fn resource(
    shared: &Shared,
    req: &ApiRequest,
    path: &ResourcePath,
) -> Result<ApiResponse, ApiError> {
    let mut guard = shared.lock();
    let state: &mut State = &mut guard;
    let before = state.store.resource_version();
    let reg = state.registry();
    let rt = reg
        .find(&path.group, &path.version, &path.plural)
        .cloned()
        .ok_or_else(ApiError::no_route)?;
    if path.namespace.is_some() && !rt.namespaced {
        return Err(ApiError::no_route());
    }
    if rt.namespaced
        && path.namespace.is_none()
        && (path.name.is_some() || req.method == Method::POST)
    {
        return Err(ApiError::no_route());
    }
    if path.subresource.as_deref() == Some("log") && path.group.is_empty() && path.plural == "pods"
    {
        return log::get(state, &shared.controller(), &req.method, path);
    }
    match path.subresource.as_deref() {
        None => {}
        Some("status") if rt.has_status && path.name.is_some() => {}
        Some("scale") if rt.has_scale() && path.name.is_some() => {}
        Some("eviction") if rt.group.is_empty() && rt.plural == "pods" && path.name.is_some() => {}
        Some(_) => return Err(ApiError::no_route()),
    }
    let ctx = Ctx {
        rt,
        path,
        req,
        now: crate::clock::now_rfc3339(),
    };
    let named = path.name.is_some();
    let scale = path.subresource.as_deref() == Some("scale");
    let evicting = path.subresource.as_deref() == Some("eviction");
    let response = match req.method {
        Method::GET if scale => scale::get(state, &ctx),
        Method::PUT | Method::PATCH if scale => scale::write(state, &ctx),
        _ if scale => Err(ApiError::method_not_allowed(format!(
            "{} is not supported on {}/scale",
            req.method,
            ctx.rt.qualified_plural()
        ))),
        Method::POST if evicting => eviction::evict(state, &ctx),
        _ if evicting => Err(ApiError::method_not_allowed(
            "only POST creates an eviction",
        )),
        Method::GET if req.query.watch() => Err(ApiError::method_not_allowed(
            "watch is served over HTTP only (not through ServerHandle::call)",
        )),
        Method::GET if named => read::get(state, &ctx),
        Method::GET => read::list(state, &ctx),
        Method::POST if !named => write::create(state, &ctx),
        Method::PUT if named => write::update(state, &ctx),
        Method::PATCH if named => write::patch(state, &ctx),
        Method::DELETE if named => delete::delete(state, &ctx),
        Method::DELETE => delete::delete_collection(state, &ctx),
        _ => Err(ApiError::method_not_allowed(format!(
            "{} is not supported on {}",
            req.method,
            ctx.rt.qualified_plural()
        ))),
    }?;
    let wrote = state.store.resource_version() != before;
    drop(guard);
    if wrote {
        shared.notify_write();
    }
    Ok(response)
}
