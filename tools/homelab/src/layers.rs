//! The layering of docs/architecture.md, checked: a module may use modules of its own
//! layer or below, never above. One crate cannot have the compiler enforce this, so
//! this test reads every `crate::…` path in the sources instead.

use std::path::{Path, PathBuf};

/// Each top-level module's layer, lowest first; `Lab` and `LoadOptions` are `lab`'s,
/// re-exported at the crate root.
const LAYERS: &[(&str, usize)] = &[
    ("diagnostic", 0),
    ("names", 0),
    ("toml_file", 0),
    ("environment", 0),
    ("inventory", 0),
    ("release", 0),
    ("charts", 0),
    ("paths", 0),
    ("lab", 1),
    ("Lab", 1),
    ("LoadOptions", 1),
    ("render", 2),
    ("generate", 2),
    ("export", 2),
    ("apply", 3),
    ("deploy", 3),
    ("hosts_admin", 3),
    ("import", 3),
    ("status", 3),
    ("cli", 4),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The `X` of every `crate::X` in `text`.
fn used_modules(text: &str) -> Vec<&str> {
    text.match_indices("crate::")
        .filter(|(i, _)| !text[..*i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under src/");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs"))
            .unwrap_or("");
        let Some(own) = layer(top) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for used in used_modules(&text) {
            match layer(used) {
                Some(l) if l > own => {
                    upward.push(format!("{} uses crate::{used}", relative.display()))
                }
                Some(_) => {}
                None => upward.push(format!(
                    "{} uses crate::{used}, which has no layer in src/layers.rs",
                    relative.display()
                )),
            }
        }
    }
    assert!(
        upward.is_empty(),
        "Modules use a layer above their own (see docs/architecture.md):\n{}",
        upward.join("\n")
    );
}

#[test]
fn finds_crate_paths() {
    assert_eq!(
        used_modules("use crate::render::x; crate::Lab::load(); my_crate::no"),
        ["render", "Lab"]
    );
}
