//! Untrusted `.sops.yaml` (a pull request may change it): arbitrary bytes as the
//! creation rules file, looked up for a YAML and a JSON file, never panic; a rule
//! that loads then encrypts a small document or refuses its recipients with an error.
//! Run with `cargo +nightly fuzz run sops_rules` in tools/secrets.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use homelab_secrets::config::creation_rule;
use homelab_secrets::{encrypt_text, Format};
use libfuzzer_sys::fuzz_target;

/// A folder of this process's own: `creation_rule` reads the rules from a file.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sops-rules-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("secrets")).expect("create the fuzz folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let config = dir().join(".sops.yaml");
    std::fs::write(&config, data).expect("write .sops.yaml");
    for (name, format, doc) in [
        ("secrets/prod.yaml", Format::Yaml, "a: b\n"),
        ("secrets/hosts/x.json", Format::Json, "{\"a\": \"b\"}\n"),
    ] {
        if let Ok(rule) = creation_rule(&config, &dir().join(name)) {
            let _ = encrypt_text(doc, format, &rule);
        }
    }
});
