#![no_main]
//! A repository index from the network never panics the parser or the version lookup.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = homelab::charts::index::RepoIndex::parse("http://fuzz", data) {
        for (name, entries) in &index.entries {
            let _ = index.newest(name, 3);
            for entry in entries {
                let _ = index.find("http://fuzz", name, &entry.version);
                let _ = entry.archive_url("http://fuzz", name);
            }
        }
    }
});
