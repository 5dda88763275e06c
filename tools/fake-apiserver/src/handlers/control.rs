//! `/_fake/...`: the knobs and counters over HTTP, for scripts driving the
//! binary (benchmarks read request counts here). Not counted, never faulted.
//!
//! - `GET /_fake/requests[?log=true]`, `DELETE /_fake/requests` (reset)
//! - `GET|PUT /_fake/faults` ([`crate::Faults`] as JSON)
//! - `GET|PUT /_fake/controller` ([`crate::ControllerConfig`] as JSON)

use http::Method;
use serde_json::{json, Value};

use super::{ApiRequest, ApiResponse};
use crate::controller::ControllerConfig;
use crate::faults::Faults;
use crate::state::Shared;
use crate::status::ApiError;

pub(super) fn handle(
    shared: &Shared,
    req: &ApiRequest,
    path: &str,
) -> Result<ApiResponse, ApiError> {
    let to_json =
        |v: Result<Value, serde_json::Error>| v.map_err(|e| ApiError::internal(e.to_string()));
    match (path, &req.method) {
        ("requests", &Method::GET) => {
            let mut body = to_json(serde_json::to_value(shared.counter.snapshot()))?;
            if req.query.get("log") == Some("true") {
                body["log"] = to_json(serde_json::to_value(shared.counter.records()))?;
            }
            Ok(ApiResponse::json(200, body))
        }
        ("requests", &Method::DELETE) => {
            shared.counter.reset();
            Ok(ApiResponse::json(200, json!({})))
        }
        ("faults", &Method::GET) => Ok(ApiResponse::json(
            200,
            to_json(serde_json::to_value(shared.faults.get()))?,
        )),
        ("faults", &Method::PUT) => {
            let f: Faults = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("Invalid faults JSON: {e}")))?;
            shared.faults.set(f.clone());
            Ok(ApiResponse::json(200, to_json(serde_json::to_value(f))?))
        }
        ("controller", &Method::GET) => Ok(ApiResponse::json(
            200,
            to_json(serde_json::to_value(shared.controller()))?,
        )),
        ("controller", &Method::PUT) => {
            let c: ControllerConfig = serde_json::from_slice(&req.body)
                .map_err(|e| ApiError::bad_request(format!("Invalid controller JSON: {e}")))?;
            shared.set_controller(c.clone());
            Ok(ApiResponse::json(200, to_json(serde_json::to_value(c))?))
        }
        _ => Err(ApiError::no_route()),
    }
}
