//! PK001 `missing-pack-json`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "PK001",
    name: "missing-pack-json",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "The pack has no pack.json",
    explanation: "## What it does\nReports a pack directory without a `pack.json` file.\n\n\
## Why\n`pack.json` holds the pack's identity (`name`, `version`, `layer`). Palette and every \
registry refuse a pack without it.\n\n## Example\nA folder holding only `values.yaml` and `charts/`.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if matches!(c.pack.pack_json.status, FileStatus::Missing) {
        c.push(RULE.diag(
            "pack.json",
            "",
            None,
            "pack.json is missing; every pack needs one".into(),
        ));
    }
}
