//! SC002 `schema-key-not-in-values`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::syntax::pointer_escape;

pub(crate) const RULE: Rule = Rule {
    code: "SC002",
    name: "schema-key-not-in-values",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A schema.yaml key is not a parameter path in values.yaml",
    explanation: "## What it does\nChecks that every schema.yaml key (a dotted path, `$[]` for \
array items) names a parameter that exists in values.yaml or is added by one of the pack's presets. Paths under a chart that values.yaml \
configures (`charts.<chart>....`) are accepted, since they may be chart defaults.\n\n## Why\nPalette's docs: the key \
must be the complete path of a parameter defined in the values; a constraint on a path that \
does not exist never applies.\n\n## Example\n```yaml\ncharts.app.prot:\n  schema: '{{ format \"${number}\" }}'\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.values.is_none() {
        return;
    }
    let Some(doc) = c.pack.schema.document() else {
        return;
    };
    let Some(entries) = doc.root.as_map() else {
        return;
    };
    for e in entries {
        let key = e.key.key_text();
        if c.param_may_exist(&key) {
            continue;
        }
        let msg = format!("`{key}` is not a parameter in values.yaml (nor added by a preset)");
        c.diagnostics.push(RULE.diag(
            "schema.yaml",
            &format!("/{}", pointer_escape(&key)),
            Some(e.key.pos),
            msg,
        ));
    }
}
