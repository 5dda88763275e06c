//! `{{x}}` keeps a value's type and text for YAML 1.1 (go-yaml: Helm, kubectl) and YAML
//! 1.2 readers alike; inside quotes the value is escaped for them, or refused.

use std::path::Path;

use handlebars::Context;
use homelab::render::template::{TemplateError, Templates};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::yaml11::{self, Kind};
use crate::support::TestLab;

fn render(text: &str, values: Value) -> Result<String, TemplateError> {
    Templates::new(json!({})).render(
        Path::new("releases/app/manifests/cm.yaml.hbs"),
        text,
        &Context::from(json!({ "values": values })),
    )
}

/// The cases, each printed at a value's start: exact output, and both readers
/// get the string back.
#[test]
fn strings_stay_strings() {
    let cases = [
        "1.10",
        "0x1F",
        "1e3",
        "0o17",
        "true",
        "on",
        "no",
        "y",
        "0777",
        "1_000",
        "1:20",
        ".5",
        "~",
        "null",
        "12345678901234567890123",
        "x: y",
        "hello world",
        "",
        "-1",
        "example.org",
    ];
    let mut out = String::new();
    for case in cases {
        let line = render("v: {{values.s}}", json!({ "s": case })).unwrap();
        let read: serde_norway::Value = serde_norway::from_str(&line).unwrap();
        assert_eq!(
            read["v"],
            serde_norway::Value::String(case.into()),
            "{line}"
        );
        out.push_str(&format!("{case:?} => {line}\n"));
    }
    insta::assert_snapshot!("strings_stay_strings", out);
}

#[test]
fn numbers_and_booleans_stay_what_they_are() {
    let out = render(
        "a: {{values.a}}\nb: {{values.b}}\nc: {{values.c}}\nd: {{values.d}}\ne: {{values.e}}\n",
        json!({"a": 30080, "b": true, "c": 1.5, "d": u64::MAX, "e": -7}),
    )
    .unwrap();
    assert_eq!(
        out,
        "a: 30080\nb: true\nc: 1.5\nd: 18446744073709551615\ne: -7\n"
    );
}

#[test]
fn quoted_expressions_are_escaped_for_their_quotes() {
    let values = json!({"b": "x: y", "a": "hello world", "q": "it's \"so\"\\", "n": 5});
    let out = render(
        "c: '{{values.b}}'\na: \"{{values.a}}\"\nq1: '{{values.q}}'\nq2: \"{{values.q}}\"\nn: \"{{values.n}}\"\nh: cloud.{{values.n}}.example\n",
        values,
    )
    .unwrap();
    insta::assert_snapshot!("quoted_expressions", out);
    let read: serde_norway::Mapping = serde_norway::from_str(&out).unwrap();
    assert_eq!(read["c"], "x: y");
    assert_eq!(read["a"], "hello world");
    assert_eq!(read["q1"], "it's \"so\"\\");
    assert_eq!(read["q2"], "it's \"so\"\\");
    assert_eq!(read["n"], "5");
}

#[test]
fn values_a_quoting_cannot_hold_are_refused_with_the_line() {
    let single = render("a: 1\nc: '{{values.b}}'\n", json!({"b": "two\nlines"})).unwrap_err();
    let inside = render("host: cloud.{{values.b}}\n", json!({"b": "a b"})).unwrap_err();
    let map = render("m: {{values}}\n", json!({"b": 1})).unwrap_err();
    insta::assert_snapshot!("refused_in_quotes", format!("{single}\n{inside}\n{map}\n"));
}

/// Through the whole pipeline: a values file, a manifest, `homelab render`.
#[test]
fn render_prints_the_strings_it_was_given() {
    let lab = TestLab::reference();
    lab.write(
        "releases/app/release.toml",
        "name = \"app\"\nnamespace = \"app\"\nmanifests = [\"manifests/cm.yaml.hbs\"]\n",
    );
    lab.write(
        "releases/app/manifests/cm.yaml.hbs",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  version: {{release.name}}-{{env}}\n  quoted: '{{inventory.domain}}'\n  dns: {{inventory.cluster.dnsDomain}}\n",
    );
    let run = lab.run(&["render", "-e", "dev", "-l", "name=app"]);
    run.expect_code(0);
    insta::assert_snapshot!("render_app", run.stdout_normalized());
}

/// A strategy for text that stresses both readers: YAML's special words and number shapes
/// as well as arbitrary Unicode.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+]?[0-9_.:xobeE]{0,8}",
        "(y|n|yes|no|on|off|true|false|null|~|Y|NO|On)",
        "[a-z0-9 :#'\"\\\\-]{0,10}",
    ]
}

proptest! {
    #[test]
    fn any_string_reads_back_exactly(text in tricky_text()) {
        let out = render("key: {{values.s}}\nnext: 1\n", json!({"s": text})).unwrap();
        let read: serde_norway::Mapping = serde_norway::from_str(&out).unwrap();
        prop_assert_eq!(read.len(), 2);
        prop_assert_eq!(&read["key"], &serde_norway::Value::String(text.clone()), "{}", out);
        let printed = out.lines().next().unwrap().strip_prefix("key: ").unwrap();
        if !printed.starts_with(['"', '\'']) {
            prop_assert_eq!(yaml11::resolve(printed), Kind::Str, "{}", printed);
            prop_assert_eq!(printed, text.as_str());
        }
    }

    #[test]
    fn any_string_survives_double_quotes(text in tricky_text()) {
        let out = render("key: \"{{values.s}}\"\n", json!({"s": text})).unwrap();
        let read: serde_norway::Mapping = serde_norway::from_str(&out).unwrap();
        prop_assert_eq!(&read["key"], &serde_norway::Value::String(text.clone()), "{}", out);
    }

    #[test]
    fn single_quotes_hold_a_string_or_refuse_it(text in tricky_text()) {
        match render("key: '{{values.s}}'\n", json!({"s": text})) {
            Ok(out) => {
                let read: serde_norway::Mapping = serde_norway::from_str(&out).unwrap();
                prop_assert_eq!(&read["key"], &serde_norway::Value::String(text.clone()), "{}", out);
            }
            Err(e) => prop_assert!(text.chars().any(|c| c.is_control() || !homelab::render::yaml_scalar::is_printable(c)), "{e}"),
        }
    }

    #[test]
    fn numbers_keep_their_type(n in any::<i64>(), u in any::<u64>(), b in any::<bool>()) {
        let out = render("a: {{values.n}}\nb: {{values.u}}\nc: {{values.b}}\n", json!({"n": n, "u": u, "b": b})).unwrap();
        let read: serde_norway::Mapping = serde_norway::from_str(&out).unwrap();
        prop_assert_eq!(read["a"].as_i64(), Some(n));
        prop_assert_eq!(read["b"].as_u64(), Some(u));
        prop_assert_eq!(read["c"].as_bool(), Some(b));
        for line in out.lines() {
            let printed = line.split_once(": ").unwrap().1;
            let kind = yaml11::resolve(printed);
            prop_assert!(matches!(kind, Kind::Int | Kind::Bool), "{} is {:?}", printed, kind);
        }
    }
}
