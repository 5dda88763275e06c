//! The HTTP/1.1 front: accepts loopback connections, counts each request,
//! injects the configured faults (a dropped connection is a service error,
//! on which hyper closes the socket without a response), then hands the
//! parsed request to [`crate::handlers`].

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::counter::RequestRecord;
use crate::faults::FaultAction;
use crate::handlers::{self, ApiRequest, ApiResponse, Params};
use crate::routes::{self, Route};
use crate::state::Shared;
use crate::verb::Verb;

type Body = BoxBody<Bytes, Infallible>;

/// A streaming body fed by a channel (watch events).
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// Returned by the service to make hyper drop the connection.
#[derive(Debug, thiserror::Error)]
#[error("Connection dropped by fault injection")]
pub struct Dropped;

pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| serve_request(shared.clone(), req));
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn serve_request(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = req.into_parts();
    let header = |name: http::header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let route = routes::parse(parts.uri.path());
    let query = Params::parse(parts.uri.query().unwrap_or_default());
    let control = matches!(route, Route::Control(_));
    let verb = Verb::classify(&parts.method, &route, query.watch());
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let record = |status: u16| RequestRecord {
        verb: verb.as_str().to_owned(),
        method: parts.method.to_string(),
        uri: uri.clone(),
        status,
    };
    let (latency, action) = if control {
        (std::time::Duration::ZERO, FaultAction::Proceed)
    } else {
        shared.counter.count(verb);
        shared.faults.decide(verb)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let api = ApiRequest {
        route,
        query,
        content_type: header(http::header::CONTENT_TYPE),
        accept: header(http::header::ACCEPT),
        user_agent: header(http::header::USER_AGENT),
        method: parts.method.clone(),
        body,
    };
    let drop_after = action == FaultAction::DropAfter;
    if verb == Verb::Watch && action == FaultAction::Proceed {
        if let Route::Resource(path) = &api.route {
            match crate::watch::start(shared.clone(), path, &api.query) {
                Ok(rx) => {
                    shared.counter.log(record(200));
                    let mut resp = Response::new(ChannelBody(rx).boxed());
                    resp.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    return Ok(resp);
                }
                Err(e) => {
                    shared.counter.log(record(e.code));
                    return Ok(to_http(ApiResponse::error(&e)));
                }
            }
        }
    }
    let response = match action {
        FaultAction::Proceed | FaultAction::DropAfter => handlers::handle(&shared, &api),
        FaultAction::Fail(e) => ApiResponse::error(&e),
        FaultAction::Drop => {
            shared.counter.log(record(0));
            return Err(Dropped);
        }
        FaultAction::Hang(d) => {
            shared.counter.log(record(0));
            tokio::time::sleep(d).await;
            return Err(Dropped);
        }
    };
    if drop_after {
        shared.counter.log(record(0));
        return Err(Dropped);
    }
    if !control {
        shared.counter.log(record(response.status));
    }
    Ok(to_http(response))
}

/// The media type of `/openapi/v2`, the only non-JSON, non-text body served.
pub(crate) const OPENAPI_V2_PROTOBUF: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

fn to_http(r: ApiResponse) -> Response<Body> {
    let raw =
        r.content_type.starts_with("text/") || r.content_type.starts_with(OPENAPI_V2_PROTOBUF);
    let bytes = match (&r.body, raw) {
        (serde_json::Value::String(s), true) => s.clone().into_bytes(),
        _ => serde_json::to_vec(&r.body).unwrap_or_default(),
    };
    let mut builder = Response::builder()
        .status(r.status)
        .header(http::header::CONTENT_TYPE, r.content_type.as_str())
        .header("Cache-Control", "no-cache, private");
    for (k, v) in &r.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(bytes)).boxed())
        .unwrap_or_else(|_| {
            let mut fallback = Response::new(Full::new(Bytes::new()).boxed());
            *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
