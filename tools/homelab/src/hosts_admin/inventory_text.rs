//! Adding and removing one host's attribute set in the text of `hosts/inventory.nix`,
//! leaving every other byte — comments, blank lines, the other hosts' layout — as it
//! was. The `hosts` attribute set is found lexically (see [`super::nix_tokens`]); when
//! it cannot be found unambiguously nothing is changed and the error says where to
//! edit by hand.

use super::nix_tokens::{tokens, Kind, Token};

/// Why the text could not be changed, with the place (1-based line and column) to
/// look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextError {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) problem: String,
}

/// The `hosts = { … }` attribute set: its name token and the offsets of its braces.
struct HostsSet {
    name: usize,
    open: usize,
    close: usize,
}

fn error(text: &str, at: usize, problem: impl Into<String>) -> TextError {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    TextError {
        line,
        column,
        problem: problem.into(),
    }
}

/// The index of the `}` closing the `{` at token `open`.
fn matching(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Punct(b'{') => depth += 1,
            Kind::Punct(b'}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether token `i` names the attribute `name`, bare or quoted.
fn names(text: &str, t: &Token, name: &str) -> bool {
    let s = &text[t.start..t.end];
    match t.kind {
        Kind::Ident => s == name,
        Kind::Str => s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) == Some(name),
        Kind::Punct(_) => false,
    }
}

/// The one `hosts = {` among the top-level attributes of the file's outermost set.
fn hosts_set(text: &str, toks: &[Token]) -> Result<HostsSet, TextError> {
    let mut depth = 0usize;
    let mut found: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Punct(b'{') => depth += 1,
            Kind::Punct(b'}') => depth = depth.saturating_sub(1),
            _ if depth == 1 && names(text, t, "hosts") => {
                let prev = i.checked_sub(1).map(|p| toks[p].kind);
                if matches!(prev, Some(Kind::Punct(b'{' | b';'))) {
                    found.push(i);
                }
            }
            _ => {}
        }
    }
    let [name] = found[..] else {
        let (at, problem) = match found.get(1) {
            Some(&second) => (toks[second].start, "`hosts` is set more than once"),
            None => (0, "no top-level `hosts = { … };` attribute set was found"),
        };
        return Err(error(text, at, problem));
    };
    let shape = |k: usize, want: u8| toks.get(name + k).map(|t| t.kind) == Some(Kind::Punct(want));
    if !(shape(1, b'=') && shape(2, b'{')) {
        return Err(error(
            text,
            toks[name].start,
            "`hosts` is not written as `hosts = { … };` (an import, a merge or `hosts.<name> = …`)",
        ));
    }
    let close = matching(toks, name + 2)
        .ok_or_else(|| error(text, toks[name + 2].start, "the `hosts` set never closes"))?;
    Ok(HostsSet {
        name,
        open: name + 2,
        close,
    })
}

