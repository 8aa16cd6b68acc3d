//! SP002 `invalid-suppression`.
use super::Rule;
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "SP002",
    name: "invalid-suppression",
    severity: Severity::Warning,
    since: "0.2.0",
    summary: "a `# spectro:` comment is malformed or names no rule",
    explanation: "## What it does\nReports `# spectro:` comments that spectro cannot act on: an \
unknown directive, no `[CODE, ...]` list, or a code or name that is no rule.\n\n## Why\nA \
suppression with a typo silences nothing, and the finding it meant to hide shows up anyway; a \
blanket suppression without codes would hide findings nobody has looked at, so codes are \
required.\n\n## Example\n```yaml\nimages: []  # spectro: ignore[VL03]\n```\nUse \
`# spectro: ignore[VL003]`.",
};
