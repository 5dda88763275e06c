//! The few API calls apply and diff make, as JSON in and out, through one kube-rs
//! client (one connection pool) with a bound on requests in flight.
//!
//! Every request passes through one `send`, which counts it and retries transient
//! failures (see [`super::retry`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::resource::encode_query;
use super::retry::{is_transient, RetryPolicy};

/// The field manager homelab applies as.
pub(crate) const FIELD_MANAGER: &str = "homelab";

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

/// What kubectl 1.30+ asks for: aggregated discovery, else the legacy documents.
const AGGREGATED_DISCOVERY: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// What a log is read as (the server answers errors as JSON all the same).
const PLAIN_TEXT: &str = "text/plain";

/// How one server-side apply is made.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyParams {
    /// `dryRun=All`: the server computes the result and stores nothing.
    pub dry_run: bool,
    /// `force=true`: take over fields other managers own.
    pub force: bool,
}

/// One request, kept so it can be sent again.
struct Call<'a> {
    method: http::Method,
    uri: &'a str,
    accept: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

/// A kube client with JSON helpers, shared by every task of a run.
#[derive(Clone)]
pub struct ApiClient {
    client: kube::Client,
    in_flight: Arc<Semaphore>,
    sent: Arc<AtomicU64>,
    retry: RetryPolicy,
    timeout: Duration,
}

