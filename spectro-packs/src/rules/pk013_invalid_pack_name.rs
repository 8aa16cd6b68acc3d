//! PK013 `invalid-pack-name`.
use std::sync::LazyLock;

use regex::Regex;

use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;

/// An OCI repository path component (distribution spec), which the name becomes.
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$").expect("valid regex"));

pub(crate) const RULE: Rule = Rule {
    code: "PK013",
    name: "invalid-pack-name",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "The pack name cannot be used as a registry repository name",
    explanation: "## What it does\nChecks that `name` is lowercase letters and digits separated by \
`.`, `_`, `__` or dashes, at most 128 characters: an OCI repository path component.\n\n\
## Why\nPalette stores the pack at `<base>/spectro-packs/archive/<name>:<version>`; a name with \
uppercase letters, spaces, slashes or `..` cannot be pushed, and `.`/`..`/`a/b` are path \
traversal when used as a directory name.\n\n## Example\n```json\n{\"name\": \"My_Pack\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let Some(name) = root.get("name").and_then(|n| n.as_str()) else {
        return;
    };
    if name.is_empty() || (NAME.is_match(name) && name.len() <= 128) {
        return;
    }
    let pos = node_position(root, "/name", false);
    let mut d = RULE.diag(
        "pack.json",
        "/name",
        Some(pos),
        format!(
            "pack name `{}` is not a valid registry repository name",
            crate::diagnostic::sanitize(name)
        ),
    );
    let lower = name.to_ascii_lowercase().replace([' ', '/'], "-");
    if NAME.is_match(&lower) {
        d.help = Some(format!(
            "use lowercase letters, digits, `.`, `_` or `-`, e.g. `{lower}`"
        ));
    } else {
        d.help = Some("use lowercase letters, digits, `.`, `_` or `-`".into());
    }
    c.push(d);
}
