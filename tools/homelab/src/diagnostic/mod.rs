//! Problems found in the user's files, located precisely enough to fix them.
//!
//! Loading and validation collect every problem they can instead of stopping at the
//! first, so one `homelab check` run shows the whole list. Each [`Diagnostic`] points at a
//! file and byte span (rendered as `path:line:column` with a snippet by miette at the CLI),
//! or, for data without source positions such as inventory JSON, at an object path.

mod source;
mod suggest;

use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) use source::{SourceFile, Span};
pub(crate) use suggest::{did_you_mean, unknown_field_help};

/// One problem: what is wrong, where, and how to fix it when that is obvious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub location: Location,
    /// Shown under the snippet: what was expected at this place.
    pub label: Option<String>,
    pub help: Option<String>,
}

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A span inside a file whose text we hold.
    Source { file: SourceFile, span: Span },
    /// A field of a structured document without positions (inventory JSON).
    Field { path: PathBuf, field: String },
    /// A whole file or folder.
    File { path: PathBuf },
    /// Nothing more precise than the repository.
    None,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, location: Location) -> Self {
        Diagnostic {
            message: message.into(),
            location,
            label: None,
            help: None,
        }
    }

    pub fn at(file: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        Self::new(
            message,
            Location::Source {
                file: file.clone(),
                span,
            },
        )
    }

    pub fn in_file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::new(
            message,
            Location::File {
                path: path.as_ref().to_path_buf(),
            },
        )
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// `path:line:column` (or the closest thing available), for one-line output.
    pub fn position(&self) -> String {
        match &self.location {
            Location::Source { file, span } => {
                let (line, col) = file.line_column(span.start);
                format!("{}:{line}:{col}", file.path().display())
            }
            Location::Field { path, field } => format!("{} ({field})", path.display()),
            Location::File { path } => path.display().to_string(),
            Location::None => String::new(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let position = self.position();
        if position.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{position}: {}", self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match &self.location {
            Location::Source { file, .. } => Some(file),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match &self.location {
            Location::Source { span, .. } => {
                let label = miette::LabeledSpan::new(self.label.clone(), span.start, span.len());
                Some(Box::new(std::iter::once(label)))
            }
            _ => None,
        }
    }
}

/// Every problem one load or validation found; empty means valid.
#[derive(Debug, Default, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Found {} problem{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was found, so callers can write `problems.into_result(x)?`.
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}
