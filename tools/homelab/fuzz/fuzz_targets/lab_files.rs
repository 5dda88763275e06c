#![no_main]
//! `release.toml`, `environments.toml` and inventory JSON come from the user's editor:
//! whatever they hold, the loaders answer with a value or a located diagnostic, and
//! rendering that diagnostic never panics either.

use std::path::Path;

use homelab::environment::EnvironmentsFile;
use homelab::release::Release;
use homelab::toml_file::TomlFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let problems: Vec<homelab::diagnostic::Diagnostic> = [
        TomlFile::<Release>::parse(Path::new("release.toml"), text.to_string(), "release").err(),
        TomlFile::<EnvironmentsFile>::parse(Path::new("environments.toml"), text.to_string(), "environments file").err(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let rendered = homelab::cli::render_diagnostics(&homelab::diagnostic::Diagnostics(problems), false);
    assert!(rendered.starts_with("  × ") || rendered.starts_with("error: Found 0"));
});
