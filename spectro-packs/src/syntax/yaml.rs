use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::Number;

use super::node::{Document, DuplicateKey, Entry, Node, NodeValue, ParseError, pointer_escape};
use crate::diagnostic::Position;

/// Bounds that keep hostile YAML from exhausting memory or the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct YamlLimits {
    /// Deepest allowed nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes that aliases may copy in, in total (the billion-laughs guard).
    pub max_alias_nodes: usize,
}

builder!(YamlLimits {
    with_max_depth => max_depth: usize,
    with_max_alias_nodes => max_alias_nodes: usize,
});

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_depth: 128,
            max_alias_nodes: 100_000,
        }
    }
}

/// Parse a single-document YAML file (values.yaml, presets.yaml, schema.yaml).
///
/// An empty file (or one with only comments) gives a `Null` root. More than one document
/// is an error, as Palette reads one.
pub fn parse_yaml(text: &str, limits: YamlLimits) -> Result<Document, ParseError> {
    let mut docs = parse(text, limits, false)?;
    Ok(docs.pop().unwrap_or_else(|| Document {
        root: Node::new(NodeValue::Null, Position::START),
        duplicates: Vec::new(),
    }))
}

/// Parse a multi-document YAML stream (Kubernetes manifests).
pub fn parse_yaml_stream(text: &str, limits: YamlLimits) -> Result<Vec<Document>, ParseError> {
    parse(text, limits, true)
}

fn pos(span: &Span) -> Position {
    Position::new(span.start.line(), span.start.col() + 1)
}

fn scan_error(e: &ScanError, text: &str) -> ParseError {
    let mut position = Position::new(e.marker().line(), e.marker().col() + 1);
    // For tabs the scanner points where the token started (often the line before):
    // point at the tab itself, the first one at or after that place.
    if e.info().contains("tab") {
        let (line, col) = (e.marker().line().max(1), e.marker().col());
        let found = text.lines().enumerate().skip(line - 1).find_map(|(i, l)| {
            let from = if i == line - 1 { col } else { 0 };
            l.chars()
                .enumerate()
                .skip(from)
                .find(|(_, c)| *c == '\t')
                .map(|(c, _)| Position::new(i + 1, c + 1))
        });
        if let Some(p) = found {
            position = p;
        }
    }
    ParseError {
        message: e.info().to_owned(),
        position,
        // Continuation lines of a multi-line quoted scalar indented no deeper than their
        // key: invalid YAML 1.2, but accepted by libyaml-derived parsers (go-yaml).
        strict_only: e.info().contains("indentation in quoted scalar"),
    }
}

enum Frame {
    Seq {
        pos: Position,
        anchor: usize,
        items: Vec<Node>,
        size: usize,
        ptr: String,
    },
    Map {
        pos: Position,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        seen: HashMap<String, Position>,
        size: usize,
        ptr: String,
    },
}

struct Builder {
    limits: YamlLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    duplicates: Vec<DuplicateKey>,
    root: Option<Node>,
}

impl Builder {
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Seq { items, ptr, .. }) => format!("{ptr}/{}", items.len()),
            Some(Frame::Map {
                key: Some(k), ptr, ..
            }) => {
                format!("{ptr}/{}", pointer_escape(&k.key_text()))
            }
            Some(Frame::Map { ptr, .. }) => ptr.clone(),
        }
    }

    /// Attach a finished node (with its subtree size) to the parent, or make it the root.
    fn push(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, size: s, .. }) => {
                items.push(node);
                *s += size;
            }
            Some(Frame::Map {
                entries,
                key,
                seen,
                size: s,
                ptr,
                ..
            }) => {
                *s += size;
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => {
                        let text = k.key_text();
                        if let Some(first) = seen.get(&text) {
                            self.duplicates.push(DuplicateKey {
                                pointer: format!("{ptr}/{}", pointer_escape(&text)),
                                first: *first,
                                again: k.pos,
                            });
                        } else {
                            seen.insert(text, k.pos);
                        }
                        entries.push(Entry {
                            key: k,
                            value: node,
                        });
                    }
                }
            }
        }
    }

    fn open(&mut self, frame: Frame, at: Position) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(ParseError {
                message: format!("nesting is deeper than {} levels", self.limits.max_depth),
                position: at,
                strict_only: false,
            });
        }
        self.stack.push(frame);
        Ok(())
    }
}

