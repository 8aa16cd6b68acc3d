use std::collections::HashMap;

use jsonc_parser::ast::{ObjectPropName, Value as Ast};
use jsonc_parser::{CollectOptions, ParseOptions};
use serde_json::Number;

use super::node::{Document, Duplicates, Entry, Node, NodeValue, ParseError, pointer_escape};
use crate::diagnostic::Position;

/// Byte offset → (line, column) for one text. Columns count characters.
///
/// Lookups are O(log lines) on ASCII lines; on other lines counting resumes from the
/// previous lookup when it was earlier on the same line, so converting a whole document
/// in order stays linear even when it is one long minified line.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    ascii: Vec<bool>,
    /// Last non-ASCII lookup: (line start, byte offset, characters from line start).
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let starts = super::line_starts(text);
        let ascii = starts
            .iter()
            .enumerate()
            .map(|(i, &s)| {
                let e = starts.get(i + 1).copied().unwrap_or(text.len());
                text.as_bytes()[s..e].is_ascii()
            })
            .collect();
        LineIndex {
            text,
            starts,
            ascii,
            cursor: std::cell::Cell::new((usize::MAX, 0, 0)),
        }
    }

    pub(crate) fn position(&self, offset: usize) -> Position {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let end = offset.min(self.text.len()).max(start);
        if self.ascii[line - 1] {
            return Position::new(line, end - start + 1);
        }
        let (c_start, c_byte, c_chars) = self.cursor.get();
        let (from, base) =
            if c_start == start && c_byte <= end && self.text.is_char_boundary(c_byte) {
                (c_byte, c_chars)
            } else {
                (start, 0)
            };
        let col = match self.text.get(from..end) {
            Some(s) => base + s.chars().count(),
            None => return Position::new(line, end - start + 1),
        };
        self.cursor.set((start, end, col));
        Position::new(line, col + 1)
    }
}

/// Parse strict JSON (RFC 8259) into a located [`Document`].
///
/// Nesting is limited to 128 levels (serde_json's limit), so hostile input cannot
/// exhaust the stack. A leading byte-order mark is ignored.
pub fn parse_json(text: &str) -> Result<Document, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Strict syntax check first: serde_json is exact about JSON and bounds recursion.
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(i) => full[..i].to_owned(),
            None => full,
        };
        let message = match e.classify() {
            serde_json::error::Category::Eof => format!("unexpected end of file: {message}"),
            _ => message,
        };
        // serde_json counts lines at `\n` only and columns in bytes: turn its place into
        // a byte offset, then into our position (lines also end at a lone CR, columns
        // count characters), so the caret and editors point at the same place.
        let line_start = if e.line() <= 1 {
            0
        } else {
            text.match_indices('\n')
                .nth(e.line() - 2)
                .map_or(text.len(), |(i, _)| i + 1)
        };
        let mut offset = (line_start + e.column().saturating_sub(1)).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        return Err(ParseError {
            message,
            position: LineIndex::new(text).position(offset),
            strict_only: false,
        });
    }
    let opts = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        ..ParseOptions::default()
    };
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &opts).map_err(|e| {
            let index = LineIndex::new(text);
            ParseError {
                message: e.kind().to_string(),
                position: index.position(e.range().start),
                strict_only: false,
            }
        })?;
    let index = LineIndex::new(text);
    let mut duplicates = Duplicates::default();
    let root = match parsed.value {
        Some(v) => convert(&v, &index, &mut Vec::new(), &mut duplicates),
        None => {
            return Err(ParseError {
                message: "the file is empty".into(),
                position: Position::START,
                strict_only: false,
            });
        }
    };
    Ok(duplicates.into_document(root))
}

/// The JSON Pointer of `path` (escaped segments), built only for a duplicate: building
/// one for every node would copy a long parent key once per child.
fn join(path: &[String]) -> String {
    let mut p = String::with_capacity(path.iter().map(|s| s.len() + 1).sum());
    for s in path {
        p.push('/');
        p.push_str(s);
    }
    p
}

