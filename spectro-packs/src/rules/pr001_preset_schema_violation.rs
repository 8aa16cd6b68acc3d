//! PR001 `preset-schema-violation`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::schema::{SchemaKind, validate};

pub(crate) const RULE: Rule = Rule {
    code: "PR001",
    name: "preset-schema-violation",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "presets.yaml does not have the documented shape",
    explanation: "## What it does\nValidates presets.yaml against `presets.schema.json`: a \
top-level `presets` list whose items have `name`, `displayName`, `group` and `add` (a YAML \
string), and optionally `remove` (a list of dotted parameter paths). An empty file is \
allowed.\n\n## Why\nPalette shows presets in the profile editor and applies `add`/`remove` to \
the values; a preset without `group` cannot be offered as an exclusive choice.\n\n## Example\n\
```yaml\npresets:\n  - name: ha\n    displayName: High availability\n    add: |\n      replicas: 3\n```\n(no `group`)",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.presets.document() else {
        return;
    };
    if doc.root.is_null() {
        return;
    }
    for v in validate(SchemaKind::Presets, &doc.root.to_json()) {
        let pos = node_position(&doc.root, &v.pointer, false);
        c.diagnostics
            .push(RULE.diag("presets.yaml", &v.pointer, Some(pos), v.message));
    }
}
