//! The health gate between hosts: after a host is confirmed, the deploy waits until
//! what the host serves works before it touches the next one.
//!
//! - a control plane: the API server's `/readyz`;
//! - a Kubernetes node: its Node is Ready, runs the inventory's kubelet version and
//!   carries the inventory's labels and taints;
//! - a DNS host: CoreDNS answers a UDP query for the split domain;
//! - an ingress host: nginx accepts TCP connections on every entry point's port.
//!
//! Without a cluster (`--hosts-only` without `-e`) the first two are skipped and the
//! log says so. Every check is polled until all pass or the timeout ends; the error
//! is the last failure, naming what failed.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::nodes::NodeOps;
use crate::inventory::{Inventory, Role, Taint};

/// How often the checks are repeated.
const POLL: Duration = Duration::from_millis(200);

/// What one host must show to be healthy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct HostHealth {
    pub api: bool,
    pub node: Option<NodeExpectation>,
    /// Where CoreDNS answers and the name asked for.
    pub dns: Option<(SocketAddr, String)>,
    pub ingress: Vec<SocketAddr>,
}

/// The Node as the inventory declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeExpectation {
    pub name: String,
    pub kubelet_version: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
}

/// Where the DNS and ingress checks connect instead of the inventory's addresses (for
/// tests on loopback; hidden options of `deploy`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub dns: Option<SocketAddr>,
    pub ingress_address: Option<IpAddr>,
}

/// The checks for host `name`; `ingress_ports` are the entry points' listen ports.
pub(crate) fn expectations(
    inventory: &Inventory,
    name: &str,
    ingress_ports: &[u16],
    overrides: &Overrides,
) -> HostHealth {
    let Some(host) = inventory.hosts.get(name) else {
        return HostHealth::default();
    };
    let kubernetes = host.has_role(Role::ControlPlane) || host.has_role(Role::Worker);
    let node = kubernetes.then(|| NodeExpectation {
        name: name.to_string(),
        kubelet_version: format!("v{}", inventory.cluster.kubernetes_version),
        labels: host.labels.clone(),
        taints: host.taints.clone(),
    });
    let dns = host.has_role(Role::Dns).then(|| {
        let ip = host.tailscale_address.unwrap_or(host.lan_address);
        let at = overrides
            .dns
            .unwrap_or(SocketAddr::new(ip, inventory.dns.port));
        (
            at,
            format!("{}.{}", inventory.home_subdomain, inventory.domain),
        )
    });
    let ingress = match host.has_role(Role::Ingress) {
        true => {
            let ip = overrides.ingress_address.unwrap_or(host.lan_address);
            ingress_ports
                .iter()
                .map(|p| SocketAddr::new(ip, *p))
                .collect()
        }
        false => Vec::new(),
    };
    HostHealth {
        api: host.has_role(Role::ControlPlane),
        node,
        dns,
        ingress,
    }
}

/// Polls every check until all pass or `timeout` ends; `Err` names the last failure.
pub(crate) fn wait_healthy(
    health: &HostHealth,
    nodes: Option<&dyn NodeOps>,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match check_once(health, nodes) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("not healthy after {}s: {e}", timeout.as_secs_f64()))
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

/// Every check once, in order; the first failure.
pub(crate) fn check_once(health: &HostHealth, nodes: Option<&dyn NodeOps>) -> Result<(), String> {
    if let Some(nodes) = nodes {
        if health.api {
            nodes.readyz()?;
        }
        if let Some(expected) = &health.node {
            let node = nodes
                .node(&expected.name)?
                .ok_or_else(|| format!("node `{}` has not registered", expected.name))?;
            node_matches(&node, expected)?;
        }
    }
    if let Some((at, name)) = &health.dns {
        dns_answers(*at, name).map_err(|e| format!("CoreDNS at {at} does not answer: {e}"))?;
    }
    for at in &health.ingress {
        TcpStream::connect_timeout(at, Duration::from_secs(2))
            .map_err(|e| format!("nginx does not accept connections on {at}: {e}"))?;
    }
    Ok(())
}

