//! VL001 `missing-values-file`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "VL001",
    name: "missing-values-file",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "The pack has no values.yaml",
    explanation: "## What it does\nReports a pack without `values.yaml`.\n\n## Why\nPalette requires \
`values.yaml` in every pack, even an OS pack with nothing to configure (an empty file is \
fine).\n\n## Example\nA pack with `pack.json` and `charts/` only.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if matches!(c.pack.values.status, FileStatus::Missing) {
        let mut d = RULE.diag(
            "values.yaml",
            "",
            None,
            "values.yaml is missing; every pack needs one".into(),
        );
        d.help = Some("an empty values.yaml is enough for packs without parameters".into());
        c.push(d);
    }
}
