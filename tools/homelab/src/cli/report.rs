//! Printing diagnostics: miette's snippets on a terminal or in CI, JSON on request.

use std::fmt;
use std::io::IsTerminal;

use miette::{GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use super::OutputFormat;

use crate::diagnostic::{Diagnostic, Diagnostics, Location};

/// Renders every diagnostic with its snippet. Colour only on a terminal without
/// `NO_COLOR`, so logs and snapshots stay plain.
pub fn render_diagnostics(problems: &Diagnostics, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in problems.iter() {
        let mut one = String::new();
        if handler.render_report(&mut one, &Headline(d)).is_err() {
            one = format!("{d}\n");
        }
        out.push_str(&one);
        out.push('\n');
    }
    out.push_str(&format!("error: {problems}\n"));
    out
}

/// Prints diagnostics to stderr, or as a JSON document to stdout with `--output json`.
pub(crate) fn print_diagnostics(problems: &Diagnostics, format: OutputFormat) {
    match format {
        OutputFormat::Json => {
            let report = JsonReport {
                valid: false,
                problems: problems.iter().map(JsonProblem::from).collect(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
        }
        OutputFormat::Text => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", render_diagnostics(problems, color));
        }
    }
}

/// A diagnostic whose headline is its message alone when a snippet follows (the snippet's
/// header already names `file:line:column`), and position plus message otherwise.
#[derive(Debug)]
struct Headline<'a>(&'a Diagnostic);

impl fmt::Display for Headline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.location {
            Location::Source { .. } => f.write_str(&self.0.message),
            _ => self.0.fmt(f),
        }
    }
}

impl std::error::Error for Headline<'_> {}

impl miette::Diagnostic for Headline<'_> {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
}

#[derive(Serialize)]
struct JsonReport {
    valid: bool,
    problems: Vec<JsonProblem>,
}

#[derive(Serialize)]
struct JsonProblem {
    message: String,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    field: Option<String>,
    help: Option<String>,
}

impl From<&Diagnostic> for JsonProblem {
    fn from(d: &Diagnostic) -> Self {
        let mut p = JsonProblem {
            message: d.message.clone(),
            file: None,
            line: None,
            column: None,
            field: None,
            help: d.help.clone(),
        };
        match &d.location {
            Location::Source { file, span } => {
                let (line, column) = file.line_column(span.start);
                p.file = Some(file.path().display().to_string());
                p.line = Some(line);
                p.column = Some(column);
            }
            Location::Field { path, field } => {
                p.file = Some(path.display().to_string());
                p.field = Some(field.clone());
            }
            Location::File { path } => p.file = Some(path.display().to_string()),
            Location::None => {}
        }
        p
    }
}
