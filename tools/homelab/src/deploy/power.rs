//! Power: waking hosts with a Wake-on-LAN magic packet and powering them off.
//!
//! The magic packet is 6 × `0xFF` then the MAC 16 times, sent over UDP (port 9, the
//! discard port) to the broadcast address of the inventory's LAN, so it reaches a
//! sleeping card that has no IP address. Shutting down drains the node first, as a
//! reboot does ([`super::drain`]), and the control plane is refused without `force`.

use std::ffi::OsStr;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::activate;
use super::hosts::HostTarget;
use super::nodes::NodeOps;
use super::probe::{probe_host, HostProbe};
use super::remote::{self, Log, Step};

/// The UDP port magic packets go to unless told otherwise.
pub(crate) const WAKE_PORT: u16 = 9;

/// 6 × `0xFF`, then `mac` 16 times: 102 bytes.
pub(crate) fn magic_packet(mac: [u8; 6]) -> Vec<u8> {
    let mut packet = vec![0xFF; 6];
    for _ in 0..16 {
        packet.extend_from_slice(&mac);
    }
    packet
}

/// The LAN's broadcast address; IPv6 has none, so an IPv6 LAN is refused.
pub(crate) fn broadcast(lan: &IpNet) -> Result<Ipv4Addr, String> {
    match lan {
        IpNet::V4(net) => Ok(net.broadcast()),
        IpNet::V6(_) => Err(format!(
            "the LAN {lan} is IPv6, which has no broadcast for Wake-on-LAN"
        )),
    }
}

/// Sends the magic packet for `mac` to `to` (the LAN broadcast and port 9, or a test's
/// loopback socket).
pub(crate) fn send_magic_packet(mac: [u8; 6], to: SocketAddr) -> Result<(), String> {
    let bind: SocketAddr = match to.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(bind).map_err(|e| format!("opening a UDP socket failed: {e}"))?;
    socket
        .set_broadcast(true)
        .map_err(|e| format!("allowing broadcast failed: {e}"))?;
    socket
        .send_to(&magic_packet(mac), to)
        .map(drop)
        .map_err(|e| format!("sending the magic packet to {to} failed: {e}"))
}

/// Polls the host over SSH until it answers, within `timeout`.
pub(crate) fn wait_for_ssh(
    host: &HostTarget,
    ssh: &OsStr,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match probe_host(host, ssh) {
            HostProbe::Reachable { .. } => return Ok(()),
            HostProbe::Unreachable { reason } if Instant::now() >= deadline => {
                return Err(format!(
                    "`{}` did not answer SSH within {}s (last: {reason})",
                    host.name,
                    timeout.as_secs()
                ))
            }
            HostProbe::Unreachable { .. } => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// Cordons and drains the node (when there is a cluster), then powers the host off.
pub(crate) fn shutdown(
    host: &HostTarget,
    ssh: &OsStr,
    nodes: Option<&dyn NodeOps>,
    drain_timeout: Duration,
    log: Log<'_>,
) -> Result<(), String> {
    let name = host.name.as_str();
    if let Some(nodes) = nodes {
        nodes.cordon(name, true)?;
        log(&format!("[{name}] cordoned; draining"));
        if let Err(e) = nodes.drain(name, drain_timeout, log) {
            let undo = nodes.cordon(name, false).map_or_else(
                |u| format!("uncordoning failed too: {u}"),
                |()| "uncordoned".into(),
            );
            return Err(format!("{e}; the host stays on ({undo})"));
        }
        log(&format!("[{name}] drained"));
    }
    log(&format!("[{name}] powering off"));
    let step = Step {
        program: ssh,
        args: activate::poweroff_args(host),
        nix_ssh_options: None,
        host: name,
        show_stdout: true,
    };
    match remote::run(step, log) {
        Ok(_) => Ok(()),
        // The connection drops as the host goes down.
        Err(f) if f.connection_lost => Ok(()),
        Err(f) => Err(format!("powering off failed: {}", f.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_and_broadcast() {
        let mac = [0x3c, 0x7c, 0x3f, 0x1a, 0x2b, 0x4d];
        let packet = magic_packet(mac);
        assert_eq!(packet.len(), 102);
        assert_eq!(packet[..6], [0xFF; 6]);
        assert!(packet[6..].chunks(6).all(|c| c == mac));
        let lan: IpNet = "192.168.10.0/24".parse().expect("net");
        assert_eq!(broadcast(&lan), Ok(Ipv4Addr::new(192, 168, 10, 255)));
        assert!(broadcast(&"fd00::/64".parse().expect("net")).is_err());
    }
}
