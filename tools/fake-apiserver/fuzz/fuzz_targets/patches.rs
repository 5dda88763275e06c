//! Patch bodies come from clients: merge, JSON and strategic patches of an
//! arbitrary document by an arbitrary patch must not panic.
#![no_main]

use fake_apiserver::patch::{json_patch, merge_patch, strategic_merge_patch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Array(pair)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (Some(doc), Some(patch)) = (pair.first(), pair.get(1)) else {
        return;
    };
    let mut a = doc.clone();
    let _ = json_patch(&mut a, patch);
    let mut b = doc.clone();
    merge_patch(&mut b, patch);
    let mut c = doc.clone();
    strategic_merge_patch(&mut c, patch);
});
