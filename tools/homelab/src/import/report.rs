//! What an import did and what it leaves to a person, each item with the Helmfile file
//! and line it comes from.

use std::fmt;

/// A message about one place in the Helmfile tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    /// Relative to the Helmfile's folder.
    pub file: String,
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl Located {
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> Located {
        Located {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// One imported release, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRelease {
    pub name: String,
    pub namespace: String,
    /// `repo-url name version` or `local chart`.
    pub chart: String,
    pub values: usize,
    /// Environments with an overlay.
    pub overlays: Vec<String>,
    /// Empty: every environment.
    pub environments: Vec<String>,
}

/// The outcome of reading a Helmfile, before or after writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub environments: Vec<String>,
    pub releases: Vec<ImportedRelease>,
    /// Carried over differently, or not at all, on purpose; nothing a person must do.
    pub notes: Vec<Located>,
    /// What a person must do before the lab is whole.
    pub steps: Vec<Located>,
}

impl Report {
    pub fn note(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.notes.push(Located::new(file, line, message));
    }

    pub fn step(&mut self, file: &str, line: usize, message: impl Into<String>) {
        self.steps.push(Located::new(file, line, message));
    }

    /// Sorted and without repeats (a Helmfile read once per environment reports the same
    /// problem once).
    pub fn finish(&mut self) {
        for list in [&mut self.notes, &mut self.steps] {
            list.sort();
            list.dedup();
        }
    }

    pub fn needs_a_person(&self) -> bool {
        !self.steps.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "environments: {}", self.environments.join(", "))?;
        writeln!(f, "releases ({}):", self.releases.len())?;
        for r in &self.releases {
            write!(
                f,
                "  {} (namespace {}): {}, {} values file(s)",
                r.name, r.namespace, r.chart, r.values
            )?;
            if !r.overlays.is_empty() {
                write!(f, ", overlays for {}", r.overlays.join(", "))?;
            }
            if !r.environments.is_empty() {
                write!(f, ", only in {}", r.environments.join(", "))?;
            }
            writeln!(f)?;
        }
        if !self.notes.is_empty() {
            writeln!(f, "notes ({}):", self.notes.len())?;
            for n in &self.notes {
                writeln!(f, "  {n}")?;
            }
        }
        if self.steps.is_empty() {
            writeln!(f, "nothing needs a person")
        } else {
            writeln!(f, "needs a person ({}):", self.steps.len())?;
            for s in &self.steps {
                writeln!(f, "  {s}")?;
            }
            Ok(())
        }
    }
}
