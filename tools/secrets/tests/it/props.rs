//! Properties: random trees survive homelab encrypt → sops decrypt and
//! homelab encrypt → homelab decrypt; arbitrary bytes never panic a parser.

use homelab_secrets::document::{read_plain, EncryptedDocument};
use homelab_secrets::tree::{Item, Value};
use homelab_secrets::{CreationRule, Format};
use proptest::prelude::*;

use super::support::{require_sops, Lab};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z0-9 _:#'\"-]{0,12}".prop_map(Value::Str),
        "\\PC{0,8}".prop_map(Value::Str),
        any::<i64>().prop_map(Value::Int),
        (-1e12f64..1e12).prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

fn tree() -> impl Strategy<Value = Vec<Item>> {
    let value = leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Seq),
            prop::collection::btree_map(key(), inner, 1..4)
                .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| Item::pair(k, v)).collect())),
        ]
    });
    prop::collection::btree_map(key(), value, 1..5)
        .prop_map(|m| m.into_iter().map(|(k, v)| Item::pair(k, v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip_through_sops(items in tree(), json in any::<bool>()) {
        if !require_sops() {
            return Ok(());
        }
        let format = if json { Format::Json } else { Format::Yaml };
        let lab = Lab::new();
        // What the file says once read (JSON numbers are all floats).
        let written = homelab_secrets::document::write_plain(&[items], format).unwrap();
        let plain = homelab_secrets::document::write_plain(&read_plain(&written, format).unwrap(), format).unwrap();
        let rule = CreationRule::recipients(vec![lab.publics[0].clone()]);
        let enc = homelab_secrets::encrypt_text(&plain, format, &rule).unwrap();
        let name = if json { "p.json" } else { "p.yaml" };
        std::fs::write(lab.path(name), &enc).unwrap();
        let keys = lab.key_file(&[0]);
        let out = lab.sops(&["-d", name], &keys);
        prop_assert!(out.status.success(), "sops -d failed: {}\n{}", String::from_utf8_lossy(&out.stderr), enc);
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout).into_owned(), plain.clone());
        let ours = homelab_secrets::decrypt(&homelab_secrets::DecryptRequest {
            path: lab.path(name), extract: None, keys: lab.sources(&keys),
        }).unwrap();
        prop_assert_eq!(ours.to_string(), plain);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = read_plain(&text, Format::Yaml);
        let _ = read_plain(&text, Format::Json);
        let _ = EncryptedDocument::parse(&text, Format::Yaml);
        let _ = EncryptedDocument::parse(&text, Format::Json);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "([a-z]{1,3}|:|-| |\n|#|\\[|\\]|\\{|\\}|\"|'|\\||>|&a|\\*a|---|ENC\\[)*") {
        let _ = read_plain(&text, Format::Yaml);
        let _ = EncryptedDocument::parse(&text, Format::Yaml);
    }
}
