//! SC005 `value-violates-schema`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::values_schema::{lookup, parse_constraint};

pub(crate) const RULE: Rule = Rule {
    code: "SC005",
    name: "value-violates-schema",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A values.yaml value does not satisfy its schema.yaml format",
    explanation: "## What it does\nChecks each default value in values.yaml against the `format` \
of its schema.yaml entry: numbers and ranges (`${number:[1-10]}`), booleans, list options, IPv4 \
addresses, versions, string regexes and composite formats such as `${ipv4} - ${ipv4}`. Empty \
values and template expressions are skipped (users fill them in). Password values are never \
printed.\n\n## Why\nPalette validates the same constraints when the profile is saved; a pack \
whose defaults fail its own schema cannot be used without edits.\n\n## Example\n```yaml\n\
# schema.yaml\ncharts.app.replicas:\n  schema: '{{ format \"${number:[1-5]}\" }}'\n\
# values.yaml\ncharts:\n  app:\n    replicas: 9\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(values) = c.values else { return };
    let Some(doc) = c.pack.schema.document() else {
        return;
    };
    let Some(entries) = doc.root.as_map() else {
        return;
    };
    let mut found = Vec::new();
    for e in entries {
        let Some(Ok(cons)) = e
            .value
            .get("schema")
            .and_then(|t| t.as_str())
            .map(parse_constraint)
        else {
            continue;
        };
        let Some(format) = &cons.format else { continue };
        let key = e.key.key_text();
        for (pointer, node) in lookup(values, &key).unwrap_or_default() {
            if let Some(problem) = format.check(node) {
                let msg = format!("`{key}`: {problem} (schema.yaml line {})", e.key.pos.line);
                found.push(RULE.diag("values.yaml", &pointer, Some(node.pos), msg));
            }
        }
    }
    c.diagnostics.extend(found);
}