fn parse(text: &str, limits: YamlLimits, stream: bool) -> Result<Vec<Document>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut docs = Vec::new();
    let mut b = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        duplicates: Vec::new(),
        root: None,
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| scan_error(&e, text))?;
        let at = pos(&span);
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                if !stream && !docs.is_empty() {
                    return Err(ParseError {
                        message: "expected a single YAML document, but another one starts here"
                            .into(),
                        position: at,
                        strict_only: false,
                    });
                }
                b.anchors.clear();
                b.root = None;
            }
            Event::DocumentEnd => {
                let root = b
                    .root
                    .take()
                    .unwrap_or_else(|| Node::new(NodeValue::Null, at));
                docs.push(Document {
                    root,
                    duplicates: std::mem::take(&mut b.duplicates),
                });
            }
            Event::Scalar(value, style, anchor, tag) => {
                let explicit_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let v = if style == ScalarStyle::Plain && !explicit_str {
                    resolve_plain(&value)
                } else {
                    NodeValue::String(value.into_owned())
                };
                b.push(Node::new(v, at), 1, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                let ptr = b.child_pointer();
                b.open(
                    Frame::Seq {
                        pos: at,
                        anchor,
                        items: Vec::new(),
                        size: 1,
                        ptr,
                    },
                    at,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                let ptr = b.child_pointer();
                let frame = Frame::Map {
                    pos: at,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                    size: 1,
                    ptr,
                };
                b.open(frame, at)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, size, anchor) = match b.stack.pop() {
                    Some(Frame::Seq {
                        pos,
                        anchor,
                        items,
                        size,
                        ..
                    }) => (Node::new(NodeValue::Seq(items), pos), size, anchor),
                    Some(Frame::Map {
                        pos,
                        anchor,
                        entries,
                        size,
                        ..
                    }) => (
                        Node::new(NodeValue::Map(apply_merge_keys(entries)), pos),
                        size,
                        anchor,
                    ),
                    None => continue,
                };
                b.push(node, size, anchor);
            }
            Event::Alias(id) => {
                let Some((node, size)) = b.anchors.get(&id).cloned() else {
                    return Err(ParseError {
                        message: "alias refers to an anchor that is not complete here \
                                  (undefined, or the alias is inside its own anchor)"
                            .into(),
                        position: at,
                        strict_only: false,
                    });
                };
                b.alias_nodes = b.alias_nodes.saturating_add(size);
                if b.alias_nodes > b.limits.max_alias_nodes {
                    return Err(ParseError {
                        message: format!(
                            "aliases expand to more than {} nodes (a billion-laughs pattern?)",
                            b.limits.max_alias_nodes
                        ),
                        position: at,
                        strict_only: false,
                    });
                }
                let mut node = node;
                node.pos = at;
                b.push(node, size, 0);
            }
        }
    }
    Ok(docs)
}

/// Apply YAML merge keys (`<<: *base`, `<<: [*a, *b]`) as Go's YAML parser (which
/// Palette uses) does: keys written in the mapping win, then the merged mappings in
/// order, the first one giving a key winning. Other values under `<<` stay as written.
fn apply_merge_keys(entries: Vec<Entry>) -> Vec<Entry> {
    let is_merge = |e: &Entry| matches!(&e.key.value, NodeValue::String(k) if k == "<<");
    if !entries.iter().any(is_merge) {
        return entries;
    }
    let mut out = Vec::with_capacity(entries.len());
    let mut sources: Vec<Vec<Entry>> = Vec::new();
    for e in entries {
        if !is_merge(&e) {
            out.push(e);
            continue;
        }
        match e.value.value {
            NodeValue::Map(m) => sources.push(m),
            NodeValue::Seq(items) if items.iter().all(|i| matches!(i.value, NodeValue::Map(_))) => {
                sources.extend(items.into_iter().filter_map(|i| match i.value {
                    NodeValue::Map(m) => Some(m),
                    _ => None,
                }));
            }
            value => out.push(Entry {
                key: e.key,
                value: Node {
                    value,
                    pos: e.value.pos,
                },
            }),
        }
    }
    let mut present: std::collections::HashSet<String> =
        out.iter().map(|e| e.key.key_text()).collect();
    for src in sources {
        for e in src {
            if present.insert(e.key.key_text()) {
                out.push(e);
            }
        }
    }
    out
}

