//! Arbitrary request bodies never crash the server: every answer is a
//! success or a Status with a client-error code.

use fake_apiserver::{Config, FakeApiServer};
use http::Method;
use proptest::prelude::*;
use serde_json::{json, Value};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z/.:-]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        let keys = prop_oneof![
            Just("apiVersion".to_owned()),
            Just("kind".to_owned()),
            Just("metadata".to_owned()),
            Just("name".to_owned()),
            Just("spec".to_owned()),
            Just("data".to_owned()),
            Just("status".to_owned()),
            Just("op".to_owned()),
            Just("path".to_owned()),
            "[a-z]{1,3}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const PATHS: &[&str] = &[
    "/api/v1/namespaces/default/configmaps/c",
    "/apis/apps/v1/namespaces/default/deployments/d",
    "/api/v1/namespaces/n",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
];

const TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_bodies_get_statuses(body in value(), path in 0..PATHS.len(), ty in 0..TYPES.len(), verb in 0..3usize) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let s = rt.block_on(FakeApiServer::start(Config::default())).unwrap();
        let path = PATHS[path];
        let bytes = body.to_string();
        // Make the object exist first so patches reach their code paths.
        let seed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}});
        s.apply_as("seed", &seed, false);
        let (code, answer) = match verb {
            0 => s.call(Method::PATCH, &format!("{path}?fieldManager=m"), TYPES[ty], bytes.as_bytes()),
            1 => s.call(Method::PUT, path, "application/json", bytes.as_bytes()),
            _ => {
                let collection = path.rsplit_once('/').unwrap().0;
                s.call(Method::POST, collection, "application/json", bytes.as_bytes())
            }
        };
        prop_assert!(matches!(code, 200 | 201 | 400 | 404 | 409 | 415 | 422), "{code} {answer}");
        if code >= 400 {
            prop_assert_eq!(&answer["kind"], "Status");
        }
    }
}
