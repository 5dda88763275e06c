//! A host of the inventory written as Nix, laid out as nixfmt (RFC style) lays out
//! the reference lab's hosts: one attribute a line, a list of one element on one line,
//! longer lists one element a line, empty sets and lists as `{ }` and `[ ]`. Every
//! value is a quoted string with Nix's escapes, so no value can change the structure.

use std::fmt::Write as _;

use crate::inventory::{DiskUse, Host, TaintEffect};

/// `"…"` with `\`, `"` and `${` escaped.
fn quoted(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "\\${")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t");
    format!("\"{escaped}\"")
}

/// An attribute name: bare when Nix reads it as an identifier, quoted otherwise.
fn attr_name(name: &str) -> String {
    let mut chars = name.chars();
    let bare = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '\''))
        && !matches!(
            name,
            "assert" | "else" | "if" | "in" | "inherit" | "let" | "or" | "rec" | "then" | "with"
        );
    if bare {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// `key = [ … ];` in nixfmt's layout.
fn list(out: &mut String, indent: &str, key: &str, items: &[String]) {
    match items {
        [] => writeln!(out, "{indent}{key} = [ ];"),
        [one] => writeln!(out, "{indent}{key} = [ {one} ];"),
        _ => {
            let _ = writeln!(out, "{indent}{key} = [");
            for item in items {
                let _ = writeln!(out, "{indent}  {item}");
            }
            writeln!(out, "{indent}];")
        }
    }
    .expect("writing to a String cannot fail");
}

/// The host's attribute set as lines indented by `indent`, each ending in a newline.
pub(crate) fn render(name: &str, host: &Host, indent: &str) -> String {
    let inner = format!("{indent}  ");
    let mut out = format!("{indent}{} = {{\n", attr_name(name));
    let line = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "{inner}{key} = {};", quoted(value));
    };
    line(&mut out, "system", &host.system);
    let roles: Vec<String> = host.roles.iter().map(|r| quoted(r.as_str())).collect();
    list(&mut out, &inner, "roles", &roles);
    line(&mut out, "lanAddress", &host.lan_address.to_string());
    if let Some(address) = host.tailscale_address {
        line(&mut out, "tailscaleAddress", &address.to_string());
    }
    if let Some(address) = host.tailscale_address6 {
        line(&mut out, "tailscaleAddress6", &address.to_string());
    }
    if host.labels.is_empty() {
        let _ = writeln!(out, "{inner}labels = {{ }};");
    } else {
        let _ = writeln!(out, "{inner}labels = {{");
        for (key, value) in &host.labels {
            let _ = writeln!(out, "{inner}  {} = {};", attr_name(key), quoted(value));
        }
        let _ = writeln!(out, "{inner}}};");
    }
    let taints: Vec<String> = host
        .taints
        .iter()
        .map(|t| {
            let effect = match t.effect {
                TaintEffect::NoSchedule => "NoSchedule",
                TaintEffect::PreferNoSchedule => "PreferNoSchedule",
                TaintEffect::NoExecute => "NoExecute",
            };
            attr_set(
                &format!("{inner}  "),
                &[("key", &t.key), ("value", &t.value), ("effect", effect)],
            )
        })
        .collect();
    list(&mut out, &inner, "taints", &taints);
    let disks: Vec<String> = host
        .disks
        .iter()
        .map(|d| {
            let purpose = match d.purpose {
                DiskUse::CephOsd => "ceph-osd",
            };
            attr_set(
                &format!("{inner}  "),
                &[("device", &d.device), ("use", purpose)],
            )
        })
        .collect();
    list(&mut out, &inner, "disks", &disks);
    line(&mut out, "ssh", &host.ssh);
    let _ = writeln!(out, "{indent}}};");
    out
}

/// A list element `{ key = "value"; … }` spread over lines at `indent`.
fn attr_set(indent: &str, fields: &[(&str, &str)]) -> String {
    let mut out = String::from("{\n");
    for (key, value) in fields {
        let _ = writeln!(out, "{indent}  {key} = {};", quoted(value));
    }
    out.push_str(indent);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_leave_their_string() {
        assert_eq!(quoted("a\"b${c}\\"), r#""a\"b\${c}\\""#);
        assert_eq!(attr_name("homelab.dev/board"), "\"homelab.dev/board\"");
        assert_eq!(attr_name("role"), "role");
        assert_eq!(attr_name("1node"), "\"1node\"");
        assert_eq!(attr_name("in"), "\"in\"");
    }
}
