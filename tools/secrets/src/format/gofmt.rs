//! Go's number formatting, byte for byte: sops stringifies floats with
//! `strconv.FormatFloat(f, 'f', -1, 64)` for the MAC and the ciphertext,
//! go-yaml prints them with `'g'`, and `encoding/json` with its own rule.

/// Shortest round-trip digits of `|v|` and the position of the decimal point
/// (Go's `decimal.dp`): value = 0.DIGITS × 10^dp. Zero gives ("", 0).
fn shortest(v: f64) -> (String, i32) {
    if v == 0.0 {
        return (String::new(), 0);
    }
    let shortest = format!("{:e}", v.abs());
    // Rust picks the shortest digits but breaks an exact tie upwards; Go (like
    // Python and Ryu) rounds half to even. Re-rounding to the same number of digits
    // with exact formatting, which ties to even, gives Go's digits whenever they
    // still read back as `v` (e.g. -588912105896.15625 → …1562, not …1563).
    let count = shortest
        .split('e')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    let even = format!("{:.*e}", count.saturating_sub(1), v.abs());
    let s = if even.parse::<f64>() == Ok(v.abs()) {
        even
    } else {
        shortest
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

fn sign(v: f64) -> &'static str {
    if v.is_sign_negative() {
        "-"
    } else {
        ""
    }
}

fn fixed(digits: &str, dp: i32) -> String {
    let nd = digits.len() as i32;
    if digits.is_empty() {
        "0".to_string()
    } else if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if nd <= dp {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

fn exponent(digits: &str, dp: i32, min_exp_digits: usize) -> String {
    let (first, rest) = if digits.is_empty() {
        ("0", "")
    } else {
        digits.split_at(1)
    };
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    let mut out = first.to_string();
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    let (esign, eabs) = if exp < 0 { ('-', -exp) } else { ('+', exp) };
    out.push('e');
    out.push(esign);
    out.push_str(&format!("{:0width$}", eabs, width = min_exp_digits));
    out
}

/// `strconv.FormatFloat(v, 'f', -1, 64)`.
pub fn format_f(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    let (digits, dp) = shortest(v);
    format!("{}{}", sign(v), fixed(&digits, dp))
}

/// `strconv.FormatFloat(v, 'g', -1, 64)`.
pub fn format_g(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.to_string();
    }
    let (digits, dp) = shortest(v);
    let exp = dp - 1;
    let body = if !digits.is_empty() && !(-4..6).contains(&exp) {
        exponent(&digits, dp, 2)
    } else {
        fixed(&digits, dp)
    };
    format!("{}{}", sign(v), body)
}

/// How go-yaml prints a float.
pub fn yaml_float(v: f64) -> String {
    match format_g(v).as_str() {
        "+Inf" => ".inf".into(),
        "-Inf" => "-.inf".into(),
        "NaN" => ".nan".into(),
        s => s.into(),
    }
}

/// How `encoding/json` prints a float (`None` for NaN and infinities, which
/// it refuses).
pub fn json_float(v: f64) -> Option<String> {
    if special(v).is_some() {
        return None;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (digits, dp) = shortest(v);
        let e = exponent(&digits, dp, 2);
        // Go trims "e-07" to "e-7".
        let e = match e.find("e-0") {
            Some(i) if e.len() - i == 4 => format!("{}e-{}", &e[..i], &e[i + 3..]),
            _ => e,
        };
        Some(format!("{}{}", sign(v), e))
    } else {
        Some(format_f(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go() {
        assert_eq!(format_f(1.5e10), "15000000000");
        assert_eq!(format_f(-0.0), "-0");
        assert_eq!(format_f(0.0), "0");
        assert_eq!(format_f(2.5), "2.5");
        // An exact tie between two shortest forms: Go rounds half to even.
        let tie: f64 = "-588912105896.15625".parse().unwrap();
        assert_eq!(format_f(tie), "-588912105896.1562");
        assert_eq!(format_g(tie), "-5.889121058961562e+11");
        assert_eq!(format_f(1e-7), "0.0000001");
        assert_eq!(format_f(f64::INFINITY), "+Inf");
        assert_eq!(format_g(1.5e10), "1.5e+10");
        assert_eq!(format_g(100000.0), "100000");
        assert_eq!(format_g(1000000.0), "1e+06");
        assert_eq!(format_g(0.0001), "0.0001");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(-0.0), "-0");
        assert_eq!(format_g(123456789.0), "1.23456789e+08");
        assert_eq!(json_float(1e21).as_deref(), Some("1e+21"));
        assert_eq!(json_float(1e-7).as_deref(), Some("1e-7"));
        assert_eq!(json_float(1.0).as_deref(), Some("1"));
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
    }
}
