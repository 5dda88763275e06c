//! Timestamps in the server's format (RFC 3339, UTC, whole seconds). The calendar
//! arithmetic is jiff's, as everywhere in the workspace.

use jiff::Timestamp;

/// The current time, `2026-01-02T03:04:05Z`.
pub fn now_rfc3339() -> String {
    whole_seconds(Timestamp::now().as_second())
}

/// Formats seconds since the epoch; beyond jiff's range (year 9999) it prints the
/// last second jiff can represent rather than fail.
pub fn format_unix(secs: u64) -> String {
    whole_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn whole_seconds(secs: i64) -> String {
    let at = Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
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
        assert_eq!(format_unix(u64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(now_rfc3339().len(), 20);
    }
}
