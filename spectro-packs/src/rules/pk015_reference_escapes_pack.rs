//! PK015 `reference-escapes-pack`.
use super::refs::{escapes, listed_paths};
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK015",
    name: "reference-escapes-pack",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A path in `charts` or `kubeManifests` points outside the pack",
    explanation: "## What it does\nReports listed paths that are absolute (`/etc/x`, `C:\\x`) or \
climb out of the pack with `..` (backslashes count as separators).\n\n## Why\nOnly the pack \
directory is archived and uploaded; a path outside it works on the author's machine and \
nowhere else, and is a classic path-traversal vector for tools that read it.\n\n\
## Example\n```json\n{\"kubeManifests\": [\"../shared/app.yaml\"]}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    for key in ["charts", "kubeManifests"] {
        for (pointer, node, path) in listed_paths(root, key) {
            if escapes(path) {
                let msg = format!(
                    "`{}` points outside the pack directory",
                    crate::diagnostic::sanitize(path)
                );
                c.push(RULE.diag("pack.json", &pointer, Some(node.pos), msg));
            }
        }
    }
}
