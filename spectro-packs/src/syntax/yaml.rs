use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::Number;

use super::node::{Document, Duplicates, Entry, Node, NodeValue, ParseError, pointer_escape};
use super::yaml_fast::FastEvent;
use crate::diagnostic::Position;

/// Bounds that keep hostile YAML from exhausting memory or the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct YamlLimits {
    /// Deepest allowed nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes that aliases may copy in, in total (the billion-laughs guard). A scalar
    /// counts one node more per KiB of its text, so aliases cannot copy in long text
    /// over and over either.
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
    Ok(docs.pop().unwrap_or_else(|| {
        Duplicates::default().into_document(Node::new(NodeValue::Null, Position::START))
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
        let found = super::lines(text)
            .enumerate()
            .skip(line - 1)
            .find_map(|(i, l)| {
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
        seg: Option<String>,
    },
    Map {
        pos: Position,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Node>,
        seen: HashMap<String, Position>,
        size: usize,
        seg: Option<String>,
    },
}

impl Frame {
    /// Its escaped JSON Pointer segment under its parent (`None`: the root, or a
    /// container used as a key, which share their parent's pointer).
    fn seg(&self) -> Option<&str> {
        match self {
            Frame::Seq { seg, .. } | Frame::Map { seg, .. } => seg.as_deref(),
        }
    }
}

/// The JSON Pointer of the innermost frame of `stack`.
fn frames_pointer(stack: &[Frame]) -> String {
    let mut p = String::new();
    for seg in stack.iter().filter_map(Frame::seg) {
        p.push('/');
        p.push_str(seg);
    }
    p
}

/// Length of `pointer_escape(text)`.
fn escaped_len(text: &str) -> usize {
    text.len() + text.bytes().filter(|b| matches!(b, b'~' | b'/')).count()
}

/// How many alias nodes a scalar of `text` counts for: one, and one more per KiB.
fn scalar_weight(text: &str) -> usize {
    1 + text.len() / 1024
}

struct Builder {
    limits: YamlLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    duplicates: Duplicates,
    root: Option<Node>,
}

impl Builder {
    /// The pointer segment of a container opened now.
    fn child_seg(&self) -> Option<String> {
        match self.stack.last() {
            None | Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Seq { items, .. }) => Some(items.len().to_string()),
            Some(Frame::Map { key: Some(k), .. }) => Some(pointer_escape(&k.key_text())),
        }
    }

    /// Attach a finished node (with its subtree size) to the parent, or make it the root.
    fn push(&mut self, node: Node, size: usize, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let duplicate = match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                return;
            }
            Some(Frame::Seq { items, size: s, .. }) => {
                items.push(node);
                *s += size;
                return;
            }
            Some(Frame::Map {
                entries,
                key,
                seen,
                size: s,
                ..
            }) => {
                *s += size;
                let Some(k) = key.take() else {
                    *key = Some(node);
                    return;
                };
                let text = k.key_text();
                let again = k.pos;
                let duplicate = match seen.get(&text) {
                    Some(first) => Some((*first, pointer_escape(&text))),
                    None => {
                        seen.insert(text, again);
                        None
                    }
                };
                entries.push(Entry {
                    key: k,
                    value: node,
                });
                duplicate.map(|(first, seg)| (first, again, seg))
            }
        };
        if let Some((first, again, seg)) = duplicate {
            let stack = &self.stack;
            let len = stack
                .iter()
                .filter_map(Frame::seg)
                .map(|s| s.len() + 1)
                .sum::<usize>()
                + seg.len()
                + 1;
            self.duplicates.add(
                len,
                || format!("{}/{seg}", frames_pointer(stack)),
                first,
                again,
            );
        }
    }

    fn open(&mut self, frame: Frame, at: Position) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(too_deep(self.limits, at));
        }
        self.stack.push(frame);
        Ok(())
    }
}

fn too_deep(limits: YamlLimits, at: Position) -> ParseError {
    ParseError {
        message: format!("nesting is deeper than {} levels", limits.max_depth),
        position: at,
        strict_only: false,
    }
}

fn unknown_alias(at: Position) -> ParseError {
    ParseError {
        message: "alias refers to an anchor that is not complete here \
                  (undefined, or the alias is inside its own anchor)"
            .into(),
        position: at,
        strict_only: false,
    }
}

