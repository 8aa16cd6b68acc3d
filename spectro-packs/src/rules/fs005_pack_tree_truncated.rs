//! FS005 `pack-tree-truncated`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "FS005",
    name: "pack-tree-truncated",
    severity: Severity::Error,
    since: "0.2.0",
    summary: "The pack has more entries or deeper folders than spectro reads",
    explanation: "## What it does\nReports a pack directory with more entries than the load \
limit (100,000 by default) or folders nested deeper than 64 levels. Checks that need the \
file list (listed charts and manifests, logo, ansible roles) are skipped rather than guessed.\n\n\
## Why\nNo real pack comes near these limits; hitting one means a runaway folder (a \
`node_modules`, a build tree, a symlink loop copied as files) that would also bloat the \
archive. Silently reading part of the tree would produce false \"missing file\" findings \
and miss real ones.\n\n## Example\nA pack folder holding a copy of a 200,000-file cache.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.pack.tree_truncated {
        let msg = format!(
            "the pack folder has more than {} entries or is nested deeper than 64 levels; only part of it was read",
            c.pack.tree.len()
        );
        c.push(RULE.diag("", "", None, msg));
    }
}
