//! PK004 `missing-required-field`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::schema::ViolationKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK004",
    name: "missing-required-field",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "pack.json lacks a required field",
    explanation: "## What it does\nReports fields that pack.json's schema requires: `name`, \
`displayName`, `version` and `layer` at the top; `packName`, `layer` and `type` in each \
dependency; `type` in each resource; `scheduleType` in each component.\n\n## Why\nPalette's \
pack schema requires them; a dependency without `type` cannot be evaluated.\n\n## Example\n\
```json\n{\"name\": \"nginx\", \"version\": \"1.0.0\", \"layer\": \"addon\"}\n```\n(no `displayName`)",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let found: Vec<_> = c
        .pack_json_violations
        .iter()
        .filter(|v| matches!(v.kind, ViolationKind::Required { .. }))
        .map(|v| (v.pointer.clone(), v.message.clone()))
        .collect();
    for (pointer, message) in found {
        let pos = node_position(root, &pointer, false);
        c.push(RULE.diag("pack.json", &pointer, Some(pos), message));
    }
}
