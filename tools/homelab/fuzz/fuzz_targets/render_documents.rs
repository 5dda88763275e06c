#![no_main]
//! Whatever helm prints, splitting it into sourced objects and printing them back never
//! panics, and what is printed reads back as the same objects.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(docs) = homelab::render::documents::split(text, "fuzz") {
        for doc in docs {
            let printed = homelab::render::emit::to_yaml(&doc.body);
            let back = homelab::render::yaml::parse_documents(&printed).expect("printed YAML parses");
            assert_eq!(back.first(), Some(&doc.body));
        }
    }
});
