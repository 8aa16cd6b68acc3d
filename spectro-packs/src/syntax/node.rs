use std::fmt;

use serde_json::{Map, Number, Value};

use crate::diagnostic::Position;

/// A parsed document: its root node plus what the parser noticed along the way.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Document {
    /// Root node (`Null` for an empty YAML document).
    pub root: Node,
    /// Keys that appear more than once in the same mapping.
    pub duplicates: Vec<DuplicateKey>,
    /// Where the first duplicate key that `duplicates` does not list is, when there were
    /// more than [`MAX_LISTED_DUPLICATES`] or their pointers passed 16 MiB.
    pub duplicates_cut_at: Option<Position>,
}

/// Most duplicate keys listed for one document (see [`Document::duplicates_cut_at`]).
pub const MAX_LISTED_DUPLICATES: usize = 10_000;

/// Most bytes of JSON Pointers listed for one document's duplicate keys.
const MAX_DUPLICATE_POINTER_BYTES: usize = 16 << 20;

/// The duplicate keys of one document, listed within bounds: a hostile file (a long
/// parent key, then a million repeats of a short one) cannot make the list much larger
/// than a real one.
#[derive(Debug, Default)]
pub(crate) struct Duplicates {
    pub(crate) list: Vec<DuplicateKey>,
    bytes: usize,
    pub(crate) cut_at: Option<Position>,
}

impl Duplicates {
    /// List a duplicate found at `again` whose pointer is `len` bytes long (built by
    /// `pointer` only when it is listed), unless the list is full.
    pub(crate) fn add(
        &mut self,
        len: usize,
        pointer: impl FnOnce() -> String,
        first: Position,
        again: Position,
    ) {
        if self.cut_at.is_some()
            || self.list.len() >= MAX_LISTED_DUPLICATES
            || self.bytes + len > MAX_DUPLICATE_POINTER_BYTES
        {
            self.cut_at.get_or_insert(again);
            return;
        }
        self.bytes += len;
        self.list.push(DuplicateKey {
            pointer: pointer(),
            first,
            again,
        });
    }

    /// The document these belong to.
    pub(crate) fn into_document(self, root: Node) -> Document {
        Document {
            root,
            duplicates: self.list,
            duplicates_cut_at: self.cut_at,
        }
    }
}

/// A key defined twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DuplicateKey {
    /// JSON Pointer of the mapping entry.
    pub pointer: String,
    /// Where the key first appears.
    pub first: Position,
    /// Where it appears again.
    pub again: Position,
}

/// A syntax error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// What went wrong, in our words.
    pub message: String,
    /// Where.
    pub position: Position,
    /// True when only strict YAML 1.2 rejects this; Go's YAML parser (used by Kubernetes
    /// and Palette) accepts it.
    pub strict_only: bool,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.position.line, self.position.column, self.message
        )
    }
}

/// A value with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Position of the first character of the value.
    pub pos: Position,
}

/// One key/value pair of a mapping, in source order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry {
    /// The key node (a string for JSON; any scalar, rarely a collection, for YAML).
    pub key: Node,
    /// The value node.
    pub value: Node,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeValue {
    /// `null`, `~` or an empty YAML value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string (any quoted or block YAML scalar, or an unresolved plain one).
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, entries in source order (duplicates kept).
    Map(Vec<Entry>),
}

impl Node {
    /// A new node.
    pub fn new(value: NodeValue, pos: Position) -> Self {
        Node { value, pos }
    }

    /// The string, if this is a string node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    /// The last entry of a mapping whose key text is `key` (last wins, like most loaders).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?
            .iter()
            .rev()
            .find(|e| e.key.key_text() == key)
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The text used to compare and print a key.
    pub fn key_text(&self) -> String {
        match &self.value {
            NodeValue::Null => "null".to_owned(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Number(n) => n.to_string(),
            NodeValue::String(s) => s.clone(),
            NodeValue::Seq(_) | NodeValue::Map(_) => "<complex key>".to_owned(),
        }
    }

    /// A short name of the node's type (`string`, `mapping`, ...).
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "boolean",
            NodeValue::Number(_) => "number",
            NodeValue::String(_) => "string",
            NodeValue::Seq(_) => "sequence",
            NodeValue::Map(_) => "mapping",
        }
    }

    /// Resolve a JSON Pointer. Returns the entry's key node (when the last step is a
    /// mapping key) and the value node.
    pub fn pointer(&self, pointer: &str) -> Option<(Option<&Node>, &Node)> {
        if pointer.is_empty() {
            return Some((None, self));
        }
        let mut key = None;
        let mut cur = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            match &cur.value {
                NodeValue::Map(_) => {
                    let e = cur.entry(&token)?;
                    key = Some(&e.key);
                    cur = &e.value;
                }
                NodeValue::Seq(items) => {
                    cur = items.get(token.parse::<usize>().ok()?)?;
                    key = None;
                }
                _ => return None,
            }
        }
        Some((key, cur))
    }

    /// The deepest node on the way to `pointer` (for pointing at the nearest existing
    /// place when the pointer names something absent).
    pub fn nearest(&self, pointer: &str) -> &Node {
        let mut cur = self;
        let Some(rest) = pointer.strip_prefix('/') else {
            return cur;
        };
        for raw in rest.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &cur.value {
                NodeValue::Map(_) => cur.get(&token),
                NodeValue::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur
    }

    /// Convert to a `serde_json::Value`. Mapping keys become strings; for duplicate keys
    /// the last one wins.
    pub fn to_json(&self) -> Value {
        // Iterative to stay safe on deep (but parser-bounded) trees.
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Number(n) => Value::Number(n.clone()),
            NodeValue::String(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for e in entries {
                    map.insert(e.key.key_text(), e.value.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// Walk every node depth-first, calling `f(pointer, key, node)`.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&str, Option<&'a Node>, &'a Node)) {
        let mut stack: Vec<(String, Option<&'a Node>, &'a Node)> =
            vec![(String::new(), None, self)];
        while let Some((ptr, key, node)) = stack.pop() {
            f(&ptr, key, node);
            match &node.value {
                NodeValue::Map(entries) => {
                    for e in entries.iter().rev() {
                        let p = format!("{ptr}/{}", pointer_escape(&e.key.key_text()));
                        stack.push((p, Some(&e.key), &e.value));
                    }
                }
                NodeValue::Seq(items) => {
                    for (i, n) in items.iter().enumerate().rev() {
                        stack.push((format!("{ptr}/{i}"), None, n));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Escape one JSON Pointer reference token (`~` → `~0`, `/` → `~1`).
pub fn pointer_escape(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_owned()
    }
}