fn lex(text: &str) -> Result<Vec<Token>, TextError> {
    tokens(text).map_err(|u| error(text, u.at, "a string or comment that never ends"))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn indent_of(text: &str, at: usize) -> &str {
    let start = line_start(text, at);
    let line = &text[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Whether only spaces and tabs stand between the start of `at`'s line and `at`.
fn starts_line(text: &str, at: usize) -> bool {
    text[line_start(text, at)..at].trim().is_empty()
}

/// Whether a blank line stands between entries (the first and last pieces are the
/// rest of the `{` line and the start of the `}` line).
fn separated(body: &str) -> bool {
    let lines: Vec<&str> = body.split('\n').collect();
    lines.len() > 2
        && lines[1..lines.len() - 1]
            .iter()
            .any(|l| l.trim().is_empty())
}

/// `text` with a host added as the last entry of `hosts`: `render` gets the
/// indentation of the set's entries and returns the host's lines, each ending in `\n`.
pub(crate) fn insert_host(
    text: &str,
    render: impl Fn(&str) -> String,
) -> Result<String, TextError> {
    let toks = lex(text)?;
    let set = hosts_set(text, &toks)?;
    let (open, close) = (toks[set.open], toks[set.close]);
    let empty = set.close == set.open + 1;
    let first = toks[set.open + 1].start;
    let entry_indent = if !empty && starts_line(text, first) {
        indent_of(text, first).to_string()
    } else {
        format!("{}  ", indent_of(text, toks[set.name].start))
    };
    let block = render(&entry_indent);
    let body = &text[open.end..close.start];
    let mut out = String::with_capacity(text.len() + block.len() + 2);
    if starts_line(text, close.start) {
        let at = line_start(text, close.start);
        out.push_str(&text[..at]);
        // Entries separated by blank lines (the reference layout) get one before the new one.
        if separated(body) {
            out.push('\n');
        }
        out.push_str(&block);
        out.push_str(&text[at..]);
    } else {
        let keep = if empty { open.end } else { close.start };
        out.push_str(text[..keep].trim_end_matches([' ', '\t']));
        out.push('\n');
        out.push_str(&block);
        out.push_str(indent_of(text, toks[set.name].start));
        out.push_str(&text[close.start..]);
    }
    Ok(out)
}

/// `text` without host `name`'s entry, which must be `name = { … };` on lines of its
/// own inside `hosts`, as [`insert_host`] writes it. One blank line next to it goes too.
pub(crate) fn remove_host(text: &str, name: &str) -> Result<String, TextError> {
    let toks = lex(text)?;
    let set = hosts_set(text, &toks)?;
    let mut depth = 0usize;
    let mut entry = None;
    for i in set.open + 1..set.close {
        match toks[i].kind {
            Kind::Punct(b'{') => depth += 1,
            Kind::Punct(b'}') => depth -= 1,
            _ if depth == 0
                && names(text, &toks[i], name)
                && matches!(toks[i - 1].kind, Kind::Punct(b'{' | b';')) =>
            {
                entry = Some(i);
                break;
            }
            _ => {}
        }
    }
    let hosts_at = toks[set.name].start;
    let i = entry.ok_or_else(|| {
        error(
            text,
            hosts_at,
            format!("`hosts` has no entry `{name} = {{ … }};`"),
        )
    })?;
    let shape = |k: usize, want: u8| toks.get(i + k).map(|t| t.kind) == Some(Kind::Punct(want));
    let end = (shape(1, b'=') && shape(2, b'{'))
        .then(|| matching(&toks, i + 2))
        .flatten()
        .filter(|&c| shape(c - i + 1, b';'))
        .map(|c| toks[c + 1].end);
    let start = toks[i].start;
    let own_lines = |end: usize| {
        starts_line(text, start)
            && text[end..]
                .split('\n')
                .next()
                .is_some_and(|r| r.trim().is_empty())
    };
    let Some(end) = end.filter(|&e| own_lines(e)) else {
        return Err(error(
            text,
            start,
            format!("host `{name}`'s entry is not `{name} = {{ … }};` on lines of its own"),
        ));
    };
    let first = line_start(text, start);
    let last = text[end..].find('\n').map_or(text.len(), |n| end + n + 1);
    let blank_before = first > 0 && text[line_start(text, first - 1)..first].trim().is_empty();
    let next_line = text[last..].split('\n').next().unwrap_or("");
    let (first, last) = if blank_before && first >= 1 {
        (line_start(text, first - 1), last)
    } else if next_line.trim().is_empty() && last < text.len() {
        (first, (last + next_line.len() + 1).min(text.len()))
    } else {
        (first, last)
    };
    Ok(format!("{}{}", &text[..first], &text[last..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(indent: &str) -> String {
        format!("{indent}n4 = {{\n{indent}  ssh = \"root@n4\";\n{indent}}};\n")
    }

    #[test]
    fn the_reference_layout_gets_a_blank_line_and_the_entries_indent() {
        let text =
            "{\n  # hosts\n  hosts = {\n    a = {\n      x = 1;\n    };\n\n    b = { };\n  };\n}\n";
        let added = insert_host(text, block).unwrap();
        assert_eq!(
            added,
            "{\n  # hosts\n  hosts = {\n    a = {\n      x = 1;\n    };\n\n    b = { };\n\n    n4 = {\n      ssh = \"root@n4\";\n    };\n  };\n}\n"
        );
        assert_eq!(remove_host(&added, "n4").unwrap(), text);
        assert_eq!(
            remove_host(text, "a").unwrap(),
            "{\n  # hosts\n  hosts = {\n    b = { };\n  };\n}\n"
        );
    }

    #[test]
    fn comments_strings_and_dense_layouts_are_read_through() {
        let text = "{ /* hosts = { */ x = \"hosts = {\"; # hosts = {\n  hosts = { a = { y = ''}''; }; b = { }; }; z = 1; }\n";
        let added = insert_host(text, block).unwrap();
        assert_eq!(
            added,
            "{ /* hosts = { */ x = \"hosts = {\"; # hosts = {\n  hosts = { a = { y = ''}''; }; b = { };\n    n4 = {\n      ssh = \"root@n4\";\n    };\n  }; z = 1; }\n"
        );
        assert_eq!(
            remove_host(&added, "n4").unwrap(),
            "{ /* hosts = { */ x = \"hosts = {\"; # hosts = {\n  hosts = { a = { y = ''}''; }; b = { };\n  }; z = 1; }\n"
        );
    }

    #[test]
    fn an_empty_set_opens_up() {
        let added = insert_host("{\n  hosts = { };\n}\n", block).unwrap();
        assert_eq!(
            added,
            "{\n  hosts = {\n    n4 = {\n      ssh = \"root@n4\";\n    };\n  };\n}\n"
        );
    }

    #[test]
    fn what_cannot_be_found_unambiguously_is_refused_with_its_place() {
        let refused = |text: &str| insert_host(text, block).unwrap_err();
        assert_eq!(refused("{\n  a = 1;\n}\n").line, 1);
        let twice = refused("{\n  hosts = { };\n  hosts = { };\n}\n");
        assert_eq!((twice.line, twice.column), (3, 3));
        let imported = refused("{\n  hosts = import ./hosts.nix;\n}\n");
        assert_eq!((imported.line, imported.column), (2, 3));
        assert!(imported.problem.contains("not written as"), "{imported:?}");
        assert_eq!(refused("{\n  hosts = { a = \"x;\n}\n").line, 2);
    }

    #[test]
    fn removal_needs_the_shape_insertion_writes() {
        let text =
            "{\n  hosts = {\n    a = { x = 1; }; b = { };\n    c = import ./c.nix;\n  };\n}\n";
        let dense = remove_host(text, "a").unwrap_err();
        assert_eq!((dense.line, dense.column), (3, 5));
        assert!(remove_host(text, "c")
            .unwrap_err()
            .problem
            .contains("on lines of its own"));
        let missing = remove_host(text, "zz").unwrap_err();
        assert_eq!((missing.line, missing.column), (2, 3));
        let quoted = "{\n  hosts = {\n    \"1a\" = {\n      x = 1;\n    };\n  };\n}\n";
        assert_eq!(
            remove_host(quoted, "1a").unwrap(),
            "{\n  hosts = {\n  };\n}\n"
        );
    }
}
