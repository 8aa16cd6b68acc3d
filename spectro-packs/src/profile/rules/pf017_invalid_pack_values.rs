//! PF017 `invalid-pack-values`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::profile::model::PackValues;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF017",
    name: "invalid-pack-values",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack's `values` string is not valid YAML",
    explanation: "## What it does\nParses each pack's `values` (a YAML document stored as one \
string) and reports where parsing stopped, as a line and column inside the values. YAML that \
only strict YAML 1.2 rejects but Go's parser accepts is not reported.\n\n## Why\nPalette parses \
the values when the profile is imported and again on every deployment; a syntax error blocks \
both. A common cause: a profile variable written without quotes, `namespace: {{ \
.spectro.var.ns }}`, which YAML reads as a flow mapping.\n\n## Example\n```json\n\"values\": \
\"pack:\\n  namespace: [oops\\n\"\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for p in &c.profile.packs {
        let PackValues::Invalid { error, .. } = &p.values else {
            continue;
        };
        if error.strict_only {
            continue;
        }
        let msg = format!(
            "values of pack {} are not valid YAML (values line {}, column {}): {}",
            sanitize(&p.label()),
            error.position.line,
            error.position.column,
            sanitize(&error.message)
        );
        found.push(c.at(&RULE, &p.field("values"), false, msg));
    }
    c.diagnostics.extend(found);
}
