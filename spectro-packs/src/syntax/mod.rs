//! Span-keeping parsers for JSON and YAML.
//!
//! Both produce the same [`Node`] tree, in which every key and value carries the
//! 1-based position where it starts. Rules use it to point at the exact node.

mod json;
mod node;
mod yaml;
mod yaml_fast;

pub use json::parse_json;
pub use node::{
    Document, DuplicateKey, Entry, MAX_LISTED_DUPLICATES, Node, NodeValue, ParseError,
    pointer_escape,
};
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

/// The token that starts at character `start` (0-based) of `line`: its exclusive end
/// (a character index) and whether it is a whole scalar.
///
/// A token is a quoted string with its quotes (JSON and YAML double quotes with `\`
/// escapes, YAML single quotes with `''`), an opening `{` or `[` alone, else a run up to
/// whitespace, one of `,]}#` or a key's `:`; at least one character when the line has
/// one at `start`. *Whole*
/// means a terminated quoted string, or a plain word that nothing but `:`, `,`, `]`,
/// `}` or a comment follows, so that replacing the token replaces the value and nothing
/// else (`namespace: My NS` has the token `My`, which is not the value).
pub(crate) fn token_at(line: &[char], start: usize) -> (usize, bool) {
    let start = start.min(line.len());
    let mut end = start;
    let mut whole = false;
    match line.get(start) {
        // A mapping or sequence (a finding about a whole JSON object): its opening bracket.
        Some('{' | '[') => end += 1,
        Some(&q @ ('"' | '\'')) => {
            end += 1;
            while end < line.len() {
                let c = line[end];
                end += 1;
                if q == '"' && c == '\\' {
                    end = (end + 1).min(line.len());
                } else if c == q {
                    // `''` inside a single-quoted YAML string is a quote.
                    if q == '\'' && line.get(end) == Some(&'\'') {
                        end += 1;
                        continue;
                    }
                    whole = true;
                    break;
                }
            }
        }
        Some(_) => {
            while end < line.len() {
                let c = line[end];
                let key_end = c == ':' && line.get(end + 1).is_none_or(|n| n.is_whitespace());
                if c.is_whitespace() || matches!(c, ',' | ']' | '}' | '#') || key_end {
                    break;
                }
                end += 1;
            }
            end = end.max(start + 1).min(line.len());
            let rest = &line[end..];
            let gap = rest.iter().take_while(|c| c.is_whitespace()).count();
            whole = match rest.get(gap) {
                None | Some(':' | ',' | ']' | '}') => true,
                // A comment needs a space before it; `a#b` is one plain scalar.
                Some('#') => gap > 0,
                Some(_) => false,
            };
        }
        None => {}
    }
    (end, whole)
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
