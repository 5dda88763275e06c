//! Label and field selectors come from query strings: parsing and matching
//! must never panic.
#![no_main]

use fake_apiserver::selectors::{FieldSelector, LabelSelector};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let obj = serde_json::json!({"metadata": {"name": "x", "labels": {"a": "b"}}});
    if let Ok(l) = LabelSelector::parse(data) {
        let _ = l.matches(&obj);
    }
    if let Ok(f) = FieldSelector::parse(data) {
        let _ = f.matches(&obj);
    }
});
