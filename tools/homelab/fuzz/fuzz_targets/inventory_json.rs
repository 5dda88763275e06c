#![no_main]
//! `--inventory FILE.json` reads whatever file it is given: any bytes give an inventory
//! or a diagnostic naming the field, never a panic.

use std::path::Path;

use homelab::inventory::{self, InventorySource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("homelab-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("inventory.json");
    if std::fs::write(&path, data).is_ok() {
        if let Ok(loaded) = inventory::load(&InventorySource::Json(path), Path::new("inventory.json")) {
            let _ = inventory::validate(&loaded, true);
        }
    }
});
