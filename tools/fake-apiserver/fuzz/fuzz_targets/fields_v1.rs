//! `fieldsV1` arrives from clients inside objects: parsing any JSON must not
//! panic, and what parses must survive a round trip.
#![no_main]

use fake_apiserver::apply::fieldset::{from_fields_v1, to_fields_v1};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let set = from_fields_v1(&v);
        assert_eq!(from_fields_v1(&to_fields_v1(&set)), set);
    }
});