/// Ready, the expected kubelet, and the inventory's labels and taints present.
pub(crate) fn node_matches(node: &Value, expected: &NodeExpectation) -> Result<(), String> {
    let name = &expected.name;
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .map(|c| c["status"].as_str().unwrap_or("Unknown"));
    if ready != Some("True") {
        return Err(format!(
            "node `{name}` is not Ready (Ready={})",
            ready.unwrap_or("missing")
        ));
    }
    let kubelet = node["status"]["nodeInfo"]["kubeletVersion"]
        .as_str()
        .unwrap_or("");
    if kubelet != expected.kubelet_version {
        return Err(format!(
            "node `{name}` runs kubelet `{kubelet}`, the inventory says `{}`",
            expected.kubelet_version
        ));
    }
    for (key, value) in &expected.labels {
        if node["metadata"]["labels"][key].as_str() != Some(value) {
            return Err(format!("node `{name}` lacks the label {key}={value}"));
        }
    }
    let taints = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for t in &expected.taints {
        let effect = serde_json::to_value(t.effect).unwrap_or_default();
        let found = taints.iter().any(|live| {
            live["key"].as_str() == Some(&t.key)
                && live["value"].as_str().unwrap_or("") == t.value
                && live["effect"] == effect
        });
        if !found {
            return Err(format!(
                "node `{name}` lacks the taint {}={}:{}",
                t.key,
                t.value,
                effect.as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
}

/// Sends one `A` query for `name` and waits for a reply with its id that is not
/// SERVFAIL or REFUSED.
fn dns_answers(at: SocketAddr, name: &str) -> Result<(), String> {
    let bind: SocketAddr = if at.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|_| "bad bind")?
    } else {
        "[::]:0".parse().map_err(|_| "bad bind")?
    };
    let socket = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .map_err(|e| e.to_string())?;
    let id: u16 = 0x4c48;
    socket
        .send_to(&dns_query(id, name), at)
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 512];
    let (n, _) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
    if n < 12 || buf[..2] != id.to_be_bytes() || buf[2] & 0x80 == 0 {
        return Err("the reply is not an answer to the query".into());
    }
    match buf[3] & 0x0f {
        2 => Err("it answered SERVFAIL".into()),
        5 => Err("it answered REFUSED".into()),
        _ => Ok(()),
    }
}

/// A standard query (recursion desired) for `name`, type A, class IN.
pub(crate) fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(18 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // Labels come from the checked domain: at most 63 bytes each.
        q.push(label.len().min(63) as u8);
        q.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected() -> NodeExpectation {
        serde_json::from_value::<Taint>(json!({"key": "k", "effect": "NoSchedule"}))
            .map(|taint| NodeExpectation {
                name: "w1".into(),
                kubelet_version: "v1.34.1".into(),
                labels: [("role".to_string(), "app".to_string())].into(),
                taints: vec![taint],
            })
            .expect("taint")
    }

    fn node(ready: &str, kubelet: &str) -> Value {
        json!({
            "metadata": {"name": "w1", "labels": {"role": "app", "other": "x"}},
            "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": ready}],
                "nodeInfo": {"kubeletVersion": kubelet}
            }
        })
    }

    #[test]
    fn a_node_is_checked_against_the_inventory() {
        assert_eq!(node_matches(&node("True", "v1.34.1"), &expected()), Ok(()));
        assert_eq!(
            node_matches(&node("False", "v1.34.1"), &expected()),
            Err("node `w1` is not Ready (Ready=False)".into())
        );
        assert_eq!(
            node_matches(&node("True", "v1.33.0"), &expected()),
            Err("node `w1` runs kubelet `v1.33.0`, the inventory says `v1.34.1`".into())
        );
        let mut untainted = node("True", "v1.34.1");
        untainted["spec"] = json!({});
        assert_eq!(
            node_matches(&untainted, &expected()),
            Err("node `w1` lacks the taint k=:NoSchedule".into())
        );
    }

    #[test]
    fn dns_and_tcp_checks_on_loopback() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let at = server.local_addr().expect("addr");
        let answer = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = server.recv_from(&mut buf).expect("query");
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80;
            server.send_to(&reply, from).expect("reply");
            buf[..n].to_vec()
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let health = HostHealth {
            dns: Some((at, "home.example.org".into())),
            ingress: vec![listener.local_addr().expect("addr")],
            ..HostHealth::default()
        };
        assert_eq!(check_once(&health, None), Ok(()));
        let query = answer.join().expect("answered");
        assert_eq!(query, dns_query(0x4c48, "home.example.org"));
        assert_eq!(&query[12..18], b"\x04home\x07");
        drop(listener);
    }

    #[test]
    fn a_silent_dns_server_fails_with_its_address() {
        let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let at = server.local_addr().expect("addr");
        let health = HostHealth {
            dns: Some((at, "home.example.org".into())),
            ..HostHealth::default()
        };
        let err = wait_healthy(&health, None, Duration::ZERO).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "not healthy after 0s: CoreDNS at {at} does not answer"
            )),
            "{err}"
        );
    }
}
