//! Globs in `helmfiles:` (`releases/*/helmfile.yaml`, `apps/**/helmfile.yaml`), expanded
//! inside the tree as Helmfile does: matches sorted, `*` and `?` within one path segment,
//! `**` across any number of folders. Every match goes through [`Tree::resolve`], so a
//! glob cannot reach outside the Helmfile's folder any more than a plain path can.

use super::report::Located;
use super::tree::Tree;

/// Whether a `helmfiles:` entry is a glob rather than one path.
pub(super) fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '[', '{'])
}

/// The files `pattern` (written in `from` at `line`) matches, tree-relative and sorted.
/// Character classes and braces are refused, naming the entry, rather than read wrongly.
pub(super) fn expand(
    tree: &Tree,
    from: &str,
    line: usize,
    pattern: &str,
) -> Result<Vec<String>, Located> {
    if pattern.starts_with('/') {
        return Err(Located::new(
            from,
            line,
            format!("`{pattern}` is an absolute path; use a path inside the Helmfile's folder"),
        ));
    }
    if pattern.contains(['[', '{']) {
        return Err(Located::new(
            from,
            line,
            format!("`{pattern}` uses `[…]` or `{{…}}`; only `*`, `?` and `**` are expanded: list the helmfiles one by one"),
        ));
    }
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let literal = segments.iter().take_while(|s| !is_glob(s)).count();
    let base = match literal {
        0 => tree.resolve(from, line, ".")?,
        n => tree.resolve(from, line, &segments[..n].join("/"))?,
    };
    let mut found = Vec::new();
    walk(tree, &base, &segments[literal..], &mut found);
    let mut matches = Vec::new();
    for candidate in found {
        // Resolved against the tree's root (a top-level `from`), so symlinks are checked.
        matches.push(tree.resolve("", line, &candidate).map_err(|mut e| {
            e.file = from.to_string();
            e
        })?);
    }
    matches.sort();
    matches.dedup();
    if matches.is_empty() {
        return Err(Located::new(
            from,
            line,
            format!("`{pattern}` matches no file in the Helmfile's folder"),
        ));
    }
    Ok(matches)
}

/// Collects the files under `dir` (tree-relative) that `rest` matches.
fn walk(tree: &Tree, dir: &str, rest: &[&str], found: &mut Vec<String>) {
    let Some((segment, tail)) = rest.split_first() else {
        if !dir.is_empty() && !tree.is_dir(dir) {
            found.push(dir.to_string());
        }
        return;
    };
    let join = |name: &str| match dir.is_empty() {
        true => name.to_string(),
        false => format!("{dir}/{name}"),
    };
    if *segment == "**" {
        walk(tree, dir, tail, found);
        for name in entries(tree, dir)
            .into_iter()
            .filter(|n| tree.is_dir(&join(n)))
        {
            walk(tree, &join(&name), rest, found);
        }
        return;
    }
    for name in entries(tree, dir) {
        if matches(segment, &name) {
            walk(tree, &join(&name), tail, found);
        }
    }
}

/// The names in a tree-relative folder; an unreadable folder has none.
fn entries(tree: &Tree, dir: &str) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(tree.path(dir)) else {
        return Vec::new();
    };
    read.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// `*` (any run of characters) and `?` (one character) against one path segment.
fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_match_stars_and_question_marks() {
        assert!(matches("*", "helmfile.yaml"));
        assert!(matches("helmfile*.yaml", "helmfile.prod.yaml"));
        assert!(matches("?pp", "app"));
        assert!(!matches("?pp", "apps"));
        assert!(!matches("*.yaml", "helmfile.yml"));
        assert!(matches("a*b*c", "aXbYbc"));
    }

    fn tree_with(files: &[&str]) -> (tempfile::TempDir, Tree) {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, "releases: []\n").expect("write");
        }
        let tree = Tree::new(dir.path()).expect("tree");
        (dir, tree)
    }

    #[test]
    fn a_glob_expands_sorted_inside_the_tree() {
        let (_dir, tree) = tree_with(&[
            "helmfile.yaml",
            "releases/b/helmfile.yaml",
            "releases/a/helmfile.yaml",
            "releases/a/values.yaml",
            "deep/x/y/helmfile.yaml",
        ]);
        let got = expand(&tree, "helmfile.yaml", 3, "releases/*/helmfile.yaml").expect("matches");
        assert_eq!(
            got,
            ["releases/a/helmfile.yaml", "releases/b/helmfile.yaml"]
        );
        let deep = expand(&tree, "helmfile.yaml", 3, "**/helmfile.yaml").expect("matches");
        assert_eq!(
            deep,
            [
                "deep/x/y/helmfile.yaml",
                "helmfile.yaml",
                "releases/a/helmfile.yaml",
                "releases/b/helmfile.yaml"
            ]
        );
    }

    #[test]
    fn no_match_and_escapes_are_refused_with_the_entry() {
        let (_dir, tree) = tree_with(&["helmfile.yaml"]);
        let none = expand(&tree, "helmfile.yaml", 4, "apps/*.yaml").unwrap_err();
        assert_eq!((none.file.as_str(), none.line), ("helmfile.yaml", 4));
        assert!(none.message.contains("matches no file"), "{}", none.message);
        let out = expand(&tree, "helmfile.yaml", 4, "../*/helmfile.yaml").unwrap_err();
        assert!(out.message.contains("leads out"), "{}", out.message);
        let class = expand(&tree, "helmfile.yaml", 4, "[ab]/helmfile.yaml").unwrap_err();
        assert!(
            class.message.contains("only `*`, `?` and `**`"),
            "{}",
            class.message
        );
    }
}
