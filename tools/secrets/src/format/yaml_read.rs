//! Reads YAML into sops's tree, comments included.
//!
//! Parsing is saphyr-parser's (a maintained, spec-tested YAML 1.2 event
//! parser); it drops comments, so this module finds them in the source
//! itself (a `#` outside every scalar's span, at a line start or after a
//! blank) and files each one where go-yaml + sops would (see [`place`]): a
//! comment at the end of a line goes before the item on that line. The
//! comment's position decides the
//! AAD sops uses to encrypt it, so this must agree with sops for comments to
//! interoperate.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::resolve::{self, OutOfRange};
use crate::error::{Error, Result};
use crate::tree::{Branches, Item, Key, Value};

#[derive(Clone, Debug)]
enum Kind {
    Scalar(Value),
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
}

#[derive(Clone, Debug)]
struct Node {
    kind: Kind,
    line: usize,
    col: usize,
    block: bool,
    /// Comments to put before item `index` (`index == len` means at the end).
    comments: Vec<(usize, String)>,
}

struct Comment {
    line: usize,
    col: usize,
    trailing: bool,
    text: String,
}

fn syntax(line: usize, column: usize, message: impl Into<String>) -> Error {
    Error::Syntax {
        format: "YAML",
        line,
        column,
        message: message.into(),
    }
}

/// Reads every document of a YAML stream. `check_duplicates` refuses a key
/// given twice in one mapping (as sops does for plaintext input).
pub fn read(src: &str, check_duplicates: bool) -> Result<Branches> {
    let mut parser = Parser::new_from_str(src);
    let mut covered: Vec<Span> = Vec::new();
    let mut docs: Vec<(usize, Option<Node>)> = Vec::new();
    let mut stack: Vec<(Node, Option<Node>, usize)> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    while let Some(event) = parser.next_event() {
        let (event, span) =
            event.map_err(|e| syntax(e.marker().line(), e.marker().col() + 1, e.info()))?;
        let (line, col) = (span.start.line(), span.start.col());
        let node = match event {
            Event::DocumentStart(_) => {
                docs.push((line, None));
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                covered.push(span);
                let value = scalar(&text, style, tag.as_deref())
                    .map_err(|_| syntax(line, col + 1, format!("integer `{text}` does not fit in 64 bits; quote it to keep it a string")))?;
                let node = leaf(value, line, col);
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Alias(id) => anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| syntax(line, col + 1, "alias to an unknown anchor"))?,
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                let kind = if matches!(event, Event::MappingStart(..)) {
                    Kind::Map(Vec::new())
                } else {
                    Kind::Seq(Vec::new())
                };
                let block = span.start.index() == span.end.index();
                let node = Node {
                    kind,
                    line,
                    col,
                    block,
                    comments: Vec::new(),
                };
                stack.push((node, None, anchor));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some((node, _, anchor)) = stack.pop() else {
                    continue;
                };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => {
                if let Some(doc) = docs.last_mut() {
                    doc.1 = Some(node);
                }
            }
            Some((parent, pending_key, _)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(items) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => {
                        if check_duplicates {
                            check_unique(items, &key)?;
                        }
                        items.push((key, node));
                    }
                },
                Kind::Scalar(_) => {}
            },
        }
    }
    let comments = find_comments(src, &covered);
    let mut roots = Vec::with_capacity(docs.len());
    for (start, root) in &docs {
        let root = match root {
            None => empty_root(*start),
            Some(node) => match &node.kind {
                Kind::Map(_) => node.clone(),
                Kind::Scalar(Value::Null) => empty_root(*start),
                Kind::Seq(_) => {
                    return Err(Error::Unsupported(
                        "YAML documents that are sequences are not supported; the top level must be a mapping".into(),
                    ))
                }
                Kind::Scalar(_) => {
                    return Err(Error::Unsupported(
                        "YAML documents that are single values are not supported; the top level must be a mapping".into(),
                    ))
                }
            },
        };
        roots.push(root);
    }
    if roots.is_empty() && !comments.is_empty() {
        roots.push(empty_root(1));
    }
    for comment in comments {
        let doc = docs
            .iter()
            .rposition(|(start, _)| *start <= comment.line)
            .unwrap_or(0);
        if let Some(root) = roots.get_mut(doc) {
            place(root, comment);
        }
    }
    roots.into_iter().map(into_branch).collect()
}

