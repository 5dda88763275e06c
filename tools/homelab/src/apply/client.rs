//! The few API calls apply and diff make, as JSON in and out, through one kube-rs
//! client (one connection pool) with a bound on requests in flight.
//!
//! Every request passes through [`ApiClient::send`], the single place where retries
//! and request accounting belong.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::resource::encode_query;

/// The field manager homelab applies as.
pub const FIELD_MANAGER: &str = "homelab";

/// One reason the server gave for refusing a request (a conflicting field, an invalid
/// value).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// A failed request: the server's answer, or why there was none.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RequestError {
    /// The server answered with an error status; `message` is its own words.
    #[error("{message} ({code} {reason})")]
    Api {
        code: u16,
        reason: String,
        message: String,
        causes: Vec<Cause>,
    },
    /// No answer: connection refused or dropped, a timeout, an unreadable body.
    #[error("{0}")]
    Transport(String),
}

impl RequestError {
    pub fn code(&self) -> Option<u16> {
        match self {
            RequestError::Api { code, .. } => Some(*code),
            RequestError::Transport(_) => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    fn from_kube(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(status) => RequestError::Api {
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
                causes: status
                    .details
                    .as_ref()
                    .map(|d| {
                        d.causes
                            .iter()
                            .map(|c| Cause {
                                reason: c.reason.clone(),
                                message: c.message.clone(),
                                field: c.field.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            other => RequestError::Transport(other.to_string()),
        }
    }
}

/// How one server-side apply is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyParams {
    /// `dryRun=All`: the server computes the result and stores nothing.
    pub dry_run: bool,
    /// `force=true`: take over fields other managers own.
    pub force: bool,
}

/// A kube client with JSON helpers, shared by every task of a run.
#[derive(Clone)]
pub struct ApiClient {
    client: kube::Client,
    in_flight: Arc<Semaphore>,
    sent: Arc<AtomicU64>,
}

impl ApiClient {
    /// `concurrency` bounds the requests in flight at once (at least 1).
    pub fn new(client: kube::Client, concurrency: usize) -> Self {
        ApiClient {
            client,
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
            sent: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Requests sent so far by this client.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends one request; the status code and JSON body of a 2xx answer, or the error.
    async fn send(&self, request: http::Request<Vec<u8>>) -> Result<(u16, Value), RequestError> {
        use http_body_util::BodyExt as _;
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|e| RequestError::Transport(e.to_string()))?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .map_err(RequestError::from_kube)?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| RequestError::Transport(format!("reading the answer failed: {e}")))?
            .to_bytes();
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                RequestError::Transport(format!(
                    "the server answered {status} with a body that is not JSON: {e}"
                ))
            })?
        };
        if (200..300).contains(&status) {
            return Ok((status, value));
        }
        match serde_json::from_value::<kube::core::Status>(value.clone()) {
            Ok(s) if !s.message.is_empty() || s.code != 0 => {
                let mut s = s;
                if s.code == 0 {
                    s.code = status;
                }
                Err(RequestError::from_kube(kube::Error::Api(Box::new(s))))
            }
            _ => Err(RequestError::Api {
                code: status,
                reason: String::new(),
                message: format!("the server answered {status}: {value}"),
                causes: Vec::new(),
            }),
        }
    }

    fn build(
        method: http::Method,
        uri: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<http::Request<Vec<u8>>, RequestError> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::ACCEPT, "application/json");
        if let Some(ct) = content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct);
        }
        builder
            .body(body)
            .map_err(|e| RequestError::Transport(format!("invalid request for {uri}: {e}")))
    }

    /// GETs `path`; `None` when the server says 404.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, RequestError> {
        let request = Self::build(http::Method::GET, path, None, Vec::new())?;
        match self.send(request).await {
            Ok((_, v)) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// LISTs a collection, optionally by label and field selector.
    pub async fn list(
        &self,
        collection: &str,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Vec<Value>, RequestError> {
        let mut query = Vec::new();
        if let Some(l) = label_selector {
            query.push(format!("labelSelector={}", encode_query(l)));
        }
        if let Some(f) = field_selector {
            query.push(format!("fieldSelector={}", encode_query(f)));
        }
        let uri = if query.is_empty() {
            collection.to_string()
        } else {
            format!("{collection}?{}", query.join("&"))
        };
        let request = Self::build(http::Method::GET, &uri, None, Vec::new())?;
        let (_, list) = self.send(request).await?;
        Ok(match list.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        })
    }

    /// Server-side applies `body` at `path` as field manager [`FIELD_MANAGER`] and
    /// returns whether it created the object (201) and the object the server holds (or
    /// would hold, on a dry run) afterwards.
    pub async fn apply(
        &self,
        path: &str,
        body: &Value,
        params: ApplyParams,
    ) -> Result<(bool, Value), RequestError> {
        let mut uri = format!("{path}?fieldManager={FIELD_MANAGER}");
        if params.force {
            uri.push_str("&force=true");
        }
        if params.dry_run {
            uri.push_str("&dryRun=All");
        }
        let bytes = serde_json::to_vec(body).map_err(|e| RequestError::Transport(e.to_string()))?;
        let request = Self::build(
            http::Method::PATCH,
            &uri,
            Some("application/apply-patch+yaml"),
            bytes,
        )?;
        let (status, object) = self.send(request).await?;
        Ok((status == 201, object))
    }

    /// The resource list of one group version (`v1`, `apps/v1`).
    pub async fn resources_of(&self, api_version: &str) -> Result<Option<Value>, RequestError> {
        let path = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        self.get(&path).await
    }
}