fn alias_bomb(limits: YamlLimits, at: Position) -> ParseError {
    ParseError {
        message: format!(
            "aliases expand to more than {} nodes (a billion-laughs pattern?)",
            limits.max_alias_nodes
        ),
        position: at,
        strict_only: false,
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
        duplicates: Duplicates::default(),
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
                docs.push(std::mem::take(&mut b.duplicates).into_document(root));
            }
            Event::Scalar(value, style, anchor, tag) => {
                let explicit_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let weight = scalar_weight(&value);
                let v = if style == ScalarStyle::Plain && !explicit_str {
                    resolve_plain(&value)
                } else {
                    NodeValue::String(value.into_owned())
                };
                b.push(Node::new(v, at), weight, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                let seg = b.child_seg();
                b.open(
                    Frame::Seq {
                        pos: at,
                        anchor,
                        items: Vec::new(),
                        size: 1,
                        seg,
                    },
                    at,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                let seg = b.child_seg();
                let frame = Frame::Map {
                    pos: at,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                    size: 1,
                    seg,
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
                    return Err(unknown_alias(at));
                };
                b.alias_nodes = b.alias_nodes.saturating_add(size);
                if b.alias_nodes > b.limits.max_alias_nodes {
                    return Err(alias_bomb(b.limits, at));
                }
                let mut node = node;
                node.pos = at;
                b.push(node, size, 0);
            }
        }
    }
    Ok(docs)
}

/// Check a YAML stream exactly as [`parse_yaml_stream`] does (syntax, depth, aliases,
/// duplicate keys) without building its tree: each document comes back with a `Null` root
/// at the position the real root has, and the same duplicates. For manifests, which no
/// rule inspects beyond that: no node, no pointer string and (for plain keys) no key
/// string is allocated unless a duplicate is found.
///
/// Documents in the plain block style most manifests are written in are read by a
/// line scanner ([`super::yaml_fast`]); any other document goes through the full parser
/// on its own, and any syntax error sends the whole file through it, so findings and
/// errors are the parser's in every case.
pub(crate) fn check_yaml_stream(
    text: &str,
    limits: YamlLimits,
) -> Result<Vec<Document>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(docs) = check_by_documents(text, limits) {
        return Ok(docs);
    }
    let mut checker = Checker::new(limits);
    feed_parser(text, 0, None, &mut checker)?;
    Ok(checker.docs)
}

/// Each document by the fast scanner when it can, else by the parser alone. `None` when
/// the file has to be read whole by the parser (a directive, a `...` or decorated `---`
/// marker, a syntax error anywhere).
fn check_by_documents(text: &str, limits: YamlLimits) -> Option<Vec<Document>> {
    let chunks = super::yaml_fast::documents(text)?;
    let mut checker = Checker::new(limits);
    let mut events = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let part = &text[chunk.range.clone()];
        events.clear();
        if super::yaml_fast::scan(part, chunk.first_line, limits.max_depth, &mut events) {
            for (event, at) in events.drain(..) {
                checker.fast_event(event, at).ok()?;
            }
        } else {
            // The parser reads on past the document's end as it would in the whole
            // file (where a token starts can depend on what follows), and stops there.
            let rest = &text[chunk.range.start..];
            let next = chunks.get(i + 1).map_or(usize::MAX, |c| c.first_line);
            feed_parser(rest, chunk.first_line - 1, Some(next), &mut checker).ok()?;
        }
    }
    Some(checker.docs)
}

/// Run the parser over `text` (which starts at line `line_offset + 1` of its file) into
/// `checker`. With `stop`, only one document: up to the end of the first, and none that
/// starts on line `stop` or later (the next chunk's).
fn feed_parser<'a>(
    text: &'a str,
    line_offset: usize,
    stop: Option<usize>,
    checker: &mut Checker<'a>,
) -> Result<(), ParseError> {
    let shift =
        |p: Position| Position::new(p.line.get() as usize + line_offset, p.column.get() as usize);
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let mut err = scan_error(&e, text);
            err.position = shift(err.position);
            err
        })?;
        let at = shift(pos(&span));
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(explicit) => {
                // An implicit start can only be this chunk's (the stream's first); where
                // the parser places it depends on the first token.
                if explicit && stop.is_some_and(|line| at.line.get() as usize >= line) {
                    break;
                }
                checker.document_start();
            }
            Event::DocumentEnd => {
                checker.document_end(at);
                if stop.is_some() {
                    break;
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let explicit_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                checker.scalar(
                    value,
                    style == ScalarStyle::Plain && !explicit_str,
                    anchor,
                    at,
                );
            }
            Event::SequenceStart(anchor, _) => checker.open(false, anchor, at)?,
            Event::MappingStart(anchor, _) => checker.open(true, anchor, at)?,
            Event::SequenceEnd | Event::MappingEnd => checker.close(),
            Event::Alias(id) => checker.alias(id, at)?,
        }
    }
    Ok(())
}

/// How a container was reached from its parent (a JSON Pointer segment).
enum Seg<'a> {
    Index(usize),
    Key(Cow<'a, str>),
    /// A container used as a mapping key: same pointer as its mapping.
    Same,
}

