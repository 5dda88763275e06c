//! Chart archives come from the internet: before one is cached or handed to Helm, every
//! entry of the gzipped tar is checked, and an archive that Helm (or any other unpacker)
//! could be tricked by is refused as a whole.
//!
//! Refused: names that are absolute, hold a `..` component or a backslash, or repeat an
//! earlier entry; links (symbolic or hard), devices and FIFOs; more than
//! [`MAX_ENTRIES`] entries or [`MAX_UNPACKED_BYTES`] of content (a decompression bomb).
//! The limits are Helm's own (`MaxDecompressedChartSize`), so no chart Helm loads is
//! refused for its size. Nothing is written to disk: the tar is read in memory.

use std::collections::BTreeSet;
use std::io::Read;

/// Helm's limit on a chart's decompressed size.
pub(crate) const MAX_UNPACKED_BYTES: u64 = 100 * 1024 * 1024;
/// Far above any real chart (rook-ceph has a few hundred files).
pub(crate) const MAX_ENTRIES: usize = 10_000;

const BLOCK: usize = 512;

/// Why an archive was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    #[error("it is not a gzipped tar archive ({0})")]
    NotTar(String),
    #[error("entry `{name}` {problem}")]
    Entry { name: String, problem: String },
    #[error("it unpacks to more than {} MiB (a decompression bomb?)", .0 / 1024 / 1024)]
    TooLarge(u64),
    #[error("it has more than {0} entries")]
    TooManyEntries(usize),
}

/// Checks every entry of the `.tgz` in `bytes`.
pub(crate) fn check(bytes: &[u8]) -> Result<(), ArchiveError> {
    check_within(bytes, MAX_UNPACKED_BYTES, MAX_ENTRIES)
}

fn check_within(bytes: &[u8], max_bytes: u64, max_entries: usize) -> Result<(), ArchiveError> {
    // Headers and padding add at most two blocks per entry beyond the content.
    let limit = max_bytes + (max_entries as u64 + 2) * 2 * BLOCK as u64;
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut tar)
        .map_err(|e| ArchiveError::NotTar(e.to_string()))?;
    if tar.len() as u64 > limit {
        return Err(ArchiveError::TooLarge(max_bytes));
    }
    entries(&tar, max_bytes, max_entries)
}

fn entries(tar: &[u8], max_bytes: u64, max_entries: usize) -> Result<(), ArchiveError> {
    let mut seen = BTreeSet::new();
    let mut total: u64 = 0;
    let mut long_name: Option<String> = None;
    let mut offset = 0;
    while offset + BLOCK <= tar.len() {
        let header = &tar[offset..offset + BLOCK];
        if header.iter().all(|b| *b == 0) {
            return Ok(());
        }
        let size = octal(&header[124..136])
            .ok_or_else(|| ArchiveError::NotTar("a header has an unreadable size".into()))?;
        let data_start = offset + BLOCK;
        let data_end = usize::try_from(size)
            .ok()
            .and_then(|s| data_start.checked_add(s))
            .filter(|end| *end <= tar.len())
            .ok_or_else(|| ArchiveError::NotTar("an entry is cut short".into()))?;
        let data = &tar[data_start..data_end];
        offset = data_start + (size as usize).div_ceil(BLOCK) * BLOCK;
        let kind = header[156];
        match kind {
            b'L' => {
                long_name = Some(text(data));
                continue;
            }
            b'x' => {
                long_name = pax_path(data).or(long_name);
                continue;
            }
            b'g' => continue,
            _ => {}
        }
        let name = long_name.take().unwrap_or_else(|| ustar_name(header));
        let refuse = |problem: &str| ArchiveError::Entry {
            name: name.clone(),
            problem: problem.into(),
        };
        match kind {
            b'0' | 0 | b'7' | b'5' => {}
            b'1' => {
                return Err(refuse(
                    "is a hard link; chart archives hold only files and folders",
                ))
            }
            b'2' => {
                return Err(refuse(
                    "is a symbolic link; chart archives hold only files and folders",
                ))
            }
            b'3' | b'4' => {
                return Err(refuse(
                    "is a device file; chart archives hold only files and folders",
                ))
            }
            b'6' => {
                return Err(refuse(
                    "is a FIFO; chart archives hold only files and folders",
                ))
            }
            other => {
                return Err(refuse(&format!(
                    "has the unknown type `{}`",
                    char::from(other).escape_default()
                )))
            }
        }
        check_name(&name).map_err(&refuse)?;
        if !seen.insert(name.trim_end_matches('/').to_string()) {
            return Err(refuse("appears twice"));
        }
        if seen.len() > max_entries {
            return Err(ArchiveError::TooManyEntries(max_entries));
        }
        total += size;
        if total > max_bytes {
            return Err(ArchiveError::TooLarge(max_bytes));
        }
    }
    Err(ArchiveError::NotTar(
        "it ends without the end-of-archive blocks".into(),
    ))
}

fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("has an empty name");
    }
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    if name.contains('\\') || name.contains('\0') {
        return Err("has a backslash or NUL in its name");
    }
    if name.split('/').any(|part| part == "..") {
        return Err("points outside the chart with `..`");
    }
    Ok(())
}