/// How long one request may take before it counts as a (transient) timeout.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl ApiClient {
    /// `concurrency` bounds the requests in flight at once (at least 1).
    pub fn new(client: kube::Client, concurrency: usize) -> Self {
        ApiClient {
            client,
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
            sent: Arc::new(AtomicU64::new(0)),
            retry: RetryPolicy::default(),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// The same client with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Requests sent so far by this client (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends `call`, retrying transient failures; the status code and JSON body of a
    /// 2xx answer, or the last error.
    async fn send(&self, call: Call<'_>) -> Result<(u16, Value), RequestError> {
        let mut retry = 0;
        loop {
            let attempt = tokio::time::timeout(self.timeout, self.send_once(&call));
            let result = attempt.await.unwrap_or_else(|_| {
                Err((
                    RequestError::Transport(format!(
                        "no answer within {:?} for {} {}",
                        self.timeout, call.method, call.uri
                    )),
                    None,
                ))
            });
            match result {
                Ok(answer) => return Ok(answer),
                Err((error, retry_after)) => {
                    if retry + 1 >= self.retry.attempts || !is_transient(&error) {
                        return Err(error);
                    }
                    tokio::time::sleep(self.retry.backoff(retry, retry_after)).await;
                    retry += 1;
                }
            }
        }
    }

    async fn send_once(
        &self,
        call: &Call<'_>,
    ) -> Result<(u16, Value), (RequestError, Option<Duration>)> {
        use http_body_util::BodyExt as _;
        let transport = |e: String| (RequestError::Transport(e), None);
        let mut builder = http::Request::builder()
            .method(call.method.clone())
            .uri(call.uri)
            .header(http::header::ACCEPT, call.accept);
        if let Some(ct) = call.content_type {
            builder = builder.header(http::header::CONTENT_TYPE, ct);
        }
        let request = builder
            .body(kube::client::Body::from(call.body.clone()))
            .map_err(|e| transport(format!("invalid request for {}: {e}", call.uri)))?;
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|e| transport(e.to_string()))?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let response = self
            .client
            .send(request)
            .await
            .map_err(|e| (RequestError::from_kube(e), None))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(format!("reading the answer failed: {e}")))?
            .to_bytes();
        if call.accept == PLAIN_TEXT && (200..300).contains(&status) {
            return Ok((
                status,
                Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            ));
        }
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                transport(format!(
                    "the server answered {status} with a body that is not JSON: {e}"
                ))
            })?
        };
        if (200..300).contains(&status) {
            return Ok((status, value));
        }
        let error = match serde_json::from_value::<kube::core::Status>(value.clone()) {
            Ok(mut s) if !s.message.is_empty() || s.code != 0 => {
                if s.code == 0 {
                    s.code = status;
                }
                RequestError::from_kube(kube::Error::Api(Box::new(s)))
            }
            _ => RequestError::Api {
                code: status,
                reason: String::new(),
                message: format!("the server answered {status}: {value}"),
                causes: Vec::new(),
            },
        };
        Err((error, retry_after))
    }

    fn call<'a>(method: http::Method, uri: &'a str) -> Call<'a> {
        Call {
            method,
            uri,
            accept: "application/json",
            content_type: None,
            body: Vec::new(),
        }
    }

    fn json_call<'a>(
        method: http::Method,
        uri: &'a str,
        content_type: &'static str,
        body: &Value,
    ) -> Result<Call<'a>, RequestError> {
        Ok(Call {
            method,
            uri,
            accept: "application/json",
            content_type: Some(content_type),
            body: serde_json::to_vec(body).map_err(|e| RequestError::Transport(e.to_string()))?,
        })
    }

    /// POSTs a new object into `collection`.
    pub async fn create(&self, collection: &str, body: &Value) -> Result<Value, RequestError> {
        let call = Self::json_call(http::Method::POST, collection, "application/json", body)?;
        Ok(self.send(call).await?.1)
    }

    /// PUTs `body` at `path` (optimistic concurrency through its resourceVersion).
    pub async fn replace(&self, path: &str, body: &Value) -> Result<Value, RequestError> {
        let call = Self::json_call(http::Method::PUT, path, "application/json", body)?;
        Ok(self.send(call).await?.1)
    }

    /// DELETEs `path` with background propagation; `false` when it was already gone.
    pub async fn delete(&self, path: &str, dry_run: bool) -> Result<bool, RequestError> {
        self.delete_propagating(path, dry_run, "Background").await
    }

    /// DELETEs `path` with `propagation` (`Background`, `Foreground`: the object stays,
    /// terminating, until its dependents are gone); `false` when it was already gone.
    pub async fn delete_propagating(
        &self,
        path: &str,
        dry_run: bool,
        propagation: &str,
    ) -> Result<bool, RequestError> {
        let uri = if dry_run {
            format!("{path}?propagationPolicy={propagation}&dryRun=All")
        } else {
            format!("{path}?propagationPolicy={propagation}")
        };
        match self.send(Self::call(http::Method::DELETE, &uri)).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// GETs `path`; `None` when the server says 404.
    pub async fn get(&self, path: &str) -> Result<Option<Value>, RequestError> {
        match self.send(Self::call(http::Method::GET, path)).await {
            Ok((_, v)) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The last `tail_lines` lines of a Pod's log (`pods/NAME/log`), as text.
    pub async fn pod_log(&self, pod_path: &str, tail_lines: u32) -> Result<String, RequestError> {
        let uri = format!("{pod_path}/log?tailLines={tail_lines}");
        let mut call = Self::call(http::Method::GET, &uri);
        call.accept = PLAIN_TEXT;
        let (_, body) = self.send(call).await?;
        Ok(body.as_str().unwrap_or_default().to_string())
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
        let (_, list) = self.send(Self::call(http::Method::GET, &uri)).await?;
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
        let call = Self::json_call(
            http::Method::PATCH,
            &uri,
            "application/apply-patch+yaml",
            body,
        )?;
        let (status, object) = self.send(call).await?;
        Ok((status == 201, object))
    }

    /// The aggregated discovery document at `/api` or `/apis` (one request for every
    /// group), or `None` when the server does not offer it.
    pub async fn aggregated_discovery(&self, path: &str) -> Result<Option<Value>, RequestError> {
        let mut call = Self::call(http::Method::GET, path);
        call.accept = AGGREGATED_DISCOVERY;
        let (_, doc) = self.send(call).await?;
        Ok(
            (doc.get("kind").and_then(Value::as_str) == Some("APIGroupDiscoveryList"))
                .then_some(doc),
        )
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
