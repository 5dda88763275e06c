//! Values merge with Helm's semantics: maps merge key by key, anything else (lists
//! included) is replaced by the later layer, and `null` removes a key.
//!
//! Chart releases hand the merged base + overlay values to `helm template`, which merges
//! them over the chart's defaults; there a `null` must survive so it deletes the chart's
//! default. [`merge`] therefore keeps nulls, and [`without_nulls`] drops them for the
//! native (manifest-only) renderer, which has no further layer.

use serde_json::{Map, Value};

/// Merges `layer` over `base` in place.
pub(crate) fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Object(base), Value::Object(layer)) => {
            for (key, value) in layer {
                match base.get_mut(&key) {
                    Some(existing @ Value::Object(_)) if value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, layer) => *base = layer,
    }
}

/// Merges layers in order, later over earlier, starting from an empty map.
pub(crate) fn merge_layers(layers: impl IntoIterator<Item = Value>) -> Value {
    let mut merged = Value::Object(Map::new());
    for layer in layers {
        if !layer.is_null() {
            merge(&mut merged, layer);
        }
    }
    merged
}

/// The same values with every null-valued map key removed, at any depth.
pub(crate) fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn maps_merge_lists_replace_null_deletes() {
        let base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}});
        let overlay = json!({"a": {"c": [3], "g": true}, "e": null});
        let merged = without_nulls(merge_layers([base, overlay]));
        assert_eq!(
            merged,
            json!({"a": {"b": 1, "c": [3], "g": true}, "d": "x"})
        );
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z]{0,3}".prop_map(Value::from),
        ]
    }

    fn tree() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn map_tree() -> impl Strategy<Value = Value> {
        prop::collection::btree_map("[a-c]", tree(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    /// The value the merge should give at `path`, computed independently: the last layer
    /// holding a non-map there wins, maps below it merge.
    fn expected_at<'a>(layers: &'a [Value], key: &str) -> Option<&'a Value> {
        layers.iter().rev().find_map(|l| l.get(key))
    }

    proptest! {
        #[test]
        fn later_scalars_and_lists_win(a in map_tree(), b in map_tree()) {
            let merged = merge_layers([a.clone(), b.clone()]);
            let layers = [a, b];
            for (key, value) in merged.as_object().unwrap() {
                let last = expected_at(&layers, key).unwrap();
                if !last.is_object() {
                    prop_assert_eq!(value, last);
                }
            }
        }

        #[test]
        fn every_key_of_every_layer_is_present(a in map_tree(), b in map_tree()) {
            let merged = merge_layers([a.clone(), b.clone()]);
            for layer in [&a, &b] {
                for key in layer.as_object().unwrap().keys() {
                    prop_assert!(merged.get(key).is_some());
                }
            }
        }

        /// Not associative (a map over a scalar replaces it, over a map it merges: that is
        /// Helm's rule too), but applying the same overlay twice changes nothing.
        #[test]
        fn applying_an_overlay_twice_is_idempotent(a in map_tree(), b in map_tree()) {
            let once = merge_layers([a.clone(), b.clone()]);
            prop_assert_eq!(merge_layers([once.clone(), b]), once);
        }

        #[test]
        fn merging_with_itself_changes_nothing(a in map_tree()) {
            prop_assert_eq!(merge_layers([a.clone(), a.clone()]), merge_layers([a]));
        }

        #[test]
        fn no_nulls_remain_in_maps(a in map_tree(), b in map_tree()) {
            fn has_null_key(v: &Value) -> bool {
                match v {
                    Value::Object(m) => m.values().any(|v| v.is_null() || has_null_key(v)),
                    Value::Array(items) => items.iter().any(has_null_key),
                    _ => false,
                }
            }
            prop_assert!(!has_null_key(&without_nulls(merge_layers([a, b]))));
        }
    }
}
