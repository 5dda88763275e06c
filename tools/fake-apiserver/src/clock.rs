//! Timestamps in the server's format (RFC 3339, UTC, whole seconds). The calendar
//! arithmetic is jiff's, as everywhere in the workspace.

use jiff::Timestamp;

/// The current time, `2026-01-02T03:04:05Z`.
pub fn now_rfc3339() -> String {
    format_unix(u64::try_from(Timestamp::now().as_second()).unwrap_or(0))
}

/// Formats seconds since the epoch; beyond jiff's range (the year 9999) it prints
/// the last second jiff can represent rather than fail.
pub fn format_unix(secs: u64) -> String {
    let at = i64::try_from(secs)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::MAX);
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_unix(1_700_000_000), "2023-11-14T22:13:20Z");
        assert!(format_unix(u64::MAX).starts_with("9999-12-"));
        assert_eq!(now_rfc3339().len(), 20);
    }
}
