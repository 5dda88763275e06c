//! Source positions of inventory attributes, so errors about evaluated data can still
//! point at `hosts/inventory.nix:LINE:COLUMN`.
//!
//! Nix's `builtins.unsafeGetAttrPos` knows where each attribute was defined; the loader
//! evaluates a mirror tree of those positions beside the data in the same
//! `nix-instantiate` call, which costs nothing measurable.

use std::collections::HashMap;

use serde_json::Value;

/// Attribute path (`hosts.yomogi.lanAddress`, list items as `roles[1]`) → (line, column).
#[derive(Debug, Clone, Default)]
pub struct Positions {
    by_path: HashMap<String, (usize, usize)>,
}

/// The Nix expression producing `{ inventory; positions; }` for the file whose absolute
/// path arrives as `--argstr inventoryPath` (see [`super::restricted`]): a constant, so no
/// repository data is ever spliced into Nix source.
pub(crate) const EXPRESSION: &str = "{ inventoryPath }: let inv = import (/. + inventoryPath); \
     walk = v: if builtins.isAttrs v then builtins.mapAttrs (n: x: { p = builtins.unsafeGetAttrPos n v; c = walk x; }) v \
     else if builtins.isList v then map walk v else null; \
     in { inventory = inv; positions = walk inv; }";

impl Positions {
    /// Flattens the mirror tree evaluated by [`expression`].
    pub(crate) fn from_tree(tree: &Value) -> Self {
        let mut positions = Positions::default();
        positions.walk(tree, String::new());
        positions
    }

    fn walk(&mut self, node: &Value, prefix: String) {
        match node {
            Value::Object(attrs) => {
                for (name, entry) in attrs {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    if let Some(p) = entry.get("p") {
                        if let (Some(line), Some(col)) = (p["line"].as_u64(), p["column"].as_u64())
                        {
                            self.by_path
                                .insert(path.clone(), (line as usize, col as usize));
                        }
                    }
                    if let Some(child) = entry.get("c") {
                        self.walk(child, path);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, format!("{prefix}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = path;
        loop {
            if let Some(p) = self.by_path.get(path) {
                return Some(*p);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn falls_back_to_the_nearest_ancestor() {
        let tree = json!({ "hosts": { "p": {"line": 3, "column": 3}, "c": {
            "a": { "p": {"line": 4, "column": 5}, "c": { "roles": { "p": {"line": 5, "column": 7}, "c": [null] } } }
        }}});
        let p = Positions::from_tree(&tree);
        assert_eq!(p.find("hosts.a.roles[0]"), Some((5, 7)));
        assert_eq!(p.find("hosts.a.labels"), Some((4, 5)));
        assert_eq!(p.find("domain"), None);
    }

    #[test]
    fn the_expression_takes_the_path_as_an_argument() {
        assert!(EXPRESSION.starts_with("{ inventoryPath }:"));
        assert!(EXPRESSION.contains(super::super::restricted::PATH_ARGUMENT));
    }
}