/// A ustar name: `prefix/name`, each NUL-terminated.
fn ustar_name(header: &[u8]) -> String {
    let name = text(&header[0..100]);
    let prefix = if &header[257..262] == b"ustar" {
        text(&header[345..500])
    } else {
        String::new()
    };
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// A size field: octal digits (space or NUL padded), or base-256 when the top bit is set.
fn octal(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        return field[1..]
            .iter()
            .try_fold(u64::from(field[0] & 0x7f), |n, b| {
                n.checked_mul(256)?.checked_add(u64::from(*b))
            });
    }
    let digits = text(field);
    let digits = digits.trim_matches([' ', '\0']);
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// The `path` record of a PAX extended header (`LEN path=VALUE\n` records).
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| {
        let (_, rest) = record.split_once(' ')?;
        rest.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// One tar entry: a ustar header (checksum included) and its padded content.
    pub(crate) fn entry(name: &str, kind: u8, content: &[u8]) -> Vec<u8> {
        let mut header = [0u8; BLOCK];
        header[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        header[100..107].copy_from_slice(b"0000644");
        header[124..135].copy_from_slice(format!("{:011o}", content.len()).as_bytes());
        header[156] = kind;
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
        header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        let mut out = header.to_vec();
        out.extend_from_slice(content);
        out.resize(BLOCK + content.len().div_ceil(BLOCK) * BLOCK, 0);
        out
    }

    pub(crate) fn tgz(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut tar: Vec<u8> = entries.concat();
        tar.extend_from_slice(&[0u8; 2 * BLOCK]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        gz.finish().unwrap()
    }

    fn refused(entries: &[Vec<u8>]) -> String {
        check(&tgz(entries)).unwrap_err().to_string()
    }

    #[test]
    fn a_plain_chart_passes() {
        let chart = [
            entry("app/", b'5', b""),
            entry("app/Chart.yaml", b'0', b"name: app\nversion: 1.0.0\n"),
            entry("app/templates/cm.yaml", b'0', b"kind: ConfigMap\n"),
        ];
        assert_eq!(check(&tgz(&chart)), Ok(()));
    }

    #[test]
    fn hostile_entries_are_named() {
        let ok = entry("app/Chart.yaml", b'0', b"name: app\n");
        assert_eq!(
            refused(&[ok.clone(), entry("app/../../x", b'0', b"x")]),
            "entry `app/../../x` points outside the chart with `..`"
        );
        assert_eq!(
            refused(&[entry("/etc/cron.d/x", b'0', b"x")]),
            "entry `/etc/cron.d/x` is an absolute path"
        );
        assert_eq!(
            refused(&[ok.clone(), entry("app/l", b'2', b"")]),
            "entry `app/l` is a symbolic link; chart archives hold only files and folders"
        );
        assert_eq!(
            refused(&[ok.clone(), entry("app/h", b'1', b"")]),
            "entry `app/h` is a hard link; chart archives hold only files and folders"
        );
        assert_eq!(
            refused(&[ok.clone(), entry("app/d", b'3', b"")]),
            "entry `app/d` is a device file; chart archives hold only files and folders"
        );
        assert_eq!(
            refused(&[ok.clone(), ok.clone()]),
            "entry `app/Chart.yaml` appears twice"
        );
        assert_eq!(
            refused(&[entry("app\\..\\x", b'0', b"")]),
            "entry `app\\..\\x` has a backslash or NUL in its name"
        );
    }

    #[test]
    fn long_names_are_checked_too() {
        let long = format!("app/{}/../../../etc/passwd", "d".repeat(120));
        let gnu = [
            entry("././@LongLink", b'L', long.as_bytes()),
            entry("app/short", b'0', b""),
        ];
        assert!(refused(&gnu).ends_with("points outside the chart with `..`"));
        let record = format!("path=/abs/{}\n", "p".repeat(100));
        let pax = format!("{} {record}", record.len() + 4);
        let pax = [
            entry("PaxHeader", b'x', pax.as_bytes()),
            entry("app/short", b'0', b""),
        ];
        assert!(
            refused(&pax).ends_with("is an absolute path"),
            "{}",
            refused(&pax)
        );
    }

    #[test]
    fn bombs_and_floods_are_refused() {
        const MIB: u64 = 1024 * 1024;
        let half = vec![0u8; MIB as usize / 2 + 1];
        let bomb = tgz(&[entry("app/a", b'0', &half), entry("app/b", b'0', &half)]);
        assert!(bomb.len() < 10_000, "{}", bomb.len());
        assert_eq!(
            check_within(&bomb, MIB, 10).unwrap_err().to_string(),
            "it unpacks to more than 1 MiB (a decompression bomb?)"
        );
        let zeros = tgz(&[entry("app/a", b'0', &vec![0u8; 8 * MIB as usize])]);
        assert_eq!(
            check_within(&zeros, MIB, 10),
            Err(ArchiveError::TooLarge(MIB))
        );
        let many: Vec<_> = (0..=10)
            .map(|i| entry(&format!("app/{i}"), b'0', b""))
            .collect();
        assert_eq!(
            check_within(&tgz(&many), MIB, 10).unwrap_err().to_string(),
            "it has more than 10 entries"
        );
        assert_eq!(MAX_UNPACKED_BYTES, 100 * MIB);
        assert!(check(b"not gzip")
            .unwrap_err()
            .to_string()
            .starts_with("it is not a gzipped tar archive"));
    }
}
