//! SC004 `unknown-format-type`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::syntax::pointer_escape;
use crate::values_schema::parse_constraint;

pub(crate) const RULE: Rule = Rule {
    code: "SC004",
    name: "unknown-format-type",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "A schema.yaml format uses a type Palette does not document",
    explanation: "## What it does\nWarns about `${type}` tokens other than string, password, \
number, boolean, list, ipv4 and version.\n\n## Why\nUndocumented types (real packs use \
`${input}`) may be accepted by today's UI but have no defined validation; values are not \
checked against them.\n\n## Example\n```yaml\ncharts.app.host:\n  schema: '{{ format \"${input}\" }}'\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.schema.document() else {
        return;
    };
    let Some(entries) = doc.root.as_map() else {
        return;
    };
    for e in entries {
        let Some(tpl) = e.value.get("schema") else {
            continue;
        };
        let Some(Ok(cons)) = tpl.as_str().map(parse_constraint) else {
            continue;
        };
        let Some(format) = cons.format else { continue };
        for name in format.unknown_types() {
            let pointer = format!("/{}/schema", pointer_escape(&e.key.key_text()));
            let msg = format!(
                "`${{{name}}}` is not a documented format type (string, password, number, boolean, list, ipv4, version)"
            );
            c.diagnostics
                .push(RULE.diag("schema.yaml", &pointer, Some(tpl.pos), msg));
        }
    }
}
