//! Field validation (test/integration/apiserver/field_validation_test.go,
//! KEP 2885): unknown and duplicate fields by `fieldValidation`.

use crate::support::*;

const CMS: &str = "/api/v1/namespaces/default/configmaps";
const BODY: &str = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","name":"c"},"data":{"a":"1"},"spec":{"foo":1}}"#;

async fn create(s: &fake_apiserver::ServerHandle, mode: &str) -> Resp {
    send(
        s.addr(),
        "POST",
        &format!("{CMS}?fieldValidation={mode}"),
        "application/json",
        BODY,
    )
    .await
    .unwrap()
}

fn warnings(r: &Resp) -> Vec<&str> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("warning"))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// testFieldValidationPost (Strict): BadRequest naming every problem.
#[tokio::test]
async fn strict_fails_on_unknown_and_duplicate_fields() {
    let s = quiet_server().await;
    let r = create(&s, "Strict").await;
    assert_eq!(r.status, 400, "{}", r.raw);
    assert_eq!(
        r.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: duplicate field \"metadata.name\", unknown field \"spec\""
    );
    assert!(s.get("", "configmaps", "default", "c").is_none());
}

/// testFieldValidationPost (Warn, the default, and Ignore): the object is
/// stored without the unknown field; Warn answers with 299 warnings.
#[tokio::test]
async fn warn_and_ignore_drop_unknown_fields() {
    let s = quiet_server().await;
    let r = create(&s, "Warn").await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert_eq!(
        warnings(&r),
        vec![
            r#"299 - "duplicate field \"metadata.name\"""#,
            r#"299 - "unknown field \"spec\"""#
        ]
    );
    assert!(r.body.get("spec").is_none());
    let patched = patch(
        &s,
        &format!("{CMS}/c"),
        "application/merge-patch+json",
        r#"{"data":{"b":"2"},"extra":{"x":1}}"#,
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.raw);
    assert_eq!(
        warnings(&patched),
        vec![r#"299 - "unknown field \"extra\"""#]
    );
    s.call(
        http::Method::DELETE,
        &format!("{CMS}/c"),
        "application/json",
        b"",
    );
    let r = create(&s, "Ignore").await;
    assert_eq!(r.status, 201, "{}", r.raw);
    assert!(warnings(&r).is_empty());
    let bad = create(&s, "Sometimes").await;
    assert_eq!(bad.status, 400);
}

/// Server-side apply converts the configuration to its typed form, which
/// fails on an undeclared field whatever `fieldValidation` says
/// (structuredmerge.go "failed to create typed patch object").
#[tokio::test]
async fn apply_fails_on_unknown_fields() {
    let s = quiet_server().await;
    let yaml = format!("{}  strategy: {{foo: 1}}\n", deployment(1, "nginx:1"));
    let r = apply(
        &s,
        &format!("{DEPLOY}?fieldValidation=Ignore"),
        "m",
        false,
        &yaml,
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.raw);
    assert_eq!(
        r.body["message"],
        "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.strategy.foo: field not declared in schema"
    );
}
