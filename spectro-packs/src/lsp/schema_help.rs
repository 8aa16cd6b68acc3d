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

/// Whether a buffer of this schema is JSON: pack.json always, a profile when it starts
/// with `{` (an export; YAML profiles are the same shape in YAML).
fn is_json(kind: SchemaKind, text: &str) -> bool {
    kind == SchemaKind::Pack || (kind == SchemaKind::Profile && text.trim_start().starts_with('{'))
}

/// Markdown for the key under byte `offset` of `text`: its description and values.
pub(super) fn hover(kind: SchemaKind, text: &str, offset: usize) -> Option<String> {
    let path = match kind {
        // JSON being typed is often broken: find the key by scanning, not parsing.
        _ if is_json(kind, text) => json_key_at(text, offset)?,
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

/// Completion items at byte `offset` of a buffer: the keys the enclosing object may still
/// have, or the values the field takes. JSON (pack.json, profile exports) is scanned
/// tolerantly; YAML (presets.yaml, schema.yaml, YAML profiles) is read by indentation.
pub(super) fn complete(kind: SchemaKind, text: &str, offset: usize) -> Value {
    let json = is_json(kind, text);
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let place = if json {
        json_place(&text[..offset])
    } else {
        yaml_place(text, offset)
    };
    let Some(place) = place else {
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
                    let insert = if !json {
                        format!("{k}: ")
                    } else if in_string {
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
                    let insert = if in_string || !json {
                        v.clone()
                    } else {
                        format!("\"{v}\"")
                    };
                    json!({"label": v, "kind": 12, "detail": field.description, "insertText": insert})
                })
                .collect()
        }
    };
    json!({"isIncomplete": false, "items": items})
}

/// A YAML line: its indentation, whether it starts a sequence item (`- `), the column
/// where its content starts, and that content.
fn yaml_line(line: &str) -> (usize, bool, usize, &str) {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    match rest.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            let content = after.trim_start_matches(' ');
            (indent, true, line.len() - content.len(), content)
        }
        _ => (indent, false, indent, rest),
    }
}

/// The key of a `key: value` (or `key:`) line's content, and the value part.
fn yaml_key(content: &str) -> Option<(String, &str)> {
    let colon = content
        .char_indices()
        .find(|&(i, c)| {
            c == ':'
                && content[i + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })?
        .0;
    let key = content[..colon].trim();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .or_else(|| key.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))
        .unwrap_or(key);
    if key.is_empty() || key.starts_with('#') {
        return None;
    }
    Some((key.to_owned(), content[colon + 1..].trim_start()))
}

/// Lines of a YAML text that carry content (not blank, not comment-only).
fn content_line(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#')
}

