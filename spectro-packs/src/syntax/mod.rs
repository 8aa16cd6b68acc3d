//! Span-keeping parsers for JSON and YAML.
//!
//! Both produce the same [`Node`] tree, in which every key and value carries the
//! 1-based position where it starts. Rules use it to point at the exact node.

mod json;
mod node;
mod yaml;

pub use json::parse_json;
pub use node::{Document, DuplicateKey, Entry, Node, NodeValue, ParseError, pointer_escape};
pub(crate) use yaml::check_yaml_stream;
pub use yaml::{YamlLimits, parse_yaml, parse_yaml_stream};

/// Text of line `line` (1-based) of `text`, without its line ending.
pub fn source_line(text: &str, line: usize) -> Option<&str> {
    text.lines().nth(line.checked_sub(1)?)
}
