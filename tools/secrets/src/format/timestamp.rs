//! Timestamps as go-yaml reads them and Go's `time.Time` prints them
//! (`RFC3339Nano`), so a `type:time` value round-trips like sops's.

/// A parsed time: civil fields plus the zone offset in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset: Option<i32>,
}

fn take_digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Parses what go-yaml accepts as a plain timestamp: `YYYY-M-D`, optionally
/// followed by `T`/`t`/space, `h:m:s[.frac]`, and (not after a space) `Z` or
/// `±hh:mm`. Returns the value in RFC 3339 nano form.
pub fn parse_yaml(s: &str) -> Option<String> {
    let (year, rest) = take_digits(s, 4, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = take_digits(rest, 1, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = take_digits(rest, 1, 2)?;
    let mut c = Civil {
        year: year.into(),
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: Some(0),
    };
    if !rest.is_empty() {
        let sep = rest.chars().next()?;
        let spaced = sep == ' ';
        if !matches!(sep, 'T' | 't' | ' ') {
            return None;
        }
        let rest = parse_clock(&rest[1..], &mut c)?;
        if spaced {
            if !rest.is_empty() {
                return None;
            }
        } else {
            let rest = parse_zone(rest, &mut c)?;
            if !rest.is_empty() {
                return None;
            }
        }
    }
    valid(&c).then(|| format(&c))
}

fn parse_clock<'a>(s: &'a str, c: &mut Civil) -> Option<&'a str> {
    let (h, rest) = take_digits(s, 1, 2)?;
    let (m, rest) = take_digits(rest.strip_prefix(':')?, 1, 2)?;
    let (sec, mut rest) = take_digits(rest.strip_prefix(':')?, 1, 2)?;
    c.hour = h;
    c.minute = m;
    c.second = sec;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        c.nanos = format!("{:0<9}", &frac[..n]).parse().ok()?;
        rest = &frac[n..];
    }
    Some(rest)
}

fn parse_zone<'a>(s: &'a str, c: &mut Civil) -> Option<&'a str> {
    if let Some(rest) = s.strip_prefix('Z') {
        c.offset = Some(0);
        return Some(rest);
    }
    let sign = match s.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let (h, rest) = take_digits(&s[1..], 2, 2)?;
    let (m, rest) = take_digits(rest.strip_prefix(':')?, 2, 2)?;
    if h > 23 || m > 59 {
        return None;
    }
    c.offset = Some(sign * (h as i32 * 3600 + m as i32 * 60));
    Some(rest)
}

fn valid(c: &Civil) -> bool {
    (1..=12).contains(&c.month)
        && c.day >= 1
        && c.day <= days_in_month(c.year, c.month)
        && c.hour < 24
        && c.minute < 60
        && c.second < 60
}

fn format(c: &Civil) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    if c.nanos != 0 {
        let frac = format!("{:09}", c.nanos);
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    match c.offset {
        Some(0) | None => out.push('Z'),
        Some(off) => {
            let sign = if off < 0 { '-' } else { '+' };
            let off = off.abs();
            out.push_str(&format!("{}{:02}:{:02}", sign, off / 3600, off % 3600 / 60));
        }
    }
    out
}

/// Parses a strict RFC 3339 timestamp (Go's `time.Time.UnmarshalText`) and
/// returns it normalised to RFC 3339 nano form.
pub fn parse_rfc3339(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let fixed = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let mut c = Civil {
        year: fixed(0..4)?.into(),
        month: fixed(5..7)?,
        day: fixed(8..10)?,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: None,
    };
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    c.hour = fixed(11..13)?;
    c.minute = fixed(14..16)?;
    c.second = fixed(17..19)?;
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 9 {
            return None;
        }
        c.nanos = format!("{:0<9}", &frac[..n]).parse().ok()?;
        rest = &frac[n..];
    }
    let rest = parse_zone(rest, &mut c)?;
    (rest.is_empty() && valid(&c)).then(|| format(&c))
}

/// Now, in UTC, formatted as sops writes `lastmodified` (RFC 3339, seconds). The
/// calendar arithmetic is jiff's, as everywhere in the workspace.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_forms() {
        assert_eq!(
            parse_yaml("2020-01-01").as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_yaml("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            parse_yaml("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(parse_yaml("2001-2-30"), None);
        assert_eq!(parse_yaml("2001-12-14 21:59:43.10 -5"), None);
        assert_eq!(
            parse_rfc3339("2020-01-01T00:00:00Z").as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2020-01-01T00:00:00+00:00").as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        assert_eq!(parse_rfc3339("2020-01-01"), None);
        assert_eq!(now_rfc3339().len(), 20);
    }
}
