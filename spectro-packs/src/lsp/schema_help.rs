//! Hovers on keys and completion, from the embedded JSON Schemas (the same ones the
//! rules and `spectro schema` use): pack.json, presets.yaml and schema.yaml.

use std::path::Path;

use serde_json::{Value, json};

use crate::schema::{FieldDoc, SchemaKind};
use crate::syntax::{Node, NodeValue, line_starts, parse_yaml};

/// The schema of a pack file, by its name.
pub(super) fn kind_of(path: &Path) -> Option<SchemaKind> {
    match path.file_name()?.to_str()? {
        "pack.json" => Some(SchemaKind::Pack),
        "presets.yaml" => Some(SchemaKind::Presets),
        "schema.yaml" => Some(SchemaKind::SchemaYaml),
        _ => None,
    }
}

/// Markdown for the key under byte `offset` of `text`: its description and values.
pub(super) fn hover(kind: SchemaKind, text: &str, offset: usize) -> Option<String> {
    let path = match kind {
        // JSON being typed is often broken: find the key by scanning, not parsing.
        SchemaKind::Pack => json_key_at(text, offset)?,
        _ => {
            let doc = parse_yaml(text, Default::default()).ok()?;
            let mut columns = Columns {
                text,
                starts: line_starts(text),
                line: usize::MAX,
                chars: Vec::new(),
            };
            let mut path: Vec<String> = Vec::new();
            if !key_at(&doc.root, &mut columns, offset, &mut path) {
                return None;
            }
            path
        }
    };
    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let field = kind.field(&refs)?;
    let mut out = format!("**{}**", path.last()?);
    if let Some(d) = &field.description {
        out.push_str("\n\n");
        out.push_str(d);
    }
    if !field.values.is_empty() {
        let vals: Vec<String> = field.values.iter().map(|v| format!("`{v}`")).collect();
        out.push_str(&format!("\n\nOne of: {}", vals.join(", ")));
    }
    Some(out)
}

/// The path of the JSON key whose quoted token holds byte `offset` (a string followed by
/// `:`), found by scanning, so that a buffer broken elsewhere still gets hovers.
fn json_key_at(text: &str, offset: usize) -> Option<Vec<String>> {
    let offset = offset.min(text.len());
    // The string around the cursor: from the last unescaped quote before it.
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line_end = text[offset..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| offset + i);
    let quotes: Vec<usize> = text[line_start..line_end]
        .char_indices()
        .filter(|&(i, c)| c == '"' && !text[line_start..line_start + i].ends_with('\\'))
        .map(|(i, _)| line_start + i)
        .collect();
    let (open, close) = quotes
        .chunks(2)
        .filter(|w| w.len() == 2)
        .map(|w| (w[0], w[1]))
        .find(|&(o, c)| o <= offset && offset <= c)?;
    if !text[close + 1..].trim_start().starts_with(':') {
        return None;
    }
    match json_place(&text[..=open])? {
        Place::Key { mut path, .. } => {
            let key: String = serde_json::from_str(&text[open..=close]).ok()?;
            path.push(key);
            Some(path)
        }
        Place::Value { .. } => None,
    }
}

/// Byte offsets of 1-based (line, character) places, with the last line's character
/// offsets kept: keys come in line order, so a long one-line mapping is split once.
struct Columns<'t> {
    text: &'t str,
    starts: Vec<usize>,
    line: usize,
    chars: Vec<usize>,
}

impl Columns<'_> {
    fn byte_at(&mut self, line: u32, column: u32) -> Option<usize> {
        let index = (line as usize).checked_sub(1)?;
        let start = *self.starts.get(index)?;
        if self.line != index {
            let end = self
                .starts
                .get(index + 1)
                .copied()
                .unwrap_or(self.text.len());
            self.chars = self.text[start..end]
                .char_indices()
                .map(|(i, _)| start + i)
                .collect();
            self.line = index;
        }
        let skip = (column as usize).saturating_sub(1);
        Some(self.chars.get(skip).copied().unwrap_or_else(|| {
            self.starts
                .get(index + 1)
                .copied()
                .unwrap_or(self.text.len())
        }))
    }
}

