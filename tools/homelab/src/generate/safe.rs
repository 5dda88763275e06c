//! What a generated file may contain from the inventory and releases: only values in
//! their identifier grammar (`crate::names`), so no value can close a block, start a
//! directive or end a comment line. Validation refuses them first with a location;
//! this is the generators' own refusal, for any caller that skipped it.

use super::GenerateError;
use crate::names;

/// Refuses `value` unless `rule` accepts it; `what` and `file` name it in the error.
pub(super) fn checked<'v>(
    file: &str,
    what: &str,
    value: &'v str,
    rule: fn(&str) -> Result<(), String>,
) -> Result<&'v str, GenerateError> {
    rule(value).map_err(|reason| GenerateError::UnsafeValue {
        file: file.to_string(),
        what: what.to_string(),
        value: value.escape_debug().to_string(),
        reason,
    })?;
    Ok(value)
}

/// A repository path shown in a comment: letters, digits and `/._-` only.
pub(super) fn path(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
    {
        Ok(())
    } else {
        Err("may hold only letters, digits and `/._-`".into())
    }
}

pub(super) use names::{
    check_dns_label as label, check_dns_subdomain as domain, check_port_name as port_name,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_could_reshape_a_file() {
        assert!(checked("f", "x", "web\nserver {", port_name).is_err());
        assert!(checked("f", "x", "releases/a/release.toml", path).is_ok());
        assert!(checked("f", "x", "releases/a b/release.toml", path).is_err());
        assert!(checked("f", "x", "home.example.org", domain).is_ok());
        assert!(checked("f", "x", "home.example.org { }", domain).is_err());
    }
}
