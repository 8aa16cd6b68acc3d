//! PK003 `duplicate-json-key`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK003",
    name: "duplicate-json-key",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A key appears twice in the same pack.json object",
    explanation: "## What it does\nReports a key defined more than once in one JSON object of \
`pack.json`.\n\n## Why\nJSON parsers disagree on which copy wins (most keep the last), so the \
pack means different things to different tools. Helm treats duplicate keys as errors for the \
same reason.\n\n## Example\n```json\n{\"version\": \"1.0.0\", \"version\": \"1.0.1\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.pack_json.document() else {
        return;
    };
    for d in &doc.duplicates {
        let key = d.pointer.rsplit('/').next().unwrap_or_default();
        let msg = format!(
            "key `{key}` is defined again here (first at line {})",
            d.first.line
        );
        c.push(RULE.diag("pack.json", &d.pointer, Some(d.again), msg));
    }
    if let Some(at) = doc.duplicates_cut_at {
        let msg = super::ym002_duplicate_yaml_key::cut_message();
        c.push(RULE.diag("pack.json", "", Some(at), msg));
    }
}
