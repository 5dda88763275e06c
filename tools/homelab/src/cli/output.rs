//! Printing a rendered set: one YAML stream per release (`NN-<release>.yaml` in apply
//! order) or all of it at once. Key order is the objects' own; nothing depends on time,
//! paths outside the lab or hash-map order, so two runs are byte-identical.

use std::path::{Path, PathBuf};

use crate::render::yaml::to_yaml;
use crate::render::{RenderedRelease, RenderedSet};

/// The YAML stream of one release, each object headed by its source.
pub(crate) fn release_yaml(release: &RenderedRelease) -> String {
    let mut out = String::new();
    for object in &release.objects {
        out.push_str("---\n");
        out.push_str(&format!("# Source: {}\n", object.source));
        out.push_str(&to_yaml(&object.body));
    }
    out
}

/// The whole set as one stream, releases in apply order.
pub(crate) fn set_yaml(set: &RenderedSet) -> String {
    set.releases.iter().map(release_yaml).collect()
}

/// The file name of the `index`th of `count` releases: `00-traefik.yaml`; the number is
/// widened past 100 releases so names still sort in apply order.
pub(crate) fn release_file_name(index: usize, count: usize, release: &str) -> String {
    let width = count.saturating_sub(1).to_string().len().max(2);
    format!("{index:0width$}-{release}.yaml")
}

/// Writes one file per release into `dir` atomically and removes stale `NN-*.yaml` files
/// left by earlier renders. Returns the files written.
pub(crate) fn write_dir(set: &RenderedSet, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (index, release) in set.releases.iter().enumerate() {
        let path = dir.join(release_file_name(index, set.releases.len(), &release.name));
        crate::charts::atomic::write(&path, release_yaml(release).as_bytes())?;
        written.push(path);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let ours =
            digits >= 2 && name.as_bytes().get(digits) == Some(&b'-') && name.ends_with(".yaml");
        if ours && !written.contains(&path) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_sort_in_apply_order() {
        assert_eq!(release_file_name(0, 11, "traefik"), "00-traefik.yaml");
        assert_eq!(release_file_name(7, 200, "app"), "007-app.yaml");
        let mut names: Vec<String> = (0..150).map(|i| release_file_name(i, 150, "r")).collect();
        let in_order = names.clone();
        names.sort();
        assert_eq!(names, in_order);
    }
}
