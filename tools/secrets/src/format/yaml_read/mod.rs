//! Reads YAML into sops's tree, comments included.
//!
//! Parsing is saphyr-parser's (a maintained, spec-tested YAML 1.2 event
//! parser); it drops comments, so this module finds them in the source
//! itself (a `#` outside every scalar's span, at a line start or after a
//! blank) and files each one where go-yaml + sops would (see `comments::place`): a
//! comment at the end of a line goes before the item on that line. The
//! comment's position decides the
//! AAD sops uses to encrypt it, so this must agree with sops for comments to
//! interoperate.

mod comments;

use std::collections::HashMap;

use comments::{find_comments, place};
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
