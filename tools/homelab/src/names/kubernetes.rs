//! Kubernetes' own name and label rules (apimachinery's `validation.go`), checked before
//! anything reaches a cluster so the error points at our file rather than at an API
//! server's 422.

/// A DNS-1123 label: host names, release names, namespaces.
pub(crate) fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("must be 1–63 characters long, not {}", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lowercase letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

/// A DNS-1123 subdomain: dot-separated labels, at most 253 characters.
pub(crate) fn check_dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!(
            "must be at most 253 characters long, not {}",
            s.len()
        ));
    }
    s.split('.')
        .try_for_each(|label| check_dns_label(label).map_err(|e| format!("label `{label}` {e}")))
}

/// A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric.
pub(crate) fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        check_dns_subdomain(prefix).map_err(|e| format!("prefix `{prefix}`: {e}"))?;
    }
    check_qualified_name(name).map_err(|e| format!("name `{name}`: {e}"))
}

/// A label value: empty, or like a label key's name part.
pub(crate) fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    check_qualified_name(value)
}

/// A port name (`IANA_SVC_NAME`): entry points become Service and container port names.
/// 1–15 lowercase letters, digits and '-', at least one letter, no leading, trailing or
/// doubled '-'.
pub(crate) fn check_port_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err(format!("must be 1–15 characters long, not {}", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may contain only lowercase letters, digits and '-'".into());
    }
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err("must contain at least one letter".into());
    }
    if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return Err("must not start or end with '-' or contain '--'".into());
    }
    Ok(())
}

/// A Secret or ConfigMap data key: 1–253 letters, digits, '-', '_' and '.'.
pub(crate) fn check_config_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("must be 1–253 characters long, not {}", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

fn check_qualified_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("must be 1–63 characters long, not {}", s.len()));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    let first = s.as_bytes()[0];
    let last = s.as_bytes()[s.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(check_dns_label("yomogi").is_ok());
        assert!(check_dns_label("rook-ceph-1").is_ok());
        assert!(check_dns_label("Yomogi").is_err());
        assert!(check_dns_label("-a").is_err());
        assert!(check_dns_label("").is_err());
        assert!(check_dns_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn label_keys_and_values() {
        assert!(check_label_key("role").is_ok());
        assert!(check_label_key("homelab.dev/storage").is_ok());
        assert!(check_label_key("node-role.kubernetes.io/control-plane").is_ok());
        assert!(check_label_key("Bad_Prefix/x").is_err());
        assert!(check_label_key("a/-x").is_err());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("raspberry-pi-4").is_ok());
        assert!(check_label_value("has space").is_err());
    }

    #[test]
    fn port_names() {
        assert!(check_port_name("websecure").is_ok());
        assert!(check_port_name("h2c-1").is_ok());
        assert!(check_port_name("8080").is_err());
        assert!(check_port_name("a--b").is_err());
        assert!(check_port_name("sixteen-letters-").is_err());
        assert!(check_port_name("web\nserver").is_err());
    }

    #[test]
    fn config_keys() {
        assert!(check_config_key("ADMIN_TOKEN").is_ok());
        assert!(check_config_key(".dockerconfigjson").is_ok());
        assert!(check_config_key("").is_err());
        assert!(check_config_key("a/b").is_err());
    }
}