/// Where byte `offset` of a YAML buffer is, from indentation alone (the buffer is often
/// broken while typing): a key being typed in the mapping at a path (with the keys its
/// siblings already use), or the value of a key. Sequence items count as index `0`:
/// schemas give every item the same shape.
fn yaml_place(text: &str, offset: usize) -> Option<Place> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line_end = text[offset..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| offset + i);
    let before = &text[line_start..offset];
    let (indent, dash, col, content) = yaml_line(before);
    if content.contains('#') || content.contains(['{', '[']) {
        return None;
    }
    let mut path_rev: Vec<String> = Vec::new();
    let mut present: Vec<String> = Vec::new();
    // Siblings (the same mapping) are lines whose content starts at `col`; a line that
    // starts an item ends the mapping going up.
    let mut want = col;
    let mut siblings = !dash;
    let mut after_dash = if dash { Some(indent) } else { None };
    if dash {
        path_rev.push("0".to_owned());
    }
    let lines: Vec<&str> = crate::syntax::lines(&text[..line_start]).collect();
    for (n, line) in lines.iter().rev().enumerate() {
        if n > 10_000 {
            return None;
        }
        if !content_line(line) {
            continue;
        }
        let (indent, is_item, kc, body) = yaml_line(line);
        if let Some(dash_at) = after_dash {
            // The parent of a sequence: a `key:` line at or left of the dash.
            if kc <= dash_at && !is_item {
                let (key, _) = yaml_key(body)?;
                path_rev.push(key);
                want = kc;
                after_dash = None;
            } else if is_item && indent < dash_at {
                // A sequence inside a sequence item: `- - x`, not completed.
                return None;
            }
            continue;
        }
        if kc == want && siblings {
            if let Some((key, _)) = yaml_key(body) {
                present.push(key);
            }
            if is_item {
                path_rev.push("0".to_owned());
                siblings = false;
                after_dash = Some(indent);
            }
            continue;
        }
        if kc < want {
            let (key, value) = yaml_key(body)?;
            if !value.is_empty() && !value.starts_with(['|', '>', '&', '!']) {
                return None;
            }
            path_rev.push(key);
            siblings = false;
            want = kc;
            if is_item {
                path_rev.push("0".to_owned());
                after_dash = Some(indent);
            }
        }
    }
    path_rev.reverse();
    let path = path_rev;
    if let Some((key, value)) = yaml_key(content) {
        let mut path = path;
        path.push(key);
        return Some(Place::Value {
            path,
            in_string: value.starts_with(['"', '\'']),
        });
    }
    if !content
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
    {
        return None;
    }
    // Siblings after the cursor's line too.
    for line in crate::syntax::lines(&text[line_end..]).take(10_000) {
        if !content_line(line) {
            continue;
        }
        let (indent, is_item, kc, body) = yaml_line(line);
        if kc < col || (is_item && indent < col) || (dash && is_item && kc == col) {
            break;
        }
        if kc == col
            && let Some((key, _)) = yaml_key(body)
        {
            present.push(key);
        }
    }
    Some(Place::Key {
        path,
        present,
        in_string: false,
    })
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

    /// The labels of a completion answer.
    fn labels_of(got: &Value) -> Vec<&str> {
        got["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn yaml_places_come_from_indentation() {
        let text = "presets:\n  - name: a\n    gr\n    displayName: A\n  - name: b\n    group: x\n";
        let at = text.find("gr\n").unwrap() + 2;
        assert_eq!(
            yaml_place(text, at),
            Some(Place::Key {
                path: vec!["presets".into(), "0".into()],
                present: vec!["name".into(), "displayName".into()],
                in_string: false,
            })
        );
        // The dash at the key's column, and a value being typed.
        let text = "presets:\n- name: a\n  group: \n";
        let at = text.find("group: ").unwrap() + 7;
        assert_eq!(
            yaml_place(text, at),
            Some(Place::Value {
                path: vec!["presets".into(), "0".into(), "group".into()],
                in_string: false,
            })
        );
        // A new item's first key.
        let text = "presets:\n  - name: a\n  - \n";
        let at = text.rfind("- ").unwrap() + 2;
        assert_eq!(
            yaml_place(text, at),
            Some(Place::Key {
                path: vec!["presets".into(), "0".into()],
                present: vec![],
                in_string: false,
            })
        );
        // In a comment or after a scalar value: nothing.
        assert_eq!(yaml_place("a: 1\n# pr", 9), None);
        assert_eq!(yaml_place("a: 1\n  b", 8), None);
        // Past the end, or inside a character: clamped.
        assert!(yaml_place("é", 1).is_some() && yaml_place("a", 99).is_some());
        // A bare dash at column 0, and a dash followed by two spaces.
        let text = "presets:\n-";
        assert!(yaml_place(text, text.len()).is_some());
        let text = "presets:\n  -  name: a\n  -  ";
        assert_eq!(
            yaml_place(text, text.len()),
            Some(Place::Key {
                path: vec!["presets".into(), "0".into()],
                present: vec![],
                in_string: false,
            })
        );
    }

    #[test]
    fn yaml_completion_offers_preset_keys_and_profile_enums() {
        let text = "presets:\n  - name: a\n    \n";
        let at = text.find("    \n").unwrap() + 4;
        let got = complete(SchemaKind::Presets, text, at);
        let labels = labels_of(&got);
        assert!(
            labels.contains(&"group") && !labels.contains(&"name"),
            "{labels:?}"
        );
        assert_eq!(
            got["items"][0]["insertText"]
                .as_str()
                .unwrap()
                .chars()
                .last(),
            Some(' ')
        );
        // A YAML profile's pack layer, and a JSON profile's.
        let yaml = "spec:\n  template:\n    packs:\n      - name: x\n        layer: \n";
        let at = yaml.find("layer: ").unwrap() + 7;
        let got = complete(SchemaKind::Profile, yaml, at);
        let labels = labels_of(&got);
        assert!(
            labels.contains(&"cni") && labels.contains(&"addon"),
            "{labels:?}"
        );
        let json = r#"{"spec": {"template": {"packs": [{"name": "x", "layer": "#;
        let got = complete(SchemaKind::Profile, json, json.len());
        assert!(
            got["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["insertText"] == "\"cni\"")
        );
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
