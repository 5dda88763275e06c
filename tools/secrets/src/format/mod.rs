//! File formats: YAML and JSON as sops reads and writes them, plus Go's
//! number and time formatting that sops's MAC depends on.

pub mod gofmt;
pub mod json;
pub mod resolve;
pub mod timestamp;
pub mod yaml_read;
mod yaml_scalar;
pub mod yaml_write;

use std::path::Path;

/// Which store a file uses, from its extension (as sops decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    /// `.json` is JSON; everything else is YAML.
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}