struct CheckFrame<'a> {
    pos: Position,
    anchor: usize,
    size: usize,
    seg: Seg<'a>,
    /// `Some` for mappings: the pending key (text, position) and the keys seen.
    map: Option<MapState<'a>>,
    /// Items so far, for sequences.
    items: usize,
}

#[derive(Default)]
struct MapState<'a> {
    key: Option<(Cow<'a, str>, Position)>,
    /// The keys seen: scanned in a list while the mapping is small (most Kubernetes
    /// objects' are), moved to a hash map when it grows.
    few: Vec<(Cow<'a, str>, Position)>,
    many: Option<HashMap<Cow<'a, str>, Position>>,
}

/// Above this many keys a mapping's keys are hashed instead of scanned.
const FEW_KEYS: usize = 12;

impl<'a> MapState<'a> {
    /// Record `key`; when it was seen already, where first and its text.
    fn insert(&mut self, key: Cow<'a, str>, at: Position) -> Option<(Position, Cow<'a, str>)> {
        use std::collections::hash_map::Entry as Slot;
        if let Some(many) = &mut self.many {
            return match many.entry(key) {
                Slot::Vacant(v) => {
                    v.insert(at);
                    None
                }
                Slot::Occupied(o) => Some((*o.get(), o.key().clone())),
            };
        }
        if let Some((k, first)) = self.few.iter().find(|(k, _)| *k == key) {
            return Some((*first, k.clone()));
        }
        self.few.push((key, at));
        if self.few.len() > FEW_KEYS {
            self.many = Some(self.few.drain(..).collect());
        }
        None
    }
}

/// The key text a plain scalar has once resolved (as `Node::key_text`), borrowed
/// when it stays a string.
fn plain_key(value: Cow<'_, str>) -> Cow<'_, str> {
    const WORDS: [&str; 10] = [
        "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
    ];
    let stays_string = value
        .as_bytes()
        .first()
        .is_some_and(|b| !b.is_ascii_digit() && !matches!(b, b'-' | b'+' | b'.'))
        && !WORDS.contains(&&*value);
    if stays_string {
        value
    } else {
        Cow::Owned(Node::new(resolve_plain(&value), Position::START).key_text())
    }
}

/// What a manifest keeps of its YAML, built from parser events (or the fast scanner's):
/// each document's root position, its duplicate keys, the depth and alias limits.
struct Checker<'a> {
    limits: YamlLimits,
    docs: Vec<Document>,
    stack: Vec<CheckFrame<'a>>,
    /// Anchor id -> (subtree size, key text when the anchored node is a scalar).
    anchors: HashMap<usize, (usize, Option<Cow<'a, str>>)>,
    /// Counted over the whole stream, as the tree parser does.
    alias_nodes: usize,
    duplicates: Duplicates,
    root: Option<Position>,
}

impl<'a> Checker<'a> {
    fn new(limits: YamlLimits) -> Self {
        Checker {
            limits,
            docs: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            duplicates: Duplicates::default(),
            root: None,
        }
    }

    fn fast_event(&mut self, event: FastEvent<'a>, at: Position) -> Result<(), ParseError> {
        match event {
            FastEvent::DocumentStart => self.document_start(),
            FastEvent::DocumentEnd => self.document_end(at),
            FastEvent::Open { map } => self.open(map, 0, at)?,
            FastEvent::Close => self.close(),
            FastEvent::Scalar { text, plain } => self.scalar(text, plain, 0, at),
        }
        Ok(())
    }

    fn document_start(&mut self) {
        self.anchors.clear();
        self.root = None;
    }

    fn document_end(&mut self, at: Position) {
        let root = Node::new(NodeValue::Null, self.root.take().unwrap_or(at));
        self.docs
            .push(std::mem::take(&mut self.duplicates).into_document(root));
    }

    /// A scalar; `plain` when it resolves by the core schema (plain, no `!!str`).
    fn scalar(&mut self, value: Cow<'a, str>, plain: bool, anchor: usize, at: Position) {
        // Only a key's text (or an anchored scalar's) is ever read: resolve no other.
        let as_key = anchor != 0
            || self
                .stack
                .last()
                .is_some_and(|f| f.map.as_ref().is_some_and(|m| m.key.is_none()));
        let weight = scalar_weight(&value);
        let key = if plain && as_key {
            plain_key(value)
        } else {
            value
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (weight, Some(key.clone())));
        }
        self.finish(at, weight, key);
    }

    fn open(&mut self, map: bool, anchor: usize, at: Position) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(too_deep(self.limits, at));
        }
        let seg = match self.stack.last() {
            None => Seg::Same,
            Some(CheckFrame {
                map: None, items, ..
            }) => Seg::Index(*items),
            Some(CheckFrame {
                map: Some(MapState {
                    key: Some((k, _)), ..
                }),
                ..
            }) => Seg::Key(k.clone()),
            Some(_) => Seg::Same,
        };
        self.stack.push(CheckFrame {
            pos: at,
            anchor,
            size: 1,
            seg,
            map: map.then(MapState::default),
            items: 0,
        });
        Ok(())
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        if frame.anchor != 0 {
            self.anchors.insert(frame.anchor, (frame.size, None));
        }
        self.finish(frame.pos, frame.size, Cow::Borrowed("<complex key>"));
    }

    fn alias(&mut self, id: usize, at: Position) -> Result<(), ParseError> {
        let Some((size, key)) = self.anchors.get(&id).cloned() else {
            return Err(unknown_alias(at));
        };
        self.alias_nodes = self.alias_nodes.saturating_add(size);
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err(alias_bomb(self.limits, at));
        }
        let key = key.unwrap_or(Cow::Borrowed("<complex key>"));
        self.finish(at, size, key);
        Ok(())
    }

    /// The JSON Pointer of the innermost open container of `stack`.
    fn pointer(stack: &[CheckFrame<'_>]) -> String {
        let mut p = String::new();
        for f in stack {
            match &f.seg {
                Seg::Index(i) => {
                    p.push('/');
                    p.push_str(&i.to_string());
                }
                Seg::Key(k) => {
                    p.push('/');
                    p.push_str(&pointer_escape(k));
                }
                Seg::Same => {}
            }
        }
        p
    }

    /// A node finished: count it into its parent (checking a mapping's keys), or it is
    /// the document's root. `key` is its text as a mapping key.
    fn finish(&mut self, at: Position, size: usize, key: Cow<'a, str>) {
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(at);
            return;
        };
        parent.size += size;
        let Some(map) = parent.map.as_mut() else {
            parent.items += 1;
            return;
        };
        let Some((k, kpos)) = map.key.take() else {
            map.key = Some((key, at));
            return;
        };
        if let Some((first, text)) = map.insert(k, kpos) {
            if self.duplicates.cut_at.is_some() {
                return;
            }
            // Its exact length first: a long pointer is only built if it is listed.
            let len = self
                .stack
                .iter()
                .map(|f| match &f.seg {
                    Seg::Index(i) => 2 + i.checked_ilog10().unwrap_or(0) as usize,
                    Seg::Key(k) => 1 + escaped_len(k),
                    Seg::Same => 0,
                })
                .sum::<usize>()
                + 1
                + escaped_len(&text);
            let stack = &self.stack;
            let pointer = || format!("{}/{}", Self::pointer(stack), pointer_escape(&text));
            self.duplicates.add(len, pointer, first, kpos);
        }
    }
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