fn convert(
    v: &Ast<'_>,
    index: &LineIndex<'_>,
    path: &mut Vec<String>,
    dups: &mut Duplicates,
) -> Node {
    match v {
        Ast::StringLit(s) => Node::new(
            NodeValue::String(s.value.to_string()),
            index.position(s.range.start),
        ),
        Ast::NumberLit(n) => {
            let num = n
                .value
                .parse::<serde_json::Value>()
                .ok()
                .and_then(|v| v.as_number().cloned())
                .unwrap_or_else(|| Number::from(0));
            Node::new(NodeValue::Number(num), index.position(n.range.start))
        }
        Ast::BooleanLit(b) => Node::new(NodeValue::Bool(b.value), index.position(b.range.start)),
        Ast::NullKeyword(n) => Node::new(NodeValue::Null, index.position(n.range.start)),
        Ast::Array(a) => {
            // The container's position first: lookups then move forward along the line.
            let pos = index.position(a.range.start);
            let items = a
                .elements
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    path.push(i.to_string());
                    let node = convert(e, index, path, dups);
                    path.pop();
                    node
                })
                .collect();
            Node::new(NodeValue::Seq(items), pos)
        }
        Ast::Object(o) => {
            let pos = index.position(o.range.start);
            let mut seen: HashMap<String, Position> = HashMap::new();
            let mut entries = Vec::with_capacity(o.properties.len());
            for p in &o.properties {
                let (name, range) = match &p.name {
                    ObjectPropName::String(s) => (s.value.to_string(), s.range),
                    ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                };
                let key_pos = index.position(range.start);
                path.push(pointer_escape(&name));
                if let Some(first) = seen.get(&name) {
                    let len = path.iter().map(|s| s.len() + 1).sum();
                    dups.add(len, || join(path), *first, key_pos);
                } else {
                    seen.insert(name.clone(), key_pos);
                }
                let value = convert(&p.value, index, path, dups);
                path.pop();
                entries.push(Entry {
                    key: Node::new(NodeValue::String(name), key_pos),
                    value,
                });
            }
            Node::new(NodeValue::Map(entries), pos)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_under_a_long_key_are_listed_within_bounds() {
        let text = format!(
            "{{\"{}\": {{{}}}}}",
            "k".repeat(1 << 20),
            vec!["\"a\": 0"; 200_000].join(", ")
        );
        let doc = parse_json(&text).unwrap();
        assert_eq!(doc.duplicates.len(), 15);
        assert!(doc.duplicates_cut_at.is_some());
        // Children of a long key no longer copy it: this stays linear.
        let wide = format!(
            "{{\"{}\": [{}]}}",
            "k".repeat(1 << 20),
            vec!["[]"; 200_000].join(",")
        );
        assert!(parse_json(&wide).unwrap().duplicates.is_empty());
    }

    #[test]
    fn positions_point_at_keys_and_values() {
        let doc = parse_json("{\n  \"name\": \"x\",\n  \"list\": [1, true]\n}").unwrap();
        let (key, value) = doc.root.pointer("/list/1").unwrap();
        assert!(key.is_none());
        assert_eq!(value.pos, Position::new(3, 15));
        let (key, value) = doc.root.pointer("/name").unwrap();
        assert_eq!(key.unwrap().pos, Position::new(2, 3));
        assert_eq!(value.pos, Position::new(2, 11));
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let doc = parse_json("{\"a\": 1,\n \"a\": 2}").unwrap();
        assert_eq!(doc.duplicates.len(), 1);
        assert_eq!(doc.duplicates[0].pointer, "/a");
        assert_eq!(doc.duplicates[0].again, Position::new(2, 2));
        assert_eq!(doc.root.get("a").unwrap().to_json(), serde_json::json!(2));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_json("{\n  \"a\": 1,\n}").unwrap_err();
        assert_eq!(err.position.line.get(), 3);
        let err = parse_json(&"[".repeat(100_000)).unwrap_err();
        assert!(err.message.contains("recursion"), "{}", err.message);
        let err =
            parse_json(&format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))).unwrap_err();
        assert!(
            err.message.contains("depth") || err.message.contains("recursion"),
            "{}",
            err.message
        );
        assert!(parse_json("").is_err());
        assert!(parse_json("{\"a\": 1} x").is_err());
    }

    #[test]
    fn long_minified_lines_keep_exact_columns() {
        // Issue 12 item 33: one long non-ASCII line; positions come from a cursor that
        // resumes along the line, so they must equal a count from the line start.
        let mut text = String::from("[");
        for i in 0..2_000 {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("{{\"k\u{e9}{i}\": \"v\u{1f600}\"}}"));
        }
        text.push(']');
        let doc = parse_json(&text).unwrap();
        let items = doc.root.as_seq().unwrap();
        for i in [0usize, 1, 999, 1_999] {
            let node = &items[i];
            let byte = text.match_indices("{\"k").nth(i).map(|(b, _)| b).unwrap();
            let expected = text[..byte].chars().count() + 1;
            assert_eq!(node.pos.column.get() as usize, expected, "item {i}");
            assert_eq!(node.pos.line.get(), 1);
        }
    }

    #[test]
    fn columns_count_characters() {
        let doc = parse_json("{\"é\": \"ü\", \"b\": 1}").unwrap();
        assert_eq!(doc.root.pointer("/b").unwrap().1.pos, Position::new(1, 17));
    }
}
