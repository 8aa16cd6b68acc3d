//! PF001 `invalid-profile-syntax`.
use super::ProfileChecker;
use crate::diagnostic::Severity;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF001",
    name: "invalid-profile-syntax",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "The profile file is not valid JSON (or YAML, for .yaml/.yml files)",
    explanation: "## What it does\nReports a syntax error in the profile file at the line and \
column where parsing stopped. Files ending in `.yaml` or `.yml` are read as YAML, anything else \
as JSON (Palette's export format).\n\n## Why\nPalette's import refuses a file it cannot parse, \
and no other check can run on it.\n\n## Example\n```json\n{\"metadata\": {\"name\": \"p\"},, \
\"spec\": {}}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    if let Err(e) = &c.profile.document {
        let fmt = if c.file.ends_with(".yaml") || c.file.ends_with(".yml") {
            "YAML"
        } else {
            "JSON"
        };
        let d = RULE.diag(
            &c.file,
            "",
            Some(e.position),
            format!("the profile is not valid {fmt}: {}", e.message),
        );
        c.push(d);
    }
}
