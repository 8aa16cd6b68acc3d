//! PK002 `invalid-json`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "PK002",
    name: "invalid-json",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "pack.json is not valid JSON",
    explanation: "## What it does\nReports a `pack.json` that does not parse as strict JSON, at the \
line and column where parsing stopped. Nesting deeper than 128 levels is refused.\n\n\
## Why\nPalette parses pack.json as JSON; comments, trailing commas or a truncated file make \
the pack unusable.\n\n## Example\n```json\n{\"name\": \"nginx\",}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if let FileStatus::Invalid(e) = &c.pack.pack_json.status {
        let d = RULE.diag(
            "pack.json",
            "",
            Some(e.position),
            format!("pack.json is not valid JSON: {}", e.message),
        );
        c.push(d);
    }
}