/// YAML documents embedded as strings in one file (presets' `add`, a profile's pack
/// `values`) share one budget of nodes: each parse keeps its own alias cap, and all of
/// them together stop at ten times that, so a file repeating a small billion-laughs
/// string thousands of times (through its own aliases) cannot multiply the cap.
pub(crate) struct EmbeddedYaml {
    limits: YamlLimits,
    nodes_left: usize,
}

impl EmbeddedYaml {
    pub(crate) fn new(limits: YamlLimits) -> Self {
        EmbeddedYaml {
            limits,
            nodes_left: limits.max_alias_nodes.saturating_mul(10),
        }
    }

    /// Parse `text`, or `None` once the file's budget is spent.
    pub(crate) fn parse(&mut self, text: &str) -> Option<Result<Document, ParseError>> {
        if self.nodes_left == 0 {
            return None;
        }
        let limits = self
            .limits
            .with_max_alias_nodes(self.limits.max_alias_nodes.min(self.nodes_left));
        let result = parse_yaml(text, limits);
        let used = match &result {
            Ok(doc) => count_nodes(&doc.root),
            // A refused expansion did that much work before it stopped.
            Err(e) if e.message.contains("aliases expand") => limits.max_alias_nodes,
            Err(_) => text.len(),
        };
        self.nodes_left = self.nodes_left.saturating_sub(used.max(1));
        Some(result)
    }
}

