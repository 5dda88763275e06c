//! Every file a release names (values, overlays, manifests) resolves inside the release's
//! folder, symlinks followed; a local chart and every file in it, inside the repository. Names with `..` or a leading `/` are reported
//! by the release's own validation; missing files too.

use crate::diagnostic::Diagnostics;
use crate::release::model::ChartSource;
use crate::release::LoadedRelease;

use crate::paths::{self, PathError};

pub(super) fn check(root: &std::path::Path, releases: &[LoadedRelease]) -> Diagnostics {
    let mut problems = Diagnostics::default();
    for r in releases {
        let rel = r.release();
        let indexed = |field: &str, list: &'_ [String]| -> Vec<(String, String)> {
            list.iter()
                .enumerate()
                .map(|(i, f)| (format!("{field}[{i}]"), f.clone()))
                .collect()
        };
        let mut files = indexed("values", &rel.values);
        files.extend(indexed("manifests", &rel.manifests));
        for (env, overlay) in &rel.overlays {
            files.extend(indexed(&format!("overlays.{env}.values"), &overlay.values));
        }
        if let Some(ChartSource::Local { path }) = &rel.chart {
            let shown = r.display_dir().join(path);
            if let Err(e) = paths::resolve_chart(root, &r.dir, path, &shown.to_string_lossy()) {
                problems.push(
                    r.toml
                        .error_at("chart.path", paths::describe(&e))
                        .with_label("the chart and its files must stay inside the repository")
                        .with_help("copy the files into the chart instead of linking to them"),
                );
            }
        }
        for (field, file) in files {
            let shown = r.display_dir().join(&file);
            match paths::resolve_inside(&r.dir, &file, &shown.to_string_lossy()) {
                Ok(_) | Err(PathError::NotRelative { .. }) => {}
                Err(e) => problems.push(
                    r.toml
                        .error_at(&field, paths::describe(&e))
                        .with_label("must stay inside the release folder")
                        .with_help(
                            "copy the file into the release folder instead of linking to it",
                        ),
                ),
            }
        }
    }
    problems
}
