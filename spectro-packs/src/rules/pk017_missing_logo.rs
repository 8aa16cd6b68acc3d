//! PK017 `missing-logo`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK017",
    name: "missing-logo",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "The pack has no logo.png",
    explanation: "## What it does\nWarns when the pack has no `logo.png` at its root.\n\n## Why\n\
Palette's docs list the logo as optional, but the custom-pack guide says a pack must have one \
and the community repository's CI requires it; the UI shows a blank tile without it.\n\n\
## Example\nA pack with `pack.json` and `values.yaml` only.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.pack.tree_truncated {
        return; // FS005: the file list is partial
    }
    if c.pack.entry("logo.png").is_none() {
        c.push(RULE.diag("logo.png", "", None, "the pack has no logo.png".into()));
    }
}
