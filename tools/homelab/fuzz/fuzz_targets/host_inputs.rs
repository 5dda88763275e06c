#![no_main]
//! What a pull request can put in `nix/host-inputs.json` and in the `.nix` files `check`
//! reads, and what a host prints for its `/etc/homelab/inputs` link: each gives a value
//! or a located error, never a panic, and every path literal's span is the literal.

use homelab::lab::host_inputs::{parse_manifest, InputDigest};
use homelab::lab::host_inputs::nix_paths::relative_path_literals;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(entries) = parse_manifest(text) {
        assert!(entries.iter().all(|e| !e.is_empty() && !e.starts_with('/')));
    }
    if let Some(digest) = InputDigest::from_store_path(text) {
        assert_eq!(digest.as_str().len(), 67);
    }
    for (span, path) in relative_path_literals(text) {
        assert_eq!(&text[span.start..span.end], path);
    }
});