/// Resolve a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(s: &str) -> NodeValue {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return NodeValue::String(s.to_owned());
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return NodeValue::Number(Number::from(i));
        }
        if let Ok(u) = s.parse::<u64>() {
            return NodeValue::Number(Number::from(u));
        }
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return NodeValue::Number(Number::from(i));
    }
    if let Some(oct) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return NodeValue::Number(Number::from(i));
    }
    if is_core_float(digits)
        && let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return NodeValue::Number(n);
    }
    NodeValue::String(s.to_owned())
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (sign already stripped).
fn is_core_float(s: &str) -> bool {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            int.bytes().all(|c| c.is_ascii_digit())
                && frac.bytes().all(|c| c.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exp_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Document {
        parse_yaml(s, YamlLimits::default()).unwrap()
    }

    #[test]
    fn scalars_resolve_like_yaml_1_2() {
        let d = yaml("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: 1.2.3\ng: yes\nh:\n");
        let j = d.root.to_json();
        assert_eq!(
            j,
            serde_json::json!({"a":1,"b":"1","c":true,"d":null,"e":1.5,"f":"1.2.3","g":"yes","h":null})
        );
    }

    #[test]
    fn tab_errors_point_at_the_tab() {
        // Issue 12 item 24: reported on line 3 (the tab), not line 2 (the scalar).
        let e = parse_yaml("pack:\n  namespace: x\n\tbad: 1\n", YamlLimits::default()).unwrap_err();
        assert_eq!(
            (e.position.line.get(), e.position.column.get()),
            (3, 1),
            "{}",
            e.message
        );
    }

    #[test]
    fn merge_keys_are_applied_like_go_yaml() {
        let d = yaml("base: &b\n  a: 1\n  b: 2\nother: &o\n  c: 3\nx:\n  <<: [*b, *o]\n  b: 20\n");
        let x = d.root.get("x").unwrap();
        assert!(x.get("<<").is_none());
        assert_eq!(x.get("a").unwrap().to_json(), serde_json::json!(1));
        assert_eq!(x.get("b").unwrap().to_json(), serde_json::json!(20));
        assert_eq!(x.get("c").unwrap().to_json(), serde_json::json!(3));
        assert!(d.duplicates.is_empty());
    }

    #[test]
    fn positions_are_one_based() {
        let d = yaml("pack:\n  namespace: foo\n");
        let (k, v) = d.root.pointer("/pack/namespace").unwrap();
        assert_eq!(k.unwrap().pos, Position::new(2, 3));
        assert_eq!(v.pos, Position::new(2, 14));
    }

    #[test]
    fn duplicates_found_with_pointer() {
        let d = yaml("a:\n  b: 1\n  b: 2\n");
        assert_eq!(d.duplicates.len(), 1);
        assert_eq!(d.duplicates[0].pointer, "/a/b");
        assert_eq!(d.duplicates[0].again, Position::new(3, 3));
    }

    #[test]
    fn hostile_inputs_fail_cleanly() {
        let lim = YamlLimits::default();
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
        assert!(
            parse_yaml(bomb, lim)
                .unwrap_err()
                .message
                .contains("billion")
        );
        assert!(parse_yaml("&a [*a]", lim).is_err());
        assert!(parse_yaml(&"[".repeat(100_000), lim).is_err());
        assert!(parse_yaml(&"- ".repeat(100_000), lim).is_err());
        assert!(parse_yaml("a: [1, 2", lim).is_err());
        assert!(parse_yaml("a: 1\n---\nb: 2\n", lim).is_err());
        assert_eq!(
            parse_yaml_stream("a: 1\n---\nb: 2\n", lim).unwrap().len(),
            2
        );
        assert!(yaml("").root.is_null());
        assert!(yaml("# only a comment\n").root.is_null());
    }
}
