//! A chart's files read without Helm, from its folder or its `.tgz`: to tell whether it
//! may read `.Capabilities.APIVersions`, and which CRDs it ships in `crds/` (its own and
//! its subcharts'), which `--include-crds` always prints unrendered. Archives in the
//! cache were checked when stored ([`crate::charts::archive`]); reading stays bounded
//! by the same limits all the same.

use std::io::Read as _;
use std::path::Path;

use crate::charts::archive::{MAX_ENTRIES, MAX_UNPACKED_BYTES};

const BLOCK: usize = 512;

/// A chart's files: (path inside the chart, content).
pub(crate) type Files = Vec<(String, Vec<u8>)>;

/// The chart's files as (path inside the chart, content); `None` when they cannot be
/// read (callers then assume the worst).
pub(crate) fn read(path: &Path) -> Option<Files> {
    if path.is_dir() {
        let mut out = Vec::new();
        folder(path, "", &mut out, 0)?;
        return Some(out);
    }
    let file = std::fs::File::open(path).ok()?;
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(file)
        .take(MAX_UNPACKED_BYTES * 2)
        .read_to_end(&mut tar)
        .ok()?;
    entries(&tar)
}

/// Whether the chart may test for one of `groups` in `.Capabilities.APIVersions`: a file
/// mentions `APIVersions` and one of the groups (a chart tests a literal such as
/// `"monitoring.coreos.com/v1"`), or it holds a packed subchart not read here.
pub(crate) fn may_test_for(files: &[(String, Vec<u8>)], groups: &[&str]) -> bool {
    let has = |bytes: &[u8], needle: &[u8]| {
        !needle.is_empty() && bytes.windows(needle.len()).any(|w| w == needle)
    };
    if files.iter().any(|(name, _)| name.ends_with(".tgz")) {
        return true;
    }
    let reads = files.iter().any(|(_, b)| has(b, b"APIVersions"));
    reads
        && groups
            .iter()
            .any(|g| files.iter().any(|(_, b)| has(b, g.as_bytes())))
}

/// The texts of the YAML and JSON files in the chart's `crds/` folders (its own and
/// each subchart's, as `--include-crds` prints them).
pub(crate) fn crd_files(files: &[(String, Vec<u8>)]) -> Vec<String> {
    files
        .iter()
        .filter(|(name, _)| in_crds_folder(name))
        .filter(|(name, _)| [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e)))
        .filter_map(|(_, bytes)| String::from_utf8(bytes.clone()).ok())
        .collect()
}

/// `crds/x.yaml` at the chart's root or a subchart's (`charts/sub/crds/x.yaml`); paths
/// are relative to the chart (an archive's leading folder already removed).
fn in_crds_folder(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    parts.iter().enumerate().any(|(i, part)| {
        *part == "crds" && i + 1 < parts.len() && (i == 0 || (i >= 2 && parts[i - 2] == "charts"))
    })
}

fn folder(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>, depth: usize) -> Option<()> {
    if depth > 16 || out.len() > MAX_ENTRIES {
        return None;
    }
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let kind = entry.file_type().ok()?;
        if kind.is_dir() {
            folder(&entry.path(), &format!("{name}/"), out, depth + 1)?;
        } else if kind.is_file() {
            out.push((name, std::fs::read(entry.path()).ok()?));
        }
    }
    Some(())
}

/// Regular files of a tar, with the chart's leading folder removed from each name.
fn entries(tar: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut long_name: Option<String> = None;
    let mut offset = 0;
    while offset + BLOCK <= tar.len() && out.len() <= MAX_ENTRIES {
        let header = &tar[offset..offset + BLOCK];
        if header.iter().all(|b| *b == 0) {
            break;
        }
        let size = octal(&header[124..136])?;
        let start = offset + BLOCK;
        let end = start.checked_add(size).filter(|e| *e <= tar.len())?;
        let data = &tar[start..end];
        offset = start + size.div_ceil(BLOCK) * BLOCK;
        match header[156] {
            b'L' => long_name = Some(text(data)),
            b'x' => long_name = pax_path(data).or(long_name.take()),
            b'0' | 0 => {
                let name = long_name.take().unwrap_or_else(|| ustar_name(header));
                let inside = name.split_once('/').map_or("", |(_, rest)| rest);
                out.push((inside.to_string(), data.to_vec()));
            }
            _ => long_name = None,
        }
    }
    Some(out)
}

fn octal(field: &[u8]) -> Option<usize> {
    let digits = text(field);
    let digits = digits.trim();
    if digits.is_empty() {
        return Some(0);
    }
    usize::from_str_radix(digits, 8).ok()
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn ustar_name(header: &[u8]) -> String {
    let name = text(&header[0..100]);
    let prefix = text(&header[345..500]);
    if prefix.is_empty() {
        name
    } else {
        format!("{prefix}/{name}")
    }
}

fn pax_path(data: &[u8]) -> Option<String> {
    text(data).lines().find_map(|line| {
        let (_, record) = line.split_once(' ')?;
        record.strip_prefix("path=").map(str::to_string)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_of_the_chart_and_its_subcharts_only() {
        assert!(in_crds_folder("crds/a.yaml"));
        assert!(in_crds_folder("charts/sub/crds/a.yaml"));
        assert!(in_crds_folder("charts/sub/charts/deeper/crds/a.yaml"));
        assert!(!in_crds_folder("templates/crds/a.yaml"));
        assert!(!in_crds_folder("crds"));
    }

    #[test]
    fn a_packed_chart_reads_like_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("c");
        std::fs::create_dir_all(chart.join("crds")).unwrap();
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            chart.join("crds/w.yaml"),
            "kind: CustomResourceDefinition\n",
        )
        .unwrap();
        std::fs::write(chart.join("templates/a.yaml"), "kind: A\n").unwrap();
        let from_folder = read(&chart).unwrap();
        assert_eq!(
            crd_files(&from_folder),
            vec!["kind: CustomResourceDefinition\n"]
        );
        assert!(!may_test_for(&from_folder, &["example.org"]));
        let tgz = dir.path().join("c.tgz");
        let mut archive = Vec::new();
        for (name, body) in [
            ("c/Chart.yaml", "apiVersion: v2\n"),
            ("c/crds/w.yaml", "kind: CustomResourceDefinition\n"),
            (
                "c/templates/a.yaml",
                "{{ .Capabilities.APIVersions.Has \"example.org/v1\" }}",
            ),
        ] {
            archive.push(crate::charts::archive::tests::entry(
                name,
                b'0',
                body.as_bytes(),
            ));
        }
        std::fs::write(&tgz, crate::charts::archive::tests::tgz(&archive)).unwrap();
        let from_archive = read(&tgz).unwrap();
        assert_eq!(
            crd_files(&from_archive),
            vec!["kind: CustomResourceDefinition\n"]
        );
        assert!(may_test_for(&from_archive, &["example.org"]));
        assert!(!may_test_for(&from_archive, &["other.io"]));
        assert!(read(&dir.path().join("missing.tgz")).is_none());
    }
}
