//! Evaluating the inventory with `nix-instantiate`, or reading its JSON form.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::Inventory;
use super::positions::{self, Positions};
use super::restricted;
use crate::diagnostic::{unknown_field_help, Diagnostic, Location, SourceFile, Span};

/// Overrides the `nix-instantiate` program (tests point it at a missing file).
pub(crate) const NIX_INSTANTIATE_ENV: &str = "HOMELAB_NIX_INSTANTIATE";

/// Where the inventory comes from.
#[derive(Debug, Clone)]
pub enum InventorySource {
    /// `hosts/inventory.nix`, evaluated without nixpkgs.
    Nix(PathBuf),
    /// The same data as JSON (`nix-instantiate --eval --strict --json` output).
    Json(PathBuf),
}

/// The inventory plus where it came from.
#[derive(Debug, Clone)]
pub struct LoadedInventory {
    pub inventory: Inventory,
    pub origin: InventoryOrigin,
}

/// What is needed to point at the inventory's source in diagnostics.
#[derive(Debug, Clone)]
pub struct InventoryOrigin {
    /// How diagnostics name the file (relative to the repository root).
    pub display_path: PathBuf,
    /// The `.nix` text, when the inventory came from Nix.
    pub file: Option<SourceFile>,
    pub positions: Positions,
}

impl InventoryOrigin {
    /// Where a field of the inventory was written: a snippet in the `.nix` file when Nix
    /// told us its position, otherwise the field's path.
    pub fn locate(&self, field: &str) -> Location {
        if let (Some(file), Some((line, column))) = (&self.file, self.positions.find(field)) {
            let start = file.offset_of(line, column);
            let end = file.text()[start..]
                .find(['=', '\n'])
                .map_or(start, |i| start + i)
                .max(start + 1);
            let trimmed_end = start + file.text()[start..end].trim_end().len();
            return Location::Source {
                file: file.clone(),
                span: Span::new(start, trimmed_end.max(start + 1)),
            };
        }
        Location::Field {
            path: self.display_path.clone(),
            field: field.to_string(),
        }
    }
}

/// Reads the inventory. `display_path` is how diagnostics name the file.
pub fn load(source: &InventorySource, display_path: &Path) -> Result<LoadedInventory, Diagnostic> {
    match source {
        InventorySource::Nix(path) => load_nix(path, display_path),
        InventorySource::Json(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| read_error(display_path, &e))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                let file = SourceFile::new(display_path, text.clone());
                let offset = file.offset_of(e.line(), e.column());
                Diagnostic::at(&file, Span::new(offset, offset + 1), format!("Invalid JSON: {e}"))
                    .with_label("the inventory must be a JSON object, as `nix-instantiate --eval --strict --json` prints it")
            })?;
            let origin = InventoryOrigin {
                display_path: display_path.to_path_buf(),
                file: None,
                positions: Positions::default(),
            };
            typed(value, origin)
        }
    }
}

/// Evaluates the inventory restricted to the repository: the folder that `display_path`
/// (the inventory's path relative to the repository root) is relative to.
fn load_nix(path: &Path, display_path: &Path) -> Result<LoadedInventory, Diagnostic> {
    let (root, inventory) = inside_repository(path, display_path)?;
    let text = std::fs::read_to_string(&inventory).map_err(|e| read_error(display_path, &e))?;
    let file = SourceFile::new(display_path, text);
    let program = std::env::var_os(NIX_INSTANTIATE_ENV).unwrap_or_else(|| "nix-instantiate".into());
    let output = restricted::command(&program, &root, &inventory, positions::EXPRESSION)
        .output()
        .map_err(|e| {
            let message = if e.kind() == ErrorKind::NotFound {
                format!(
                    "Nix is not installed: `{}` was not found on PATH",
                    program.to_string_lossy()
                )
            } else {
                format!("Failed to run `{}`: {e}", program.to_string_lossy())
            };
            Diagnostic::in_file(display_path, message).with_help(
                "install Nix (`apt-get install nix-bin`), or pass the inventory as JSON: \
                 `homelab --inventory inventory.json …` with the output of \
                 `nix-instantiate --eval --strict --json hosts/inventory.nix`",
            )
        })?;
    if !output.status.success() {
        return Err(nix_error(
            &file,
            &inventory,
            &String::from_utf8_lossy(&output.stderr),
        ));
    }
    let mut value: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        Diagnostic::in_file(
            display_path,
            format!("`nix-instantiate` printed invalid JSON: {e}"),
        )
    })?;
    let positions = Positions::from_tree(&value["positions"]);
    let origin = InventoryOrigin {
        display_path: display_path.to_path_buf(),
        file: Some(file),
        positions,
    };
    typed(value["inventory"].take(), origin)
}