fn empty_root(line: usize) -> Node {
    Node {
        kind: Kind::Map(Vec::new()),
        line,
        col: 0,
        block: true,
        comments: Vec::new(),
    }
}

fn leaf(value: Value, line: usize, col: usize) -> Node {
    Node {
        kind: Kind::Scalar(value),
        line,
        col,
        block: false,
        comments: Vec::new(),
    }
}

fn check_unique(items: &[(Node, Node)], key: &Node) -> Result<()> {
    if let Kind::Scalar(k) = &key.kind {
        if let Some((first, _)) = items
            .iter()
            .find(|(other, _)| matches!(&other.kind, Kind::Scalar(o) if o == k))
        {
            return Err(syntax(
                key.line,
                key.col + 1,
                format!(
                    "mapping key {} already defined at line {}",
                    key_text(k),
                    first.line
                ),
            ));
        }
    }
    Ok(())
}

fn key_text(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
) -> Result<Value, OutOfRange> {
    let core = tag.and_then(|t| {
        (t.handle == "!!" || t.handle == "tag:yaml.org,2002:").then_some(t.suffix.as_str())
    });
    match core {
        Some("str") => return Ok(Value::Str(text.to_string())),
        Some("binary") => {
            use base64::Engine;
            let cleaned: String = text.split_whitespace().collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(cleaned) {
                return Ok(Value::Str(String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        _ => {}
    }
    if tag.is_some() && core.is_none() {
        return Ok(Value::Str(text.to_string()));
    }
    match style {
        ScalarStyle::Plain => resolve::resolve_plain(text),
        _ => Ok(Value::Str(text.to_string())),
    }
}

/// Finds every comment in `src` that lies outside the scalars' spans.
fn find_comments(src: &str, covered: &[Span]) -> Vec<Comment> {
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
fn place(root: &mut Node, comment: Comment) {
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

fn take_comments(comments: &mut Vec<(usize, String)>, index: usize) -> Vec<String> {
    let mut out = Vec::new();
    comments.retain(|(at, text)| {
        if *at == index {
            out.push(text.clone());
            false
        } else {
            true
        }
    });
    out
}

fn into_value(node: Node) -> Result<Value> {
    let Node {
        kind, mut comments, ..
    } = node;
    Ok(match kind {
        Kind::Scalar(v) => v,
        Kind::Seq(items) => {
            let n = items.len();
            let mut out = Vec::with_capacity(n);
            for (i, item) in items.into_iter().enumerate() {
                out.extend(
                    take_comments(&mut comments, i)
                        .into_iter()
                        .map(Value::Comment),
                );
                out.push(into_value(item)?);
            }
            out.extend(
                take_comments(&mut comments, n)
                    .into_iter()
                    .map(Value::Comment),
            );
            Value::Seq(out)
        }
        Kind::Map(items) => Value::Map(map_items(items, comments)?),
    })
}

fn map_items(items: Vec<(Node, Node)>, mut comments: Vec<(usize, String)>) -> Result<Vec<Item>> {
    let n = items.len();
    let mut out = Vec::with_capacity(n + comments.len());
    for (i, (key, value)) in items.into_iter().enumerate() {
        out.extend(
            take_comments(&mut comments, i)
                .into_iter()
                .map(Item::comment),
        );
        let key = match key.kind {
            Kind::Scalar(Value::Str(s)) => s,
            _ => {
                return Err(Error::Unsupported(format!(
                    "line {}, column {}: only string keys are supported; quote the key",
                    key.line,
                    key.col + 1
                )))
            }
        };
        out.push(Item {
            key: Key::Str(key),
            value: into_value(value)?,
        });
    }
    out.extend(
        take_comments(&mut comments, n)
            .into_iter()
            .map(Item::comment),
    );
    Ok(out)
}

fn into_branch(root: Node) -> Result<Vec<Item>> {
    match root.kind {
        Kind::Map(items) => map_items(items, root.comments),
        _ => Ok(Vec::new()),
    }
}
