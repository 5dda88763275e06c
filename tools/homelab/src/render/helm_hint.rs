//! Pointing a failed `helm template` back at the lab. Charts that pass a value
//! through Helm's `tpl` (vector's `customConfig`, grafana's dashboards) read any
//! `{{ … }}` in it as a Go template, so a value meant literally (a Vector or
//! Prometheus template) fails inside the chart with a message naming only the chart's
//! file. The hint names the value's key and the values file it came from, and how to
//! escape it.

use serde_json::Value;

/// A hint for `stderr` of a failed `helm template`, when a value of `merged` holds
/// template text that could be what failed. `files` are the release's values files
/// (as shown to the user, with their text), searched for the failing expression.
pub(crate) fn hint(stderr: &str, merged: &Value, files: &[(String, String)]) -> Option<String> {
    if !is_template_error(stderr) {
        return None;
    }
    let mut found = Vec::new();
    collect(merged, &mut String::new(), &mut found);
    let undefined = undefined_function(stderr);
    let (key, expression) = found
        .iter()
        .find(|(_, e)| undefined.is_some_and(|f| names_function(e, f)))
        .or_else(|| found.first())?;
    let file = files
        .iter()
        .find(|(_, text)| text.contains(expression.as_str()))
        .map(|(name, _)| format!(" (from {name})"))
        .unwrap_or_default();
    Some(format!(
        "the value `{key}`{file} holds `{expression}`, which a chart passing it through `tpl` evaluates as a Helm template; write `{{{{ \"{{{{\" }}}}` for each literal `{{{{` (e.g. `{{{{ \"{{{{\" }}}} kubernetes.pod_node_name }}}}`)"
    ))
}

fn is_template_error(stderr: &str) -> bool {
    stderr.contains("not defined")
        || stderr.contains("parse error")
        || stderr.contains("error calling tpl")
        || stderr.contains("executing \"")
}

/// `kubernetes` from `function "kubernetes" not defined`.
fn undefined_function(stderr: &str) -> Option<&str> {
    let rest = &stderr[stderr.find("function \"")? + "function \"".len()..];
    let name = &rest[..rest.find('"')?];
    rest[name.len()..]
        .trim_start_matches('"')
        .trim_start()
        .starts_with("not defined")
        .then_some(name)
}

fn names_function(expression: &str, function: &str) -> bool {
    expression
        .trim_start_matches("{{")
        .trim_start_matches('-')
        .trim_start()
        .starts_with(function)
}

/// Every string value holding `{{`: its dotted key and its first `{{ … }}`.
fn collect(value: &Value, key: &mut String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let len = key.len();
                if !key.is_empty() {
                    key.push('.');
                }
                key.push_str(k);
                collect(v, key, out);
                key.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                collect(v, key, out);
                key.truncate(len);
            }
        }
        Value::String(s) => {
            if let Some(start) = s.find("{{") {
                let end = s[start..].find("}}").map_or(s.len(), |e| start + e + 2);
                out.push((key.clone(), s[start..end].to_string()));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_undefined_function_is_traced_to_its_value_and_file() {
        let stderr = "Error: template: vector/templates/configmap.yaml:12:4: executing \"vector/templates/configmap.yaml\" at <tpl>: error calling tpl: function \"kubernetes\" not defined";
        let merged = json!({"image": {"tag": "0.45"}, "customConfig": {"sinks": {"loki": {
            "labels": {"node": "{{ kubernetes.pod_node_name }}", "app": "x"}}}}});
        let files = vec![
            (
                "releases/vector/values-prod.yaml".to_string(),
                "replicas: 1\n".to_string(),
            ),
            (
                "releases/vector/values.yaml".to_string(),
                "node: \"{{ kubernetes.pod_node_name }}\"\n".to_string(),
            ),
        ];
        let hint = hint(stderr, &merged, &files).expect("a hint");
        assert!(
            hint.starts_with("the value `customConfig.sinks.loki.labels.node` (from releases/vector/values.yaml) holds `{{ kubernetes.pod_node_name }}`"),
            "{hint}"
        );
        assert!(hint.contains("{{ \"{{\" }}"), "{hint}");
    }

    #[test]
    fn no_hint_without_template_text_or_for_other_errors() {
        let stderr = "Error: function \"kubernetes\" not defined";
        assert_eq!(hint(stderr, &json!({"a": "plain"}), &[]), None);
        assert_eq!(
            hint(
                "Error: chart requires kubeVersion",
                &json!({"a": "{{ x }}"}),
                &[]
            ),
            None
        );
        assert_eq!(undefined_function("function \"f\" not defined"), Some("f"));
        assert_eq!(undefined_function("function \"f\" failed"), None);
    }
}
