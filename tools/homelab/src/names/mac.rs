//! MAC addresses (`hosts.<name>.mac`), which become a Wake-on-LAN magic packet, and
//! network interface names (`hosts.<name>.interface`), which become a NixOS option's
//! attribute name (`networking.interfaces.<name>`) and a systemd unit name.

/// Six two-digit hex bytes separated by `:` (either case); the broadcast and all-zero
/// addresses name no card, and a group address (low bit of the first byte) none either.
pub(crate) fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    let hex = |p: &&str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit());
    if parts.len() != 6 || !parts.iter().all(hex) {
        return Err("must be six hex bytes separated by `:`, such as `3c:7c:3f:1a:2b:4d`".into());
    }
    let mut mac = [0u8; 6];
    for (byte, part) in mac.iter_mut().zip(&parts) {
        *byte = u8::from_str_radix(part, 16).map_err(|e| e.to_string())?;
    }
    if mac == [0; 6] {
        return Err("must not be all zeros".into());
    }
    if mac[0] & 1 == 1 {
        return Err("is a group (multicast or broadcast) address, not a network card's".into());
    }
    Ok(mac)
}

pub(crate) fn check_mac(s: &str) -> Result<(), String> {
    parse_mac(s).map(drop)
}

/// A Linux interface name as NixOS configures it: 1 to 15 characters, lowercase
/// letters, digits, `_`, `.` and `-`, starting with a letter (`enp1s0`, `end0`, `eth0`).
pub(crate) fn check_interface(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 15 {
        return Err(format!("must be 1 to 15 characters long, not {}", s.len()));
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(*c)))
    {
        return Err(format!(
            "contains {c:?}; an interface name holds only lowercase letters, digits and `_.-`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("3c:7C:3f:1a:2b:4d"),
            Ok([0x3c, 0x7c, 0x3f, 0x1a, 0x2b, 0x4d])
        );
        for bad in [
            "3c-7c-3f-1a-2b-4d",
            "3c:7c:3f:1a:2b",
            "3c:7c:3f:1a:2b:4d:00",
            "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00",
            "01:00:5e:00:00:01",
            "3c:7c:3f:1a:2b:4g",
            "",
        ] {
            assert!(parse_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn interfaces() {
        assert!(check_interface("enp1s0").is_ok());
        assert!(check_interface("end0").is_ok());
        for bad in [
            "",
            "eth0\"",
            "Eth0",
            "0eth",
            "a-very-long-interface",
            "-eth0",
        ] {
            assert!(check_interface(bad).is_err(), "{bad}");
        }
    }
}
