//! Reading a typed TOML file while keeping where each value was written, so checks that
//! run after deserialisation (cycles, collisions, missing files) can still point at the
//! exact key in the file.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{unknown_field_help, Diagnostic, SourceFile, Span};

/// A deserialised TOML file with the spans of its values.
#[derive(Debug, Clone)]
pub struct TomlFile<T> {
    pub value: T,
    pub file: SourceFile,
    spans: HashMap<String, Span>,
}

impl<T: DeserializeOwned> TomlFile<T> {
    /// Parses `text` as `T`. `display_path` is how diagnostics name the file.
    pub fn parse(display_path: &Path, text: String, expected: &str) -> Result<Self, Diagnostic> {
        let file = SourceFile::new(display_path, text);
        let table = DeTable::parse(file.text()).map_err(|e| syntax_error(&file, &e))?;
        let mut spans = HashMap::new();
        index_table(table.get_ref(), "", &mut spans);
        let value = T::deserialize(toml::de::Deserializer::from(table))
            .map_err(|e| type_error(&file, &e, expected))?;
        Ok(TomlFile { value, file, spans })
    }
}

impl<T> TomlFile<T> {
    /// The span of the value at `path` (`chart.version`, `needs[1]`), or of its nearest
    /// ancestor, or the file's start.
    pub fn value_span(&self, path: &str) -> Span {
        self.lookup(path).unwrap_or(Span::new(0, 0))
    }

    /// A diagnostic pointing at the value at `path`.
    pub fn error_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(&self.file, self.value_span(path), message)
    }

    fn lookup(&self, path: &str) -> Option<Span> {
        let mut path = path;
        loop {
            if let Some(s) = self.spans.get(path) {
                return Some(*s);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

fn index_table(table: &DeTable<'_>, prefix: &str, spans: &mut HashMap<String, Span>) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        spans.insert(path.clone(), value.span().into());
        index_value(value.get_ref(), &path, spans);
    }
}

fn index_value(value: &DeValue<'_>, path: &str, spans: &mut HashMap<String, Span>) {
    match value {
        DeValue::Table(t) => index_table(t, path, spans),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                spans.insert(item_path.clone(), item.span().into());
                index_value(item.get_ref(), &item_path, spans);
            }
        }
        _ => {}
    }
}

fn syntax_error(file: &SourceFile, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().map_or(Span::new(0, 0), Span::from);
    Diagnostic::at(
        file,
        span,
        format!("Invalid TOML: {}", first_line(e.message())),
    )
}

fn type_error(file: &SourceFile, e: &toml::de::Error, expected: &str) -> Diagnostic {
    let span = e.span().map_or(Span::new(0, 0), Span::from);
    let message = first_line(e.message());
    Diagnostic::at(file, span, format!("Invalid {expected}: {message}"))
        .with_help_opt(unknown_field_help(message))
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}
