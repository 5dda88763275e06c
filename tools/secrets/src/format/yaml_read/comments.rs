//! Where each comment goes: saphyr-parser drops comments, so they are found in the
//! source (a `#` outside every scalar's span) and filed as go-yaml + sops file them.

use std::collections::HashMap;

use saphyr_parser::Span;

use super::{Comment, Kind, Node};

/// Finds every comment in `src` that lies outside the scalars' spans.
pub(super) fn find_comments(src: &str, covered: &[Span]) -> Vec<Comment> {
    let mut by_line: HashMap<usize, Vec<(usize, usize)>> = HashMap::new();
    for span in covered {
        let (sl, sc, el, ec) = (
            span.start.line(),
            span.start.col(),
            span.end.line(),
            span.end.col(),
        );
        if sl == el {
            by_line.entry(sl).or_default().push((sc, ec));
        } else {
            by_line.entry(sl).or_default().push((sc, usize::MAX));
            for l in sl + 1..el {
                by_line.entry(l).or_default().push((0, usize::MAX));
            }
            by_line.entry(el).or_default().push((0, ec));
        }
    }
    let mut out = Vec::new();
    for (index, line) in src.split('\n').enumerate() {
        if !line.contains('#') {
            continue;
        }
        let line_no = index + 1;
        let ranges = by_line.get(&line_no);
        let chars: Vec<char> = line.trim_end_matches('\r').chars().collect();
        for (col, ch) in chars.iter().enumerate() {
            if *ch != '#' || (col > 0 && !chars[col - 1].is_whitespace()) {
                continue;
            }
            if ranges.is_some_and(|r| r.iter().any(|(s, e)| (*s..*e).contains(&col))) {
                continue;
            }
            let text: String = chars[col + 1..].iter().collect();
            out.push(Comment {
                line: line_no,
                col,
                trailing: chars[..col].iter().any(|c| !c.is_whitespace()),
                text: text.trim_end().to_string(),
            });
            break;
        }
    }
    out
}

fn item_lines(node: &Node) -> Vec<usize> {
    match &node.kind {
        Kind::Map(items) => items.iter().map(|(k, _)| k.line).collect(),
        Kind::Seq(items) => items.iter().map(|v| v.line).collect(),
        Kind::Scalar(_) => Vec::new(),
    }
}

fn child_mut(node: &mut Node, index: usize) -> Option<&mut Node> {
    match &mut node.kind {
        Kind::Map(items) => items.get_mut(index).map(|(_, v)| v),
        Kind::Seq(items) => items.get_mut(index),
        Kind::Scalar(_) => None,
    }
}

fn is_block_collection(node: &Node) -> bool {
    node.block && !matches!(node.kind, Kind::Scalar(_))
}

/// Where an item starts, in document order, and where it lives.
struct Entry {
    line: usize,
    col: usize,
    /// Child indices from the document root to the item's collection.
    path: Vec<usize>,
    index: usize,
    leaf: bool,
    in_seq: bool,
}

fn collect_entries(node: &Node, path: &mut Vec<usize>, out: &mut Vec<Entry>) {
    let in_seq = matches!(node.kind, Kind::Seq(_));
    let children: Vec<(usize, usize, &Node)> = match &node.kind {
        Kind::Map(items) => items.iter().map(|(k, v)| (k.line, k.col, v)).collect(),
        Kind::Seq(items) => items.iter().map(|v| (v.line, node.col, v)).collect(),
        Kind::Scalar(_) => Vec::new(),
    };
    for (index, (line, col, value)) in children.into_iter().enumerate() {
        out.push(Entry {
            line,
            col,
            path: path.clone(),
            index,
            leaf: !is_block_collection(value),
            in_seq,
        });
        if is_block_collection(value) {
            path.push(index);
            collect_entries(value, path, out);
            path.pop();
        }
    }
}

fn collection_at<'a>(root: &'a mut Node, path: &[usize]) -> Option<&'a mut Node> {
    let mut node = root;
    for index in path {
        node = child_mut(node, *index)?;
    }
    Some(node)
}

/// Files a comment the way go-yaml's head/line/foot comments come out of
/// sops: a comment indented no deeper than the next item is that item's head
/// comment; otherwise it is the foot comment of what precedes it — of a
/// list's last scalar item, of the document at its end, or of the deepest
/// mapping entry indented no deeper than the comment.
pub(super) fn place(root: &mut Node, comment: Comment) {
    if comment.trailing {
        return place_trailing(root, comment);
    }
    let mut entries = Vec::new();
    collect_entries(root, &mut Vec::new(), &mut entries);
    let next = entries.iter().find(|e| e.line > comment.line);
    let (path, at) = match next {
        Some(n) if comment.col <= n.col => (n.path.clone(), n.index),
        _ => match entries
            .iter()
            .rev()
            .find(|e| e.line < comment.line && e.leaf)
        {
            None => (Vec::new(), usize::MAX),
            Some(last) if last.in_seq => (last.path.clone(), last.index + 1),
            Some(_) if next.is_none() => (Vec::new(), usize::MAX),
            Some(last) => {
                let mut chosen = (Vec::new(), usize::MAX);
                for e in entries
                    .iter()
                    .filter(|e| e.line <= last.line && !e.in_seq && e.col <= comment.col)
                {
                    let on_path = last.path.starts_with(&e.path)
                        && last.path.get(e.path.len()).copied().unwrap_or(last.index) == e.index;
                    if on_path {
                        chosen = (e.path.clone(), e.index + 1);
                    }
                }
                chosen
            }
        },
    };
    if let Some(container) = collection_at(root, &path) {
        let at = at.min(item_lines(container).len());
        container.comments.push((at, comment.text));
    }
}

fn place_trailing(node: &mut Node, comment: Comment) {
    let lines = item_lines(node);
    let at = match lines.iter().rposition(|l| *l <= comment.line) {
        None => 0,
        Some(k) => {
            if let Some(child) = child_mut(node, k) {
                if is_block_collection(child) && child.line <= comment.line {
                    return place_trailing(child, comment);
                }
            }
            if lines[k] == comment.line {
                k
            } else {
                k + 1
            }
        }
    };
    node.comments.push((at, comment.text));
}
