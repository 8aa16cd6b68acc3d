//! PK020 `version-not-a-tag`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK020",
    name: "version-not-a-tag",
    severity: Severity::Error,
    since: "0.2.0",
    summary: "The pack version cannot be an OCI tag (SemVer build metadata `+...`)",
    explanation: "## What it does\nReports a `version` with SemVer build metadata \
(`1.3.1+build.7`) or any other character an OCI tag cannot hold.\n\n## Why\nA pack is \
pushed as `<name>:<version>`; OCI tags allow only letters, digits, `_`, `.` and `-` (at most \
128), so such a version validates and builds but can never be pushed or synced by \
Palette.\n\n## Example\n```json\n{\"version\": \"1.3.1+build.7\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let Some(v) = root.get("version").and_then(|n| n.as_str()) else {
        return;
    };
    let name = root.get("name").and_then(|n| n.as_str()).unwrap_or("pack");
    // Leading `v` and non-SemVer versions have their own rules; this one is about tags.
    let tag_ok = !v.is_empty()
        && v.len() <= 128
        && !v.starts_with(['.', '-'])
        && v.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'));
    if tag_ok {
        return;
    }
    let pos = node_position(root, "/version", false);
    let mut d = RULE.diag(
        "pack.json",
        "/version",
        Some(pos),
        format!(
            "version `{}` cannot be an OCI tag, so `{}:{}` can never be pushed",
            crate::sanitize(v),
            crate::sanitize(name),
            crate::sanitize(v)
        ),
    );
    if let Some((core, _)) = v.split_once('+') {
        d.help = Some(format!(
            "drop the build metadata (`{}`) or move it into a pre-release (`{}-{}`)",
            crate::sanitize(core),
            crate::sanitize(core),
            crate::sanitize(&v[core.len() + 1..])
        ));
    }
    c.push(d);
}
