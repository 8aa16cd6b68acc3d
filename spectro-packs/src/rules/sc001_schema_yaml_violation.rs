//! SC001 `schema-yaml-violation`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::schema::{SchemaKind, validate};

pub(crate) const RULE: Rule = Rule {
    code: "SC001",
    name: "schema-yaml-violation",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "schema.yaml does not have the documented shape",
    explanation: "## What it does\nValidates schema.yaml against `schema-yaml.schema.json`: a \
mapping from dotted parameter paths to `{schema: '<template>'}`. An empty file is allowed.\n\n\
## Why\nPalette reads only the `schema` key of each entry; anything else is a typo that \
silently disables the constraint.\n\n## Example\n```yaml\ncharts.app.port:\n  shema: '{{ required }}'\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.schema.document() else {
        return;
    };
    if doc.root.is_null() {
        return;
    }
    for v in validate(SchemaKind::SchemaYaml, &doc.root.to_json()) {
        let pos = node_position(&doc.root, &v.pointer, false);
        c.diagnostics
            .push(RULE.diag("schema.yaml", &v.pointer, Some(pos), v.message));
    }
}
