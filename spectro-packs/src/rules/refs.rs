//! Shared helpers for rules about paths listed in pack.json.

use crate::syntax::Node;

/// `(pointer, node, text)` of every string item under `key` of pack.json.
pub(crate) fn listed_paths<'a>(root: &'a Node, key: &str) -> Vec<(String, &'a Node, &'a str)> {
    let Some(items) = root.get(key).and_then(Node::as_seq) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_str().map(|s| (format!("/{key}/{i}"), n, s)))
        .collect()
}

/// Whether a listed path leaves the pack: absolute, drive-letter, or with a `..` step
/// (backslashes count as separators).
pub(crate) fn escapes(path: &str) -> bool {
    let p = path.replace('\\', "/");
    p.starts_with('/') || p.as_bytes().get(1) == Some(&b':') || p.split('/').any(|c| c == "..")
}

/// Normalise a listed path for lookup in the pack tree (`./a//b` → `a/b`).
pub(crate) fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}