/// Find the map key whose token holds `offset`, pushing the keys (and item indexes) on
/// the way into `path`.
fn key_at(node: &Node, columns: &mut Columns<'_>, offset: usize, path: &mut Vec<String>) -> bool {
    match &node.value {
        NodeValue::Map(entries) => {
            for e in entries {
                let key = e.key.key_text();
                if let Some(at) = columns.byte_at(e.key.pos.line.get(), e.key.pos.column.get()) {
                    let text = columns.text;
                    let quoted = matches!(text[at..].chars().next(), Some('"' | '\''));
                    let end = at + key.len() + if quoted { 2 } else { 0 };
                    if (at..=end).contains(&offset) {
                        path.push(key);
                        return true;
                    }
                }
                path.push(key);
                if key_at(&e.value, columns, offset, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                if key_at(item, columns, offset, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

/// Completion items at byte `offset` of a pack.json buffer: the keys the enclosing object
/// may still have, or the values the field takes. (YAML files get hovers only.)
pub(super) fn complete(kind: SchemaKind, text: &str, offset: usize) -> Value {
    if kind != SchemaKind::Pack {
        return Value::Null;
    }
    let Some(place) = json_place(&text[..offset.min(text.len())]) else {
        return Value::Null;
    };
    let items: Vec<Value> = match place {
        Place::Key {
            path,
            present,
            in_string,
        } => {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(FieldDoc { properties, .. }) = kind.field(&refs) else {
                return Value::Null;
            };
            properties
                .into_iter()
                .filter(|(k, _)| !present.contains(k))
                .map(|(k, d)| {
                    let insert = if in_string {
                        k.clone()
                    } else {
                        format!("\"{k}\": ")
                    };
                    json!({"label": k, "kind": 10, "detail": d, "insertText": insert})
                })
                .collect()
        }
        Place::Value { path, in_string } => {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(field) = kind.field(&refs) else {
                return Value::Null;
            };
            field
                .values
                .into_iter()
                .map(|v| {
                    let insert = if in_string { v.clone() } else { format!("\"{v}\"") };
                    json!({"label": v, "kind": 12, "detail": field.description, "insertText": insert})
                })
                .collect()
        }
    };
    json!({"isIncomplete": false, "items": items})
}

#[derive(Debug, PartialEq)]
enum Place {
    /// Where a key goes in the object at `path` (which already has `present`).
    Key {
        path: Vec<String>,
        present: Vec<String>,
        in_string: bool,
    },
    /// Where the value at `path` goes.
    Value { path: Vec<String>, in_string: bool },
}

/// Nesting beyond which completion gives up (the parsers' own depth limit).
const MAX_DEPTH: usize = 128;

struct Frame {
    object: bool,
    key: Option<String>,
    present: Vec<String>,
    index: usize,
    expecting_key: bool,
}

/// Where the end of `prefix` (the text before the cursor) is, by a tolerant scan of
/// JSON structure (the rest of the buffer may be broken while typing).
fn json_place(prefix: &str) -> Option<Place> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut string: Option<String> = None;
    let mut escaped = false;
    for c in prefix.chars() {
        if let Some(s) = &mut string {
            if escaped {
                escaped = false;
                s.push(c);
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                let s = string.take().unwrap_or_default();
                if let Some(top) = stack.last_mut()
                    && top.object
                    && top.expecting_key
                {
                    top.present.push(s.clone());
                    top.key = Some(s);
                }
            } else {
                s.push(c);
            }
            continue;
        }
        match c {
            '"' => string = Some(String::new()),
            '{' | '[' if stack.len() >= MAX_DEPTH => return None,
            '{' | '[' => stack.push(Frame {
                object: c == '{',
                key: None,
                present: Vec::new(),
                index: 0,
                expecting_key: c == '{',
            }),
            '}' | ']' => {
                stack.pop();
            }
            ',' => {
                if let Some(top) = stack.last_mut() {
                    if top.object {
                        top.expecting_key = true;
                        top.key = None;
                    } else {
                        top.index += 1;
                    }
                }
            }
            ':' => {
                if let Some(top) = stack.last_mut() {
                    top.expecting_key = false;
                }
            }
            _ => {}
        }
    }
    let top = stack.last()?;
    let mut path: Vec<String> = Vec::new();
    for f in &stack[..stack.len() - 1] {
        if f.object {
            path.push(f.key.clone()?);
        } else {
            path.push(f.index.to_string());
        }
    }
    let in_string = string.is_some();
    if top.object && top.expecting_key {
        let mut present = top.present.clone();
        // The key being typed is not "present" yet.
        if in_string {
            present.retain(|k| Some(k) != top.key.as_ref());
        }
        return Some(Place::Key {
            path,
            present,
            in_string,
        });
    }
    if top.object {
        path.push(top.key.clone()?);
    } else {
        path.push(top.index.to_string());
    }
    Some(Place::Value { path, in_string })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_place_before_the_cursor_is_found_in_broken_json() {
        assert_eq!(
            json_place(r#"{"name": "x", "#),
            Some(Place::Key {
                path: vec![],
                present: vec!["name".into()],
                in_string: false
            })
        );
        assert_eq!(
            json_place(r#"{"name": "x", "lay"#),
            Some(Place::Key {
                path: vec![],
                present: vec!["name".into()],
                in_string: true
            })
        );
        assert_eq!(
            json_place(r#"{"layer": "#),
            Some(Place::Value {
                path: vec!["layer".into()],
                in_string: false
            })
        );
        assert_eq!(
            json_place(r#"{"cloudTypes": ["aws", "a"#),
            Some(Place::Value {
                path: vec!["cloudTypes".into(), "1".into()],
                in_string: true
            })
        );
        assert_eq!(
            json_place(r#"{"a\"b": {"#),
            Some(Place::Key {
                path: vec!["a\"b".into()],
                present: vec![],
                in_string: false
            })
        );
        assert_eq!(json_place("x"), None);
    }

    #[test]
    fn completion_offers_missing_keys_and_enum_values() {
        let keys = complete(SchemaKind::Pack, r#"{"name": "x", "#, 14);
        let labels: Vec<&str> = keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap())
            .collect();
        assert!(
            labels.contains(&"layer") && !labels.contains(&"name"),
            "{labels:?}"
        );
        let text = r#"{"layer": "#;
        let values = complete(SchemaKind::Pack, text, text.len());
        let items = values["items"].as_array().unwrap();
        assert!(
            items.iter().any(|i| i["insertText"] == "\"addon\""),
            "{values}"
        );
    }

    #[test]
    fn hovers_on_keys_show_the_schema_description() {
        let text = "{\n  \"name\": \"x\",\n  \"layer\": \"addon\"\n}";
        let at = text.find("layer").unwrap() + 2;
        let h = hover(SchemaKind::Pack, text, at).unwrap();
        assert!(h.starts_with("**layer**") && h.contains("`addon`"), "{h}");
        // On a value, not a key: nothing.
        assert!(hover(SchemaKind::Pack, text, text.find("addon").unwrap() + 1).is_none());
        let yaml = "presets:\n  - name: a\n    group: g\n";
        let h = hover(SchemaKind::Presets, yaml, yaml.find("group").unwrap()).unwrap();
        assert!(h.starts_with("**group**"), "{h}");
    }

    #[test]
    fn hostile_buffers_stay_linear_and_bounded() {
        // 16 MiB of `[`: completion gives up at the depth cap instead of growing a stack.
        let deep = format!("{{\"a\": {}", "[".repeat(16 << 20));
        assert_eq!(complete(SchemaKind::Pack, &deep, deep.len()), Value::Null);
        // A one-line flow mapping of 100 000 keys: a hover near the end splits the line
        // once, not once per key (this would take minutes if quadratic).
        let keys: Vec<String> = (0..100_000).map(|i| format!("k{i}: 1")).collect();
        let yaml = format!("presets: [{{{}, group: g}}]\n", keys.join(", "));
        let at = yaml.find("group").unwrap();
        assert!(hover(SchemaKind::Presets, &yaml, at).is_some());
        // Quotes are paired on the cursor's line only.
        let many = format!("{{\"name\": 1,\n{}\n}}", "\"".repeat(1 << 20));
        assert!(hover(SchemaKind::Pack, &many, 3).is_some());
    }
}
