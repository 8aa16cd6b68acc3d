//! PR004 `preset-remove-path-not-found`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PR004",
    name: "preset-remove-path-not-found",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "A preset removes a parameter that values.yaml does not have",
    explanation: "## What it does\nChecks that each dotted path in a preset's `remove` list exists \
in values.yaml or in another preset's `add`. Paths under a chart that values.yaml \
configures (`charts.<chart>....`) are not flagged, since they may be chart defaults.\n\n## Why\nRemoving a path that does not exist does nothing: usually the values \
were restructured and the preset no longer does what its name says.\n\n## Example\n```yaml\n\
remove:\n  - charts.nginx.controler.metrics\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.values.is_none() {
        return;
    }
    let mut found = Vec::new();
    let Some(doc) = c.pack.presets.document() else {
        return;
    };
    let Some(items) = doc.root.get("presets").and_then(|p| p.as_seq()) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(removes) = item.get("remove").and_then(|r| r.as_seq()) else {
            continue;
        };
        for (j, r) in removes.iter().enumerate() {
            let Some(path) = r.as_str() else { continue };
            if path.is_empty() || c.param_may_exist(path) {
                continue;
            }
            let msg =
                format!("`{path}` does not exist in values.yaml, so removing it does nothing");
            found.push(RULE.diag(
                "presets.yaml",
                &format!("/presets/{i}/remove/{j}"),
                Some(r.pos),
                msg,
            ));
        }
    }
    c.diagnostics.extend(found);
}
