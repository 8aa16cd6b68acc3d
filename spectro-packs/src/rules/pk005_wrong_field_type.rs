//! PK005 `wrong-field-type`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::schema::ViolationKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK005",
    name: "wrong-field-type",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack.json field has the wrong JSON type",
    explanation: "## What it does\nReports a pack.json value whose JSON type differs from the \
schema: a string where an array is expected, a number in `annotations`, and so on.\n\n## Why\n\
Palette decodes pack.json into typed fields; a wrong type fails the upload or is silently \
dropped.\n\n## Example\n```json\n{\"cloudTypes\": \"all\"}\n```\n(`cloudTypes` must be an array)",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let found: Vec<_> = c
        .pack_json_violations
        .iter()
        .filter(|v| matches!(v.kind, ViolationKind::Type { .. }))
        .map(|v| (v.pointer.clone(), v.message.clone()))
        .collect();
    for (pointer, message) in found {
        let pos = node_position(root, &pointer, false);
        c.push(RULE.diag("pack.json", &pointer, Some(pos), message));
    }
}
