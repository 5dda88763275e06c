//! What rendering gives: each release's objects in apply order, and the problems
//! that kept a release (or the whole set) from rendering.

use super::{Redactor, RenderedObject, Warning};

/// One release's objects in apply order.
#[derive(Debug, Clone)]
pub struct RenderedRelease {
    pub name: String,
    pub namespace: String,
    pub objects: Vec<RenderedObject>,
}

/// A problem that keeps a release (or the set) from rendering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", release.as_ref().map(|r| format!("release `{r}`: ")).unwrap_or_default())]
pub struct RenderProblem {
    pub release: Option<String>,
    pub message: String,
}

/// The rendered environment.
#[derive(Debug)]
pub struct RenderedSet {
    pub environment: String,
    /// The ApplySet id every object carries in `applyset.kubernetes.io/part-of`.
    pub applyset_id: String,
    /// Releases in apply (dependency) order; a release that failed is absent.
    pub releases: Vec<RenderedRelease>,
    pub warnings: Vec<Warning>,
    pub errors: Vec<RenderProblem>,
    /// Scrubs known plaintexts from any text before it is printed.
    pub redactor: Redactor,
}

impl RenderedSet {
    /// Every object in apply order.
    pub fn objects(&self) -> impl Iterator<Item = &RenderedObject> {
        self.releases.iter().flat_map(|r| r.objects.iter())
    }

    pub fn is_complete(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Why nothing could be rendered at all.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("Unknown environment `{env}`; environments are: {known}")]
    UnknownEnvironment { env: String, known: String },
    #[error("Unknown release `{name}` in the selector; releases in `{env}` are: {known}")]
    UnknownRelease {
        name: String,
        env: String,
        known: String,
    },
    #[error(transparent)]
    Lock(#[from] crate::charts::lock::LockError),
}
