//! Disk device paths: they reach NixOS options and the Rook storage configuration, so
//! a path may name a device under /dev and nothing else.

/// The characters stable device names use (`/dev/disk/by-id/nvme-eui.0025_38b5…`,
/// `/dev/disk/by-path/pci-0000:00:1f.2-ata-1`).
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'/' | b'.' | b'_' | b'-' | b':' | b'+' | b'@' | b'=' | b','
        )
}

/// `/dev/…`: at most 255 characters from a conservative set (no whitespace, quotes or
/// `#`), no empty, `.` or `..` component.
pub(crate) fn check_disk_path(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("/dev/") else {
        return Err("must start with `/dev/`".into());
    };
    if s.len() > 255 {
        return Err(format!(
            "must be at most 255 characters long, not {}",
            s.len()
        ));
    }
    if rest
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err("must not have an empty, `.` or `..` component".into());
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii() || !is_path_char(*c as u8)) {
        return Err(format!(
            "contains {c:?}; a device path holds only letters, digits and `/._-:+@=,`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_paths() {
        assert!(check_disk_path("/dev/disk/by-id/ata-reference-lab-1tb-ssd").is_ok());
        assert!(check_disk_path("/dev/disk/by-path/pci-0000:00:1f.2-ata-1").is_ok());
        assert!(check_disk_path("/dev/../etc/passwd # x").is_err());
        assert!(check_disk_path("/dev/../etc/passwd").is_err());
        assert!(check_disk_path("/dev/sda ").is_err());
        assert!(check_disk_path("/dev/").is_err());
        assert!(check_disk_path("/dev//sda").is_err());
        assert!(check_disk_path("sda").is_err());
    }
}
