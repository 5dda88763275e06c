//! Test support: a server per test and a minimal HTTP/1.1 client (one
//! request per connection) that reports a dropped connection as an error.

use std::net::SocketAddr;

use fake_apiserver::{Config, FakeApiServer, ServerHandle};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub async fn server() -> ServerHandle {
    FakeApiServer::start(Config::default())
        .await
        .expect("server starts")
}

/// A server whose readiness controllers never write and whose namespaces
/// get no default objects (deletions are still finished by the
/// garbage-collector and namespace controllers).
pub async fn quiet_server() -> ServerHandle {
    let mut config = Config::default();
    config.controller.enabled = false;
    config.controller.namespace_defaults = false;
    FakeApiServer::start(config).await.expect("server starts")
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub raw: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request; `Err` when the server closed the connection without
/// answering.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(addr).await?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: it-test/1.0\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let Some((head, payload)) = text.split_once("\r\n\r\n") else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("no response: {text:?}"),
        ));
    };
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = serde_json::from_str(payload).unwrap_or(Value::Null);
    Ok(Resp {
        status,
        headers,
        body,
        raw: payload.to_owned(),
    })
}

pub async fn get(s: &ServerHandle, path: &str) -> Resp {
    send(s.addr(), "GET", path, "application/json", "")
        .await
        .expect("response")
}

pub async fn post(s: &ServerHandle, path: &str, body: &Value) -> Resp {
    send(
        s.addr(),
        "POST",
        path,
        "application/json",
        &body.to_string(),
    )
    .await
    .expect("response")
}

pub async fn put(s: &ServerHandle, path: &str, body: &Value) -> Resp {
    send(s.addr(), "PUT", path, "application/json", &body.to_string())
        .await
        .expect("response")
}

pub async fn patch(s: &ServerHandle, path: &str, content_type: &str, body: &str) -> Resp {
    send(s.addr(), "PATCH", path, content_type, body)
        .await
        .expect("response")
}

pub async fn delete(s: &ServerHandle, path: &str) -> Resp {
    send(s.addr(), "DELETE", path, "application/json", "")
        .await
        .expect("response")
}

/// Server-side apply of a YAML document as `manager`.
pub async fn apply(s: &ServerHandle, path: &str, manager: &str, force: bool, yaml: &str) -> Resp {
    let sep = if path.contains('?') { '&' } else { '?' };
    let url = format!("{path}{sep}fieldManager={manager}&force={force}");
    patch(s, &url, "application/apply-patch+yaml", yaml).await
}

/// The managers and operations of an object's managed fields.
pub fn managers(obj: &Value) -> Vec<(String, String)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

pub const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments/web";

pub fn deployment(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: {image}
        ports: [{{containerPort: 80}}]
"
    )
}
