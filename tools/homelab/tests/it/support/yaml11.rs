//! What a YAML 1.1 reader (Helm's and kubectl's go-yaml) makes of a plain scalar: the
//! implicit types of the YAML 1.1 type repository (yaml.org/type: null, bool, int, float,
//! timestamp, merge, value), plus what go-yaml's `strconv` parsing adds (`0o17`).
//! Hand-written matchers of the repository's regular expressions, each commented with it.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Int,
    Float,
    Timestamp,
    Merge,
    Value,
    Str,
}

/// The type a YAML 1.1 reader gives the plain scalar `text`.
pub fn resolve(text: &str) -> Kind {
    // ~|null|Null|NULL| (empty)
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Kind::Null;
    }
    // y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    const BOOLS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    if BOOLS.contains(&text) {
        return Kind::Bool;
    }
    if text == "<<" {
        return Kind::Merge;
    }
    if text == "=" {
        return Kind::Value;
    }
    if is_int(text) {
        return Kind::Int;
    }
    if is_float(text) {
        return Kind::Float;
    }
    if is_timestamp(text) {
        return Kind::Timestamp;
    }
    Kind::Str
}

fn unsigned(text: &str) -> &str {
    text.strip_prefix(['-', '+']).unwrap_or(text)
}

fn all(text: &str, f: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(f)
}

/// `[0-5]?[0-9]` groups after `:`, one or more.
fn sexagesimal_tail(groups: &[&str]) -> bool {
    !groups.is_empty()
        && groups.iter().all(|g| {
            let b = g.as_bytes();
            match b.len() {
                1 => b[0].is_ascii_digit(),
                2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
                _ => false,
            }
        })
}

fn is_int(text: &str) -> bool {
    let t = unsigned(text);
    let digits_ = |s: &str, f: fn(char) -> bool| all(s, |c| f(c) || c == '_');
    // [-+]?0b[0-1_]+
    if let Some(r) = t.strip_prefix("0b") {
        return digits_(r, |c| matches!(c, '0' | '1'));
    }
    // [-+]?0x[0-9a-fA-F_]+
    if let Some(r) = t.strip_prefix("0x") {
        return digits_(r, |c| c.is_ascii_hexdigit());
    }
    // go-yaml (strconv base 0) and YAML 1.2: [-+]?0o[0-7_]+
    if let Some(r) = t.strip_prefix("0o") {
        return digits_(r, |c| ('0'..='7').contains(&c));
    }
    // [-+]?0[0-7_]+ and [-+]?(0|[1-9][0-9_]*)
    if t == "0" {
        return true;
    }
    if let Some(r) = t.strip_prefix('0') {
        return digits_(r, |c| ('0'..='7').contains(&c));
    }
    // [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+
    let mut parts = t.split(':');
    let head = parts.next().unwrap_or("");
    let tail: Vec<&str> = parts.collect();
    let head_ok = head.starts_with(|c: char| ('1'..='9').contains(&c))
        && digits_(head, |c| c.is_ascii_digit());
    head_ok && (tail.is_empty() || sexagesimal_tail(&tail))
}

fn is_float(text: &str) -> bool {
    let t = unsigned(text);
    // [-+]?\.(inf|Inf|INF) and \.(nan|NaN|NAN)
    if matches!(t, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    // [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
    if let Some((whole, frac)) = t.rsplit_once('.') {
        let mut parts = whole.split(':');
        let head = parts.next().unwrap_or("");
        let tail: Vec<&str> = parts.collect();
        if !tail.is_empty()
            && head.starts_with(|c: char| c.is_ascii_digit())
            && all(head, |c| c.is_ascii_digit() || c == '_')
            && sexagesimal_tail(&tail)
            && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
        {
            return true;
        }
    }
    // [-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let exponent_ok =
        exponent.is_none_or(|e| e.starts_with(['-', '+']) && all(&e[1..], |c| c.is_ascii_digit()));
    let Some(dot) = mantissa.find('.') else {
        return go_float(text);
    };
    let (int, frac) = (&mantissa[..dot], &mantissa[dot + 1..]);
    let int_ok = int.is_empty()
        || (int.starts_with(|c: char| c.is_ascii_digit())
            && int.chars().all(|c| c.is_ascii_digit() || c == '_'));
    (int_ok
        && frac
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
        && exponent_ok)
        || go_float(text)
}

/// go-yaml also takes what Go's ParseFloat does, such as `1e3` (no dot, unsigned exponent).
fn go_float(text: &str) -> bool {
    let t = unsigned(text);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => return false,
    };
    let exponent = exponent.map(unsigned).unwrap_or("");
    all(mantissa, |c| c.is_ascii_digit() || c == '.')
        && mantissa.chars().filter(|c| *c == '.').count() <= 1
        && mantissa != "."
        && all(exponent, |c| c.is_ascii_digit())
}

