//! SC003 `invalid-schema-template`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::syntax::pointer_escape;
use crate::values_schema::parse_constraint;

pub(crate) const RULE: Rule = Rule {
    code: "SC003",
    name: "invalid-schema-template",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A schema.yaml template does not parse",
    explanation: "## What it does\nParses each `schema` template: `{{ f1 | f2 ... }}` with the \
functions `required`, `readonly`, `format \"<spec>\"` and `hints \"...\"...`; format specs are \
`${type}` tokens with optional `:[a-b]`, `:/regex/` or `:[A,B]` arguments. Regexes must \
compile.\n\n## Why\nPalette evaluates these templates in the profile editor; a broken one \
disables validation of the parameter or breaks the form.\n\n## Example\n```yaml\n\
charts.app.port:\n  schema: '{{ requird | format \"${number}\" }}'\n```",
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
        let Some(text) = tpl.as_str() else { continue };
        if let Err(err) = parse_constraint(text) {
            let pointer = format!("/{}/schema", pointer_escape(&e.key.key_text()));
            c.diagnostics.push(RULE.diag(
                "schema.yaml",
                &pointer,
                Some(tpl.pos),
                format!("invalid schema template: {err}"),
            ));
        }
    }
}
