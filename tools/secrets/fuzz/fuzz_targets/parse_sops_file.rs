//! Untrusted SOPS files: arbitrary bytes through the YAML and JSON readers,
//! the metadata parser, and decryption with a fixed key must never panic.
//! Run with `cargo +nightly fuzz run parse_sops_file` in tools/secrets.
#![no_main]

use homelab_secrets::document::{read_plain, EncryptedDocument};
use homelab_secrets::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Json] {
        let _ = read_plain(text, format);
        if let Ok(doc) = EncryptedDocument::parse(text, format) {
            let _ = doc.decrypt(&[0u8; 32]);
            let _ = doc.emit();
        }
    }
});
