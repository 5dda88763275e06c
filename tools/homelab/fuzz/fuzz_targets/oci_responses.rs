#![no_main]
//! What an OCI registry sends back (a `WWW-Authenticate` challenge, a manifest, a
//! lock entry's pinned reference) never panics its parser.

use homelab::charts::oci::{parse_manifest, OciRef};
use homelab::charts::oci::auth::parse_challenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_manifest(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_challenge(text);
        let _ = OciRef::parse_pinned(text);
        if let Some((repository, chart)) = text.split_once(' ') {
            let _ = OciRef::parse(repository, chart);
        }
    }
});
