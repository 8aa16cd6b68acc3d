//! YM001 `invalid-yaml`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "YM001",
    name: "invalid-yaml",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "values.yaml, presets.yaml or schema.yaml is not valid YAML",
    explanation: "## What it does\nReports a syntax error in values.yaml, presets.yaml or \
schema.yaml at the line and column where parsing stopped. Also refuses nesting deeper than 128 \
levels, alias expansion beyond 100 000 nodes (billion laughs), and more than one document.\n\n\
## Why\nPalette parses these files when the pack is used in a profile; a syntax error makes the \
pack unusable.\n\n## Example\n```yaml\npack:\n  namespace: [oops\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    for sf in [&c.pack.values, &c.pack.presets, &c.pack.schema] {
        if let FileStatus::Invalid(e) = &sf.status
            && !e.strict_only
        {
            let d = RULE.diag(
                &sf.path,
                "",
                Some(e.position),
                format!("{} is not valid YAML: {}", sf.path, e.message),
            );
            c.diagnostics.push(d);
        }
    }
}
