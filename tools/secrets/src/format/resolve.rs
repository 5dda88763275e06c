//! go-yaml v3's `resolve`: which type a plain (unquoted) YAML scalar has.
//! The same rules decide, when writing, whether a string needs quotes.

use super::timestamp;
use crate::tree::Value;

/// A plain scalar that resolves to an integer outside 64 bits (sops cannot
/// hold those either).
#[derive(Debug)]
pub struct OutOfRange;

/// Go's `strconv.ParseInt(s, 0, 64)` (underscores already removed).
fn go_parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn is_yaml_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'-' | b'+')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Resolves a plain scalar the way go-yaml decodes it into `interface{}`.
pub fn resolve_plain(s: &str) -> Result<Value, OutOfRange> {
    match s {
        "true" | "True" | "TRUE" => return Ok(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Value::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        ".nan" | ".NaN" | ".NAN" => return Ok(Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match s.as_bytes()[0] {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return Ok(Value::Float(f));
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if let Some(t) = timestamp::parse_yaml(s) {
                return Ok(Value::Time(t));
            }
            let plain = s.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                if let Ok(i) = i64::try_from(v) {
                    return Ok(Value::Int(i));
                }
                if u64::try_from(v).is_ok() {
                    return Err(OutOfRange);
                }
            }
            if is_yaml_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Ok(Value::Float(f));
                }
            }
        }
        _ => {}
    }
    Ok(Value::Str(s.to_string()))
}

/// Go's `strconv.ParseFloat` for the forms YAML hands it (decimal, with
/// optional exponent; out-of-range values become ±Inf like Go's result).
pub fn go_parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("inf") || body.starts_with("nan") {
        return match body {
            "inf" | "infinity" | "nan" => s.parse().ok(),
            _ => None,
        };
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse().ok()
}

/// Would this string, written plain, read back as something other than the
/// same string? (Then go-yaml quotes it.)
pub fn needs_quotes(s: &str) -> bool {
    match resolve_plain(s) {
        Ok(Value::Str(_)) => is_base60_float(s) || is_old_bool(s),
        _ => true,
    }
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.trim_start_matches(['+', '-']).as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() || !s.contains(':') {
        return false;
    }
    let (main, frac) = match b.iter().position(|c| *c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    if let Some(f) = frac {
        if !f.iter().all(|c| c.is_ascii_digit() || *c == b'_') {
            return false;
        }
    }
    let mut parts = main.split(|c| *c == b':');
    let head = parts.next().unwrap_or_default();
    if !head.iter().all(|c| c.is_ascii_digit() || *c == b'_') {
        return false;
    }
    parts.all(|p| {
        matches!(p.len(), 1 | 2)
            && p.iter().all(u8::is_ascii_digit)
            && (p.len() == 1 || p[0] <= b'5')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go_yaml() {
        assert_eq!(resolve_plain("012").unwrap(), Value::Int(10));
        assert_eq!(resolve_plain("09").unwrap(), Value::Float(9.0));
        assert_eq!(resolve_plain("1_000").unwrap(), Value::Int(1000));
        assert_eq!(resolve_plain("0x1F").unwrap(), Value::Int(31));
        assert_eq!(resolve_plain("1.5e10").unwrap(), Value::Float(1.5e10));
        assert_eq!(resolve_plain("-0.0").unwrap(), Value::Float(-0.0));
        assert_eq!(resolve_plain("yes").unwrap(), Value::Str("yes".into()));
        assert_eq!(resolve_plain("1e3").unwrap(), Value::Float(1000.0));
        assert!(resolve_plain("18446744073709551615").is_err());
        assert_eq!(
            resolve_plain("99999999999999999999").unwrap(),
            Value::Float(1e20)
        );
        assert!(needs_quotes("yes"));
        assert!(needs_quotes("1:20"));
        assert!(needs_quotes("2020-01-01"));
        assert!(!needs_quotes("hello"));
    }
}
