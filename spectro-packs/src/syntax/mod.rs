//! Span-keeping parsers for JSON and YAML.
//!
//! Both produce the same [`Node`] tree, in which every key and value carries the
//! 1-based position where it starts. Rules use it to point at the exact node.

mod json;
mod node;
mod yaml;

pub use json::parse_json;
pub use node::{Document, DuplicateKey, Entry, Node, NodeValue, ParseError, pointer_escape};
pub(crate) use yaml::{EmbeddedYaml, check_yaml_stream};
pub use yaml::{YamlLimits, parse_yaml, parse_yaml_stream};

/// Text of line `line` (1-based) of `text`, without its line ending.
pub fn source_line(text: &str, line: usize) -> Option<&str> {
    lines(text).nth(line.checked_sub(1)?)
}

/// The lines of `text` without their endings. A line ends at `\n`, `\r\n` or a lone
/// `\r`: how YAML, LSP and editors count them, so positions, source lines, suppression
/// comments and editors agree (`str::lines` would take a CR-only file as one line).
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut starts = line_starts(text);
    // A final line ending starts no line (as with `str::lines`; "" has no lines).
    if starts.last() == Some(&text.len()) {
        starts.pop();
    }
    (0..starts.len()).map(move |i| {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        text[starts[i]..end].trim_end_matches(['\n', '\r'])
    })
}

/// Byte offsets where each line starts (see [`lines`] for where lines end).
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 1;
            }
            b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr_like_yaml_and_editors() {
        let got: Vec<&str> = super::lines("a\nb\r\nc\rd\r").collect();
        assert_eq!(got, ["a", "b", "c", "d"]);
        assert_eq!(super::lines("").count(), 0);
        assert_eq!(super::lines("\n\n").collect::<Vec<_>>(), ["", ""]);
        assert_eq!(super::source_line("x: 1\ry: [\rz", 3), Some("z"));
        // JSON positions count the same lines, syntax errors too (in characters).
        let doc = super::parse_json("{\r\"a\":\r 1}").unwrap();
        assert_eq!(doc.root.get("a").unwrap().pos.line.get(), 3);
        let e = super::parse_json("{\r\"é\": 1,\r}").unwrap_err();
        assert_eq!(
            (e.position.line.get(), e.position.column.get()),
            (3, 1),
            "{e}"
        );
        let e = super::parse_json("{\n\"é\": 1,\n}").unwrap_err();
        assert_eq!(
            (e.position.line.get(), e.position.column.get()),
            (3, 1),
            "{e}"
        );
        let e = super::parse_json("{\"é\": x}").unwrap_err();
        assert_eq!(
            (e.position.line.get(), e.position.column.get()),
            (1, 7),
            "{e}"
        );
    }
}
