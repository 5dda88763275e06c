//! Printing a rendered set: one YAML stream per release (`NN-<release>.yaml` in apply
//! order) or all of it at once. Key order is the objects' own; nothing depends on time,
//! paths outside the lab or hash-map order, so two runs are byte-identical.

use std::path::{Path, PathBuf};

use super::yaml::to_yaml;
use super::{RenderedRelease, RenderedSet};

/// The YAML stream of one release, each object headed by its source.
pub fn release_yaml(release: &RenderedRelease) -> String {
    let mut out = String::new();
    for object in &release.objects {
        out.push_str("---\n");
        out.push_str(&format!("# Source: {}\n", object.source));
        out.push_str(&to_yaml(&object.body));
    }
    out
}

/// The whole set as one stream, releases in apply order.
pub fn set_yaml(set: &RenderedSet) -> String {
    set.releases.iter().map(release_yaml).collect()
}

/// The file name of the `index`th release: `00-traefik.yaml`.
pub fn release_file_name(index: usize, release: &str) -> String {
    format!("{index:02}-{release}.yaml")
}

/// Writes one file per release into `dir` atomically and removes stale `NN-*.yaml` files
/// left by earlier renders. Returns the files written.
pub fn write_dir(set: &RenderedSet, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (index, release) in set.releases.iter().enumerate() {
        let path = dir.join(release_file_name(index, &release.name));
        crate::charts::atomic::write(&path, release_yaml(release).as_bytes())?;
        written.push(path);
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ours = name.len() > 3
            && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
            && &name[2..3] == "-"
            && name.ends_with(".yaml");
        if ours && !written.contains(&path) {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(written)
}
