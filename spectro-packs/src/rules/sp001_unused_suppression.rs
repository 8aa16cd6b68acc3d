//! SP001 `unused-suppression`.
use super::Rule;
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "SP001",
    name: "unused-suppression",
    severity: Severity::Warning,
    since: "0.2.0",
    summary: "a `# spectro: ignore[...]` comment suppresses no finding",
    explanation: "## What it does\nReports each rule named in a `# spectro: ignore[CODE]` or \
`# spectro: ignore-file[CODE]` comment that silenced nothing in this run: the finding was fixed, \
moved to another line, or its rule is not selected. Like ruff's `RUF100`.\n\n## Why\nA stale \
suppression hides the next real finding on that line without anyone noticing.\n\n## Example\n\
```yaml\npack:\n  namespace: monitoring  # spectro: ignore[VL002]\n```\nThe namespace is valid, so \
the comment can go.",
};