/// `[0-9]{4}-[0-9]{2}-[0-9]{2}`, or with `-[0-9]{1,2}` parts and a time after `T`/`t`/spaces.
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &text[5..];
    let date_end = rest
        .char_indices()
        .find(|(_, c)| matches!(c, 'T' | 't' | ' ' | '\t'))
        .map_or(rest.len(), |(i, _)| i);
    let date: Vec<&str> = rest[..date_end].split('-').collect();
    let short = |s: &str| (1..=2).contains(&s.len()) && all(s, |c| c.is_ascii_digit());
    if date.len() != 2 || !short(date[0]) || !short(date[1]) {
        return false;
    }
    if date_end == rest.len() {
        return date[0].len() == 2 && date[1].len() == 2;
    }
    // A time follows: [0-9][0-9]?:[0-9][0-9]:[0-9][0-9](\.[0-9]*)?(zone)? — accept its start.
    let time = rest[date_end..].trim_start_matches(['T', 't', ' ', '\t']);
    let parts: Vec<&str> = time.splitn(3, ':').collect();
    parts.len() == 3 && short(parts[0]) && parts[1].len() == 2 && parts[2].len() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_repository_examples() {
        for (text, kind) in [
            ("~", Kind::Null),
            ("", Kind::Null),
            ("NULL", Kind::Null),
            ("y", Kind::Bool),
            ("No", Kind::Bool),
            ("on", Kind::Bool),
            ("OFF", Kind::Bool),
            ("0b1010_0111", Kind::Int),
            ("02472256", Kind::Int),
            ("0777", Kind::Int),
            ("685_230", Kind::Int),
            ("+685230", Kind::Int),
            ("0x_0A_74_AE", Kind::Int),
            ("190:20:30", Kind::Int),
            ("1:20", Kind::Int),
            ("0o17", Kind::Int),
            ("0x1F", Kind::Int),
            ("1_000", Kind::Int),
            ("12345678901234567890123", Kind::Int),
            ("-0", Kind::Int),
            ("6.8523015e+5", Kind::Float),
            ("685.230_15e+03", Kind::Float),
            ("685_230.15", Kind::Float),
            ("190:20:30.15", Kind::Float),
            ("-.inf", Kind::Float),
            (".NaN", Kind::Float),
            (".5", Kind::Float),
            ("1.10", Kind::Float),
            ("1e3", Kind::Float),
            ("1.", Kind::Float),
            ("2001-12-14", Kind::Timestamp),
            ("2001-12-14t21:59:43.10-05:00", Kind::Timestamp),
            ("2001-12-14 21:59:43.10 -5", Kind::Timestamp),
            ("2002-1-1 1:00:00", Kind::Timestamp),
            ("<<", Kind::Merge),
            ("=", Kind::Value),
            ("yes please", Kind::Str),
            ("0778", Kind::Str),
            ("1:60", Kind::Str),
            ("v1.2.3", Kind::Str),
            ("1.2.3", Kind::Float),
            ("example.org", Kind::Str),
            ("0x", Kind::Str),
            ("e3", Kind::Str),
            ("2001-12", Kind::Str),
            ("192.168.10.1", Kind::Float),
            ("-", Kind::Str),
            (".", Kind::Float),
            ("nan", Kind::Str),
            ("True", Kind::Bool),
            ("tRUE", Kind::Str),
        ] {
            assert_eq!(resolve(text), kind, "{text:?}");
        }
    }
}
