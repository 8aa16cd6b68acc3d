//! PK009 `version-not-semver`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::version::PackVersion;

pub(crate) const RULE: Rule = Rule {
    code: "PK009",
    name: "version-not-semver",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "The pack version is not a Semantic Version",
    explanation: "## What it does\nWarns when `version` is not SemVer 2.0 (`MAJOR.MINOR.PATCH` with \
optional `-pre` and `+build`). Versions such as `1.5` or `23.07.1` still load and compare, \
but are flagged. A leading `v` is reported by PK010 instead.\n\n## Why\nPalette documents the \
pack version as a semantic version and builds wildcard tags (`1.28.x`) from it; non-SemVer \
versions sort and resolve unpredictably across tools.\n\n## Example\n```json\n\
{\"version\": \"1.5\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let Some(v) = root.get("version").and_then(|n| n.as_str()) else {
        return;
    };
    if v.is_empty() || v.trim_start().starts_with(['v', 'V']) {
        return;
    }
    if semver::Version::parse(v).is_ok() {
        return;
    }
    let pos = node_position(root, "/version", false);
    let msg = match PackVersion::parse(v) {
        Ok(_) => format!(
            "version `{v}` is not SemVer (MAJOR.MINOR.PATCH); it is accepted, but sorts loosely"
        ),
        Err(_) => format!(
            "version `{v}` is not a version: expected numbers separated by dots, like 1.2.3"
        ),
    };
    c.push(RULE.diag("pack.json", "/version", Some(pos), msg));
}
