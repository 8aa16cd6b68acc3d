//! PK007 `schema-violation`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::schema::ViolationKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK007",
    name: "schema-violation",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "pack.json breaks another rule of the pack schema",
    explanation: "## What it does\nReports pack.json schema violations not covered by PK004-PK006, \
such as an empty `name`, `displayName` or `version`, or an empty dependency `packName`.\n\n\
## Why\nPalette's pack schema requires these strings to be non-empty.\n\n## Example\n\
```json\n{\"name\": \"\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let found: Vec<_> = c
        .pack_json_violations
        .iter()
        .filter(|v| matches!(v.kind, ViolationKind::Other))
        .map(|v| (v.pointer.clone(), v.message.clone()))
        .collect();
    for (pointer, message) in found {
        let pos = node_position(root, &pointer, false);
        c.push(RULE.diag("pack.json", &pointer, Some(pos), message));
    }
}
