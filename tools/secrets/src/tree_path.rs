//! sops's index syntax for one place in a document: `["a"]["b"][0]`, as
//! `decrypt --extract`, `set` and `unset` take it.

use crate::error::{Error, Result};

/// One step into a document: a map key or a list index.
pub enum Step {
    Key(String),
    Index(usize),
}

pub fn parse_extract(arg: &str) -> Result<Vec<Step>> {
    let mut out = Vec::new();
    for component in arg.split('[').filter(|c| !c.is_empty()) {
        let inner = component.strip_suffix(']').ok_or_else(|| {
            Error::Extract(format!(
                "Invalid --extract path `{arg}`: component `{component}` doesn't end with `]`"
            ))
        })?;
        let quoted = inner.len() >= 2
            && ((inner.starts_with('"') && inner.ends_with('"'))
                || (inner.starts_with('\'') && inner.ends_with('\'')));
        if quoted {
            out.push(Step::Key(inner[1..inner.len() - 1].to_string()));
        } else {
            out.push(Step::Index(inner.parse().map_err(|_| {
                Error::Extract(format!("Invalid --extract path `{arg}`: `{inner}` is neither a quoted key nor an index"))
            })?));
        }
    }
    Ok(out)
}
