//! The grammar of an API version as Helm's `--api-versions` takes it:
//! `group/version` or `group/version/Kind` (`monitoring.coreos.com/v1`,
//! `monitoring.coreos.com/v1/ServiceMonitor`). Values come from the repository (an
//! environment's `api_versions`) and from rendered CRDs, and reach Helm as an option's
//! value, so each is checked against this one grammar first.

use crate::names;

/// Checks `text` is `group/version[/Kind]`: the group a DNS subdomain, the version a
/// DNS label starting with a letter (`v1`, `v1beta1`), the kind a letter-led
/// alphanumeric name starting upper-case. The reason when it is not.
pub(crate) fn check(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [g, v] => (*g, *v, None),
        [g, v, k] => (*g, *v, Some(*k)),
        _ => return Err("is not `group/version` or `group/version/Kind`".into()),
    };
    names::check_dns_subdomain(group).map_err(|e| format!("has a group that {e}"))?;
    names::check_dns_label(version).map_err(|e| format!("has a version that {e}"))?;
    if !version.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("has a version that does not start with a letter (`v1`)".into());
    }
    if let Some(kind) = kind {
        let ok = kind.len() <= 63
            && kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "has a kind `{}` that is not a letter-led name starting upper-case (`ServiceMonitor`)",
                kind.escape_default()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_versions_and_kinds_pass() {
        for ok in [
            "monitoring.coreos.com/v1",
            "monitoring.coreos.com/v1/ServiceMonitor",
            "gateway.networking.k8s.io/v1beta1",
            "apps/v1/Deployment",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "v1",
            "monitoring.coreos.com",
            "--kube-version=0.0.1/v1",
            "Monitoring.coreos.com/v1",
            "monitoring.coreos.com/1",
            "monitoring.coreos.com/v1/serviceMonitor",
            "monitoring.coreos.com/v1/Service,Monitor",
            "monitoring.coreos.com/v1/Kind/extra",
            "a b/v1",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
