//! SSH targets (`hosts.<name>.ssh`), which reach `ssh`, `nixos-rebuild --target-host`
//! and `nix --store ssh-ng://`; SSH public keys and the admin names they log in as,
//! which become `authorized_keys` lines and NixOS users.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;

/// The key types OpenSSH accepts in `authorized_keys` that we allow.
const KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// A parsed `[user@]host[:port]`. It cannot start with `-`, so no program reads it as an
/// option, and it holds no whitespace or control character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SshTarget {
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

impl SshTarget {
    pub(crate) fn parse(s: &str) -> Result<SshTarget, String> {
        if s.starts_with('-') {
            return Err("must not start with '-' (ssh would read it as an option)".into());
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("must not contain {c:?}"));
        }
        let (user, rest) = match s.split_once('@') {
            Some((user, rest)) => {
                check_user_name(user).map_err(|e| format!("user `{user}` {e}"))?;
                (Some(user.to_string()), rest)
            }
            None => (None, s),
        };
        let (host, port) = split_port(rest)?;
        check_host(host)?;
        Ok(SshTarget {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// `user@host` or `host`: what `ssh` and `--target-host` take.
    pub(crate) fn destination(&self) -> String {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        match &self.user {
            Some(user) => format!("{user}@{host}"),
            None => host.to_string(),
        }
    }

    pub(crate) fn port(&self) -> Option<u16> {
        self.port
    }

    pub(crate) fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if s.starts_with('[') {
        match s.split_once("]:") {
            Some((h, p)) => (&s[..h.len() + 1], Some(p)),
            None => (s, None),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let Some(port) = port else {
        return Ok((host, None));
    };
    match port.parse::<u16>() {
        Ok(p) if p > 0 && !port.starts_with('0') && port.bytes().all(|b| b.is_ascii_digit()) => {
            Ok((host, Some(p)))
        }
        _ => Err(format!("port `{port}` must be a number from 1 to 65535")),
    }
}

/// A host: a DNS name (letters, digits and '-' in dot-separated labels), an IPv4
/// address, or an IPv6 address in brackets.
fn check_host(host: &str) -> Result<(), String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(drop)
            .map_err(|_| format!("host `{host}` is not an IPv6 address"));
    }
    if host.parse::<Ipv4Addr>().is_ok() {
        return Ok(());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(format!(
            "host `{host}` must be a DNS name, an IPv4 address or an [IPv6] address"
        ));
    }
    Ok(())
}

/// A login name (`useradd`'s default rule): 1–32 lowercase letters, digits, '_' and
/// '-', starting with a letter or '_'.
pub(crate) fn check_user_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 32 {
        return Err(format!("must be 1–32 characters long, not {}", s.len()));
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if !ok || !s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
        return Err(
            "must start with a lowercase letter or '_' and hold only lowercase letters, digits, '_' and '-'"
                .into(),
        );
    }
    Ok(())
}

/// One `authorized_keys` line without options: `TYPE BASE64 [comment]`, a known type,
/// base64 that decodes to a key of that same type, and a comment without control
/// characters.
pub(crate) fn check_ssh_public_key(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "must be one line without control characters, found {c:?}"
        ));
    }
    let mut parts = s.splitn(3, ' ');
    let kind = parts.next().unwrap_or("");
    let data = parts.next().unwrap_or("");
    if !KEY_TYPES.contains(&kind) {
        return Err(format!(
            "must start with a key type (`{}`), not `{kind}`",
            KEY_TYPES.join("`, `")
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| "the key after the type is not valid base64".to_string())?;
    let embedded = bytes
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| bytes.get(4..4 + n));
    if embedded != Some(kind.as_bytes()) {
        return Err(format!("the base64 key is not a `{kind}` key"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = SshTarget::parse("admin@tokiwa.lan:2222").expect("target");
        assert_eq!(t.destination(), "admin@tokiwa.lan");
        assert_eq!(t.port(), Some(2222));
        assert_eq!(t.to_string(), "admin@tokiwa.lan:2222");
        let t = SshTarget::parse("root@[fd7a::1]:22").expect("target");
        assert_eq!(t.destination(), "root@fd7a::1");
        assert_eq!(SshTarget::parse("10.0.0.1").expect("ip").port(), None);
        for bad in [
            "-oProxyCommand=touch /tmp/pwned",
            "-oProxyCommand=x",
            "root@-oProxyCommand=x",
            "root@host name",
            "root@host\n",
            "root@host:0",
            "root@host:65536",
            "root@host:",
            "@host",
            "",
            "root@",
            "root@[::1",
        ] {
            assert!(SshTarget::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys() {
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHomelabReferenceLabPlaceholderKeyAyumi00000";
        assert!(check_ssh_public_key(key).is_ok());
        assert!(check_ssh_public_key(&format!("{key} ayumi@laptop")).is_ok());
        assert!(check_ssh_public_key(&format!("{key}\nssh-ed25519 AAAA x")).is_err());
        assert!(check_ssh_public_key(&key.replace("ssh-ed25519", "ssh-rsa")).is_err());
        assert!(check_ssh_public_key(&format!("command=\"x\" {key}")).is_err());
        assert!(check_ssh_public_key("ssh-ed25519 not*base64").is_err());
    }
}