/// The repository root and the inventory file, both with symlinks resolved; the file must
/// resolve to a place inside the root.
fn inside_repository(path: &Path, display_path: &Path) -> Result<(PathBuf, PathBuf), Diagnostic> {
    let mut root = path.to_path_buf();
    for _ in display_path.components() {
        root.pop();
    }
    if !path.ends_with(display_path) || display_path.is_absolute() {
        root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    let resolve = |p: &Path| std::fs::canonicalize(p).map_err(|e| read_error(display_path, &e));
    let (root, inventory) = (resolve(&root)?, resolve(path)?);
    if !inventory.starts_with(&root) {
        return Err(Diagnostic::in_file(
            display_path,
            format!(
                "The inventory resolves to {}, outside the repository",
                inventory.display()
            ),
        )
        .with_help(
            "a repository's files must stay inside it: replace the symlink with the file itself",
        ));
    }
    Ok((root, inventory))
}

/// Turns the evaluated data into the typed model, pointing type errors at their field.
fn typed(value: Value, origin: InventoryOrigin) -> Result<LoadedInventory, Diagnostic> {
    if !value.is_object() {
        return Err(Diagnostic::new(
            format!(
                "The inventory must evaluate to an attribute set, not {}",
                json_kind(&value)
            ),
            origin.locate(""),
        ));
    }
    match serde_path_to_error::deserialize::<_, Inventory>(value) {
        Ok(inventory) => Ok(LoadedInventory { inventory, origin }),
        Err(e) => {
            let field = nix_path(&e.path().to_string());
            let message = e.inner().to_string();
            let help = unknown_field_help(&message).or_else(|| {
                message.contains("IP address syntax").then(|| {
                    "write an address such as \"192.168.10.21\", or a network such as \"10.42.0.0/16\"".to_string()
                })
            });
            Err(Diagnostic::new(
                format!("Invalid inventory: {message}"),
                origin.locate(&field),
            )
            .with_help_opt(help))
        }
    }
}

/// serde_path_to_error prints `hosts.yomogi.roles[1]`; the root is `.`.
fn nix_path(path: &str) -> String {
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an attribute set",
    }
}

/// Nix reports `error: MESSAGE … at FILE:LINE:COLUMN:`; point at that place when it is
/// the inventory itself. A refusal of the restricted evaluation says what was refused.
fn nix_error(file: &SourceFile, absolute: &Path, stderr: &str) -> Diagnostic {
    let error = restricted::error_text(stderr);
    let message = error
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("error: "))
        .unwrap_or("evaluation failed")
        .trim()
        .to_string();
    let at = format!("at {}:", absolute.display());
    let position = stderr.lines().find_map(|l| {
        let rest = l.trim().strip_prefix(&at)?;
        let mut parts = rest.trim_end_matches(':').split(':');
        Some((
            parts.next()?.parse::<usize>().ok()?,
            parts.next()?.parse::<usize>().ok()?,
        ))
    });
    let (message, help) = match restricted::refusal(&message) {
        Some((refused, hint)) => (refused, Some(hint.to_string())),
        None => (message, None),
    };
    let text = format!("Failed to evaluate the inventory: {message}");
    match position {
        Some((line, column)) => {
            let start = file.offset_of(line, column);
            Diagnostic::at(file, Span::new(start, start + 1), text).with_help_opt(help)
        }
        None => Diagnostic::in_file(file.path(), text)
            .with_help(help.unwrap_or_else(|| format!("nix-instantiate said:\n{error}"))),
    }
}

fn read_error(path: &Path, e: &std::io::Error) -> Diagnostic {
    let d = Diagnostic::in_file(path, format!("Failed to read the inventory: {e}"));
    if e.kind() == ErrorKind::NotFound {
        d.with_help(
            "create `hosts/inventory.nix` (see the reference lab), or run from the repository root",
        )
    } else {
        d
    }
}