fn count_nodes(root: &Node) -> usize {
    let mut stack = vec![root];
    let mut n = 0;
    while let Some(node) = stack.pop() {
        n += 1;
        match &node.value {
            NodeValue::Seq(items) => stack.extend(items.iter()),
            NodeValue::Map(entries) => {
                for e in entries {
                    n += 1;
                    stack.push(&e.value);
                }
            }
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{DuplicateKey, MAX_LISTED_DUPLICATES};

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

    type Shape = Result<Vec<(Position, Vec<DuplicateKey>)>, ParseError>;

    /// Everything a manifest keeps: each document's root position and duplicates.
    fn shape(r: Result<Vec<Document>, ParseError>) -> Shape {
        r.map(|docs| {
            docs.into_iter()
                .map(|d| (d.root.pos, d.duplicates))
                .collect()
        })
    }

    /// What the tree parser gives for a manifest once its trees are dropped.
    fn tree_then_drop(text: &str, limits: YamlLimits) -> Shape {
        shape(parse_yaml_stream(text, limits))
    }

    fn checked(text: &str, limits: YamlLimits) -> Shape {
        let r = check_yaml_stream(text, limits);
        if let Ok(docs) = &r {
            assert!(docs.iter().all(|d| d.root.value == NodeValue::Null));
        }
        shape(r)
    }

    #[test]
    fn event_check_equals_the_tree_parser() {
        let cases = [
            "",
            "# only a comment\n",
            "a: 1\nb: 2\na: 3\n",
            "---\na: 1\n---\nb: [1, 2]\n...\n",
            "x:\n  - y: 1\n    y: 2\n  - {z: 1, z: 2}\n",
            "1: a\n0x1: b\n\"1\": c\n~: d\nnull: e\n",
            "? [a, b]\n: 1\n? [a, b]\n: 2\n",
            "base: &b {k: 1}\nuse: *b\n*b : x\n",
            "s: &s key\n*s : 1\nkey: 2\n",
            "a: !!str 1\n'a': 2\n",
            "list:\n- &x [1, 2]\n- *x\n- *x\n",
            "a/b: 1\na~b: 2\na/b: 3\n",
            "k: [unclosed\n",
            "k: *missing\n",
            "\u{feff}a: 1\na: 2\n",
            "- a\n- b: 1\n  b: 2\n",
            "scalar root\n",
            "---\n---\n",
        ];
        let limits = YamlLimits::default();
        for text in cases {
            assert_eq!(
                checked(text, limits),
                tree_then_drop(text, limits),
                "{text:?}"
            );
        }
        let deep = "[".repeat(200);
        assert_eq!(checked(&deep, limits), tree_then_drop(&deep, limits));
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
        let r = checked(bomb, limits);
        assert!(r.is_err());
        assert_eq!(r, tree_then_drop(bomb, limits));
    }

    /// The parser alone, without the fast scanner.
    fn parser_only(text: &str, limits: YamlLimits) -> Shape {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut checker = Checker::new(limits);
        shape(feed_parser(text, 0, None, &mut checker).map(|()| checker.docs))
    }

    /// How many documents of `text` the fast scanner reads itself.
    fn fast_documents(text: &str) -> usize {
        fast_read(text).0
    }

    /// Documents and bytes of `text` the fast scanner reads itself.
    fn fast_read(text: &str) -> (usize, usize) {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some(chunks) = super::super::yaml_fast::documents(text) else {
            return (0, 0);
        };
        let mut events = Vec::new();
        let read: Vec<_> = chunks
            .iter()
            .filter(|c| {
                events.clear();
                super::super::yaml_fast::scan(
                    &text[c.range.clone()],
                    c.first_line,
                    128,
                    &mut events,
                ) && matches!(events.first(), Some((FastEvent::DocumentStart, _)))
            })
            .collect();
        (read.len(), read.iter().map(|c| c.range.len()).sum())
    }

    fn same_as_parser(text: &str) {
        let limits = YamlLimits::default();
        assert_eq!(checked(text, limits), parser_only(text, limits), "{text}");
    }

    const MANIFEST: &str = r#"# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {}
  annotations:
    "example.com/quoted": 'it''s'
    example.com/plain: "a\tb \u00e9"
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.2.3 # pinned
        args: [--port, "8080", 'x']
        env:
          - name: A
            value: café
          -
            name: B
        command:
        - - nested
          - seq
        script: |
          #!/bin/sh
          echo "key: value" # not a comment

            indented more
        folded: >-
            text
        description: A plain scalar
          over three lines,

          with an empty one.
        quoted: 'single
          ''quoted'' # not a comment'
        escaped: "double \
          quoted \u00e9
          "
        empty:
      - name: app
        name: again
---
---
# only a comment
---
- a
- b: 1
  b: 2
  c:
    d: 1
    d: 2
  c: 3
---
"#;

    #[test]
    fn fast_scanner_reads_a_plain_manifest_as_the_parser_does() {
        assert_eq!(
            fast_documents(MANIFEST),
            5,
            "every document read by the scanner"
        );
        same_as_parser(MANIFEST);
        let docs = check_yaml_stream(MANIFEST, YamlLimits::default()).unwrap();
        assert_eq!(docs.len(), 5);
        assert_eq!(docs[0].duplicates.len(), 1);
        assert_eq!(
            docs[0].duplicates[0].pointer,
            "/spec/template/spec/containers/1/name"
        );
        // Inner duplicates come first, as the parser finishes them first.
        let pointers: Vec<_> = docs[3]
            .duplicates
            .iter()
            .map(|d| d.pointer.as_str())
            .collect();
        assert_eq!(pointers, ["/1/b", "/1/c/d", "/1/c"]);
        assert_eq!(docs[1].root.pos, Position::new(46, 1));
        assert_eq!(docs[4].root.pos, Position::new(57, 1));
    }

    #[test]
    fn fast_scanner_leaves_what_it_cannot_read_to_the_parser() {
        let cases = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: {b: 1}\n",
            "a: [b, [c]]\n",
            "a: multi\nline\n",
            "a: 'multi\nline'\n",
            "a: multi # c\n  line\n",
            "a: multi\n  line: x\n",
            "a: multi\n  # c\n  more\n",
            "a: \"open\n",
            "a: 'x\n  y' z\n",
            "a: \"bad \\q escape\"\n",
            "a:\tb\n",
            "a: b: c\n",
            "a: b\n  c: d\n",
            "a:\n  b: 1\n c: 2\n",
            "? a\n: b\n",
            "a: |2\n   x\n",
            "a: |\n    x\n  y\n",
            "a: |\n    \n  x\n",
            "scalar\n",
            "a: 1\nb\n",
            "- a\nb: 1\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n...\n",
            "--- a: 1\n",
            "---# c\na: 1\n",
            "a: 1\r\nb: 2\r\n",
            "a: x\u{85}y\n",
            "a: [b,]\n",
            "a: [b -]\n",
            "a: [b -, c]\n",
            "--- #\u{0}\na: 1\n",
            "a: 1\n--- # x\u{1}y\nb: 2\n",
            "a: [b\n",
            "a: \"x\"y\n",
            "key with space: 1\n",
        ];
        for text in cases {
            assert_eq!(fast_documents(text), 0, "{text:?}");
            same_as_parser(text);
        }
        // One unreadable document does not send the others to the parser.
        let mixed = "a: 1\n---\nb: &x 1\nc: *x\n---\nd: 1\nd: 2\n";
        assert_eq!(fast_documents(mixed), 2);
        same_as_parser(mixed);
        // A syntax error in any document: the whole file's error, from the parser.
        let broken = "a: 1\n---\nb: [1\n---\nc: 1\n";
        same_as_parser(broken);
        assert!(check_yaml_stream(broken, YamlLimits::default()).is_err());
        // Deep nesting is left for the parser to report.
        let mut deep = String::new();
        for i in 0..200 {
            deep.push_str(&" ".repeat(i));
            deep.push_str("k:\n");
        }
        same_as_parser(&deep);
    }

    #[test]
    fn aliases_to_long_text_count_by_the_kib() {
        // 1 MiB of text aliased 100,000 times would copy 100 GB; each copy now counts
        // 1,025 nodes, so the alias limit stops it after about a hundred.
        let text = format!(
            "a: &x \"{}\"\nb: [{}]\n",
            "x".repeat(1 << 20),
            vec!["*x"; 100_000].join(", ")
        );
        let limits = YamlLimits::default();
        for r in [
            parse_yaml_stream(&text, limits).map(|_| ()),
            check_yaml_stream(&text, limits).map(|_| ()),
        ] {
            assert!(r.unwrap_err().message.contains("aliases expand"));
        }
        // Short values still alias freely.
        let short = format!("a: &x v\nb: [{}]\n", vec!["*x"; 50_000].join(", "));
        assert!(parse_yaml(&short, limits).is_ok());
    }

    #[test]
    fn duplicates_under_a_long_key_are_listed_within_bounds() {
        // A 1 MiB parent key and 200,000 repeats of a short key: listing every duplicate
        // with its pointer would take 200 GB.
        let long = format!(
            "? \"{}\"\n:\n{}",
            "k".repeat(1 << 20),
            "  a: 0\n".repeat(200_000)
        );
        // A 500-byte parent key, which the fast scanner reads: the count bound applies.
        let short = format!("{}:\n{}", "k".repeat(500), "  a: 0\n".repeat(20_000));
        let limits = YamlLimits::default();
        // (text, duplicates listed, line of the first one not listed)
        for (text, listed, cut) in [(&long, 15, 19), (&short, MAX_LISTED_DUPLICATES, 10_003)] {
            let tree = parse_yaml_stream(text, limits).unwrap();
            let checked = check_yaml_stream(text, limits).unwrap();
            for docs in [&tree, &checked] {
                assert_eq!(docs[0].duplicates.len(), listed);
                assert_eq!(docs[0].duplicates_cut_at.map(|p| p.line.get()), Some(cut));
            }
            assert_eq!(tree[0].duplicates, checked[0].duplicates);
        }
    }

    #[test]
    fn many_documents_left_to_the_parser_stay_linear() {
        // Each of these documents goes to the parser, which starts at the document and
        // stops at its end: reading on to the end of the file each time would make this
        // quadratic (a hang here, not a failure).
        let text: String = (0..20_000)
            .map(|i| format!("a: &x {i}\nb: *x\nb: 1\n---\n"))
            .collect();
        assert_eq!(fast_documents(&text), 1, "only the empty last one");
        let docs = check_yaml_stream(&text, YamlLimits::default()).unwrap();
        assert_eq!(docs.len(), 20_001);
        let duplicates: usize = docs.iter().map(|d| d.duplicates.len()).sum();
        assert_eq!(duplicates, 20_000);
        assert_eq!(docs[19_999].duplicates[0].again, Position::new(79_999, 1));
    }

    /// A small generator of block YAML (splitmix64), with mutations that push it past
    /// what the scanner reads.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
            from[self.below(from.len())]
        }
        fn pick2<'s>(&mut self, from: &[(&'s str, &'s str)]) -> (&'s str, &'s str) {
            from[self.below(from.len())]
        }
        fn key(&mut self) -> &'static str {
            self.pick(&[
                "a", "b", "c", "a", "1", "01", "true", "null", "x.y/z", "\"a\"", "'b'", "'it''s'",
                "\"q\\n\"", "~", "-k", "a b", "é",
            ])
        }
        fn scalar(&mut self) -> &'static str {
            self.pick(&[
                "v",
                "1",
                "true",
                "a b",
                "http://x:1/y",
                "-1",
                "x #c",
                "'q'",
                "\"d\"",
                "\"e\\n\\u00e9\"",
                "[a, 'b', \"c\"]",
                "[]",
                "[ ]",
                "{}",
                "{ }",
                "caf\u{e9}",
                "a,b",
                "x#y",
                "- z",
                "&a v",
                "*a",
                "!t v",
                "'un",
                "@x",
                "a:b",
                "c::",
            ])
        }
        fn map(&mut self, indent: usize, depth: usize, out: &mut Vec<String>) {
            for _ in 0..1 + self.below(4) {
                let key = self.key();
                self.entry(indent, depth, format!("{}{key}:", " ".repeat(indent)), out);
            }
        }
        fn seq(&mut self, indent: usize, depth: usize, out: &mut Vec<String>) {
            for _ in 0..1 + self.below(3) {
                let pad = " ".repeat(indent);
                match self.below(4) {
                    0 if depth < 6 => {
                        // Compact mapping: first key on the dash's line.
                        let mut inner = Vec::new();
                        self.map(indent + 2, depth + 1, &mut inner);
                        if let Some(first) = inner.first_mut() {
                            first.replace_range(indent..indent + 2, "- ");
                        }
                        out.extend(inner);
                    }
                    1 if depth < 6 => {
                        out.push(format!("{pad}-"));
                        self.node(indent + 2, depth + 1, out);
                    }
                    2 => out.push(format!("{pad}- - {}", self.scalar())),
                    _ => self.entry(indent, depth, format!("{pad}-"), out),
                }
            }
        }
        fn node(&mut self, indent: usize, depth: usize, out: &mut Vec<String>) {
            if self.below(2) == 0 {
                self.map(indent, depth, out)
            } else {
                self.seq(indent, depth, out)
            }
        }
        /// `head` (a key with its colon, or a dash) and its value.
        fn entry(&mut self, indent: usize, depth: usize, head: String, out: &mut Vec<String>) {
            match self.below(6) {
                0 | 1 => out.push(format!("{head} {}", self.scalar())),
                2 if depth < 6 => {
                    out.push(head);
                    let step = self
                        .pick(&["0", "1", "2", "4"])
                        .parse::<usize>()
                        .unwrap_or(2);
                    if step == 0 {
                        self.seq(indent, depth + 1, out)
                    } else {
                        self.node(indent + step, depth + 1, out)
                    }
                }
                3 => {
                    out.push(format!("{head} {}", self.pick(&["|", ">-", "|+", "| # c"])));
                    for _ in 0..self.below(4) {
                        let text =
                            self.pick(&["text", "# not a comment", "k: v", "", "  more", "\t tab"]);
                        out.push(format!("{}{text}", " ".repeat(indent + 2)));
                    }
                }
                4 => out.push(format!("{head} # comment")),
                5 if self.below(2) == 0 => {
                    let (open, close) = self.pick2(&[
                        ("'a", "b'"),
                        ("\"a\\", "b\""),
                        ("\"a", "b\" # c"),
                        ("a", "b"),
                        ("a", "b: c"),
                        ("'a", "'' b'"),
                    ]);
                    out.push(format!("{head} {open}"));
                    if self.below(3) == 0 {
                        out.push(String::new());
                    }
                    let step = self.below(4);
                    out.push(format!("{}{close}", " ".repeat(indent + step)));
                }
                _ => out.push(head),
            }
        }
        fn mutate(&mut self, lines: &mut Vec<String>) {
            if lines.is_empty() {
                return;
            }
            let i = self.below(lines.len());
            match self.below(8) {
                0 => lines[i].insert(0, ' '),
                1 => {
                    if lines[i].starts_with(' ') {
                        lines[i].remove(0);
                    }
                }
                2 => {
                    let c = self.pick(&[
                        "'", "\"", "[", "]", "{", ":", "#", "-", "|", "&", "*", "!", "\t", " ",
                        "\\",
                    ]);
                    let at = self.below(lines[i].len() + 1);
                    if lines[i].is_char_boundary(at) {
                        lines[i].insert_str(at, c);
                    }
                }
                3 => lines[i].push_str(": x"),
                4 => lines[i].push_str(" #c"),
                5 => lines.insert(i, "---".into()),
                6 => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
                _ => {
                    if i + 1 < lines.len() {
                        lines.swap(i, i + 1);
                    }
                }
            }
        }
        fn stream(&mut self) -> String {
            let mut lines = Vec::new();
            for d in 0..1 + self.below(3) {
                if d > 0 || self.below(3) == 0 {
                    let marker = self.pick(&["---", "---", "---", "---  ", "--- # c", "---#c"]);
                    lines.push(marker.to_owned());
                }
                if self.below(5) == 0 {
                    lines.push("# comment".to_owned());
                }
                if self.below(8) != 0 {
                    let indent = if self.below(6) == 0 { 2 } else { 0 };
                    self.node(indent, 0, &mut lines);
                }
            }
            if self.below(3) == 0 {
                for _ in 0..1 + self.below(3) {
                    self.mutate(&mut lines);
                }
            }
            let mut text = lines.join("\n");
            if self.below(4) != 0 {
                text.push('\n');
            }
            text
        }
    }

    #[test]
    fn fast_scanner_equals_the_parser_on_generated_yaml() {
        // `scripts/yaml_differential.sh` runs millions of seeds through this test.
        let var = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(default)
        };
        let start = var("SPECTRO_YAML_SEED_START", 0);
        let count = var("SPECTRO_YAML_SEEDS", 4000);
        let (mut read, mut docs) = (0, 0);
        for seed in start..start + count {
            let text = Gen(seed).stream();
            same_as_parser(&text);
            read += fast_documents(&text);
            docs += parser_only(&text, YamlLimits::default()).map_or(0, |d| d.len());
        }
        // The generator must exercise the scanner, not only the fallback.
        assert!(read * 3 > docs, "scanner read {read} of {docs} documents");
    }

    #[test]
    #[allow(clippy::print_stderr)] // the skip message is the point
    fn fast_scanner_equals_the_parser_on_the_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
        if !root.is_dir() {
            eprintln!("SKIP: ../shared/corpus not found; corpus differential skipped");
            return;
        }
        let (mut files, mut read, mut docs, mut read_bytes, mut bytes) = (0, 0, 0, 0, 0);
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let text = crate::pack::neutralize_templates(&text);
            let limits = YamlLimits::default();
            assert_eq!(
                checked(&text, limits),
                parser_only(&text, limits),
                "{}",
                path.display()
            );
            files += 1;
            if let Ok(all) = parser_only(&text, limits) {
                let (r, b) = fast_read(&text);
                read += r;
                docs += all.len();
                read_bytes += b;
                bytes += text.len();
            }
        }
        eprintln!(
            "corpus: {files} YAML files; the fast scanner read {read} of {docs} documents, \
             {read_bytes} of {bytes} bytes"
        );
        assert!(files > 100, "corpus has {files} YAML files");
        assert!(read * 2 > docs, "scanner read {read} of {docs} documents");
    }

    proptest::proptest! {
        #[test]
        fn event_check_equals_the_tree_parser_on_generated_yaml(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[ ]{0,4}[a-c0-9~]{0,2}: ?[a-c0-9\\[\\]{},&*!-]{0,4}").unwrap(),
                    proptest::string::string_regex("[ ]{0,4}- ?[a-c&*]{0,3}").unwrap(),
                    proptest::strategy::Just("---".to_owned()),
                    proptest::string::string_regex("[ ]{0,2}&[ab] [a-c]{1,2}: [a-c]").unwrap(),
                    proptest::string::string_regex("[ ]{0,2}\\*[ab] : [a-c]").unwrap(),
                ],
                0..14,
            )
        ) {
            let text = lines.join("\n");
            let limits = YamlLimits::default();
            proptest::prop_assert_eq!(checked(&text, limits), tree_then_drop(&text, limits));
        }
    }
}
