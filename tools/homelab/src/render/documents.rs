//! Splitting a multi-document YAML stream into objects, each keeping the `# Source:`
//! template it came from (helm prints one before every document) so errors can name it.

use serde_json::Value;

use super::yaml::{parse_documents, YamlError};

/// One parsed object and the template that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedDocument {
    pub source: String,
    pub body: Value,
}

/// A document that is not valid YAML, or not an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct DocumentError {
    pub source_name: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Splits `text` on `---` lines; `# Source: X` lines name the documents after them.
/// Documents before any `# Source:` are named `default_source`. Lists (`kind: List`) are
/// flattened into their items.
pub fn split(text: &str, default_source: &str) -> Result<Vec<SourcedDocument>, DocumentError> {
    let mut out = Vec::new();
    let mut source = default_source.to_string();
    let mut chunk = String::new();
    let mut chunk_source = source.clone();
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            flush(&mut out, &chunk, &chunk_source)?;
            chunk.clear();
            chunk_source = source.clone();
            continue;
        }
        if let Some(named) = line.strip_prefix("# Source: ") {
            source = named.trim().to_string();
            if chunk.trim().is_empty() {
                chunk_source = source.clone();
            }
        }
        chunk.push_str(line);
        chunk.push('\n');
    }
    flush(&mut out, &chunk, &chunk_source)?;
    Ok(out)
}

/// Lines are counted in the template's rendered output, after its `# Source:` line.
fn flush(out: &mut Vec<SourcedDocument>, chunk: &str, source: &str) -> Result<(), DocumentError> {
    if chunk.trim().is_empty() {
        return Ok(());
    }
    let offset = usize::from(chunk.starts_with("# Source: "));
    let docs = parse_documents(chunk).map_err(|e: YamlError| DocumentError {
        source_name: source.to_string(),
        line: e.line.map(|l| l.saturating_sub(offset).max(1)),
        message: format!("invalid YAML: {}", e.message),
    })?;
    for body in docs {
        match body {
            Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
                for item in map
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    push_object(out, item.clone(), source)?;
                }
            }
            body => push_object(out, body, source)?,
        }
    }
    Ok(())
}

fn push_object(
    out: &mut Vec<SourcedDocument>,
    body: Value,
    source: &str,
) -> Result<(), DocumentError> {
    let error = |message: &str| DocumentError {
        source_name: source.to_string(),
        line: None,
        message: message.to_string(),
    };
    let Some(map) = body.as_object() else {
        return Err(error("a document is not a Kubernetes object (expected a map with apiVersion, kind and metadata.name)"));
    };
    for (field, present) in [
        (
            "apiVersion",
            map.get("apiVersion").and_then(Value::as_str).is_some(),
        ),
        ("kind", map.get("kind").and_then(Value::as_str).is_some()),
        (
            "metadata.name",
            body.pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty()),
        ),
    ] {
        if !present {
            return Err(error(&format!("the object has no `{field}`")));
        }
    }
    out.push(SourcedDocument {
        source: source.to_string(),
        body,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_sources() {
        let text = "---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# Source: c/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
        let docs = split(text, "?").unwrap();
        let sources: Vec<_> = docs.iter().map(|d| d.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "c/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/b.yaml"
            ]
        );
    }

    #[test]
    fn invalid_yaml_names_its_source_and_line() {
        let text = "---\n# Source: broken/templates/bad.yaml\napiVersion: v1\nkind: ConfigMap\ndata:\n  key: [unclosed\n";
        let err = split(text, "?").unwrap_err();
        assert_eq!(err.source_name, "broken/templates/bad.yaml");
        assert!(
            err.to_string().starts_with("broken/templates/bad.yaml:"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = split(&text, "x");
        }
    }
}
