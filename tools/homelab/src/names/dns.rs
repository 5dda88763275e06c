//! Domain names: the user's domain, and the cluster's name and DNS domain, which
//! templates also write into YAML where a YAML 1.1 reader (Helm's) would turn `on` into
//! a boolean and `0777` into a number.

use super::kubernetes::{check_dns_label, check_dns_subdomain};

/// Words a YAML 1.1 reader takes for a boolean or null when written unquoted.
const YAML_WORDS: [&str; 9] = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// The user's domain: dot-separated DNS-1123 labels whose last label (the TLD) starts
/// with a letter, as every top-level domain does.
pub(crate) fn check_domain(s: &str) -> Result<(), String> {
    check_dns_subdomain(s)?;
    let tld = s.rsplit('.').next().unwrap_or(s);
    if !tld.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("its last label `{tld}` must start with a letter"));
    }
    not_a_yaml_word(s)
}

/// `cluster.name`: a DNS-1123 label starting with a letter that YAML reads as a string.
pub(crate) fn check_cluster_name(s: &str) -> Result<(), String> {
    check_dns_label(s)?;
    starts_with_a_letter(s)?;
    not_a_yaml_word(s)
}

/// `cluster.dnsDomain`: DNS-1123 labels each starting with a letter (`cluster.local`),
/// that YAML reads as a string.
pub(crate) fn check_cluster_domain(s: &str) -> Result<(), String> {
    check_dns_subdomain(s)?;
    s.split('.').try_for_each(|label| {
        starts_with_a_letter(label).map_err(|e| format!("label `{label}` {e}"))
    })?;
    not_a_yaml_word(s)
}

fn starts_with_a_letter(s: &str) -> Result<(), String> {
    if s.starts_with(|c: char| c.is_ascii_lowercase()) {
        Ok(())
    } else {
        Err("must start with a letter".into())
    }
}

fn not_a_yaml_word(s: &str) -> Result<(), String> {
    if YAML_WORDS.contains(&s) {
        Err("YAML 1.1 (Helm's reader) takes it for a boolean or null, not a name".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(check_domain("example.org").is_ok());
        assert!(check_domain("1password.com").is_ok());
        assert!(check_domain("home.arpa").is_ok());
        assert!(check_domain("0777").is_err());
        assert!(check_domain("on").is_err());
        assert!(check_domain("a..b").is_err());
    }

    #[test]
    fn cluster_names_and_domains() {
        assert!(check_cluster_name("homelab").is_ok());
        assert!(check_cluster_name("on").is_err());
        assert!(check_cluster_name("0777").is_err());
        assert!(check_cluster_domain("cluster.local").is_ok());
        assert!(check_cluster_domain("on").is_err());
        assert!(check_cluster_domain("0777").is_err());
        assert!(check_cluster_domain("cluster.1").is_err());
    }
}
