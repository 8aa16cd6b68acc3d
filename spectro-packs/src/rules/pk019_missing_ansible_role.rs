//! PK019 `missing-ansible-role`.
use super::refs::listed_paths;
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::EntryKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK019",
    name: "missing-ansible-role",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A role in `ansibleRoles` has no directory in the pack",
    explanation: "## What it does\nChecks that every role named in `ansibleRoles` has a directory, \
either at the pack root (older layout) or under `ansible-roles/`.\n\n## Why\nPalette runs the \
listed roles while building OS images; a missing role fails the build.\n\n## Example\n\
```json\n{\"ansibleRoles\": [\"harden_os\"]}\n```\nwithout a `harden_os/` directory.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.pack.tree_truncated {
        return; // FS005: the file list is partial
    }
    let Some(root) = c.pack_json else { return };
    for (pointer, node, role) in listed_paths(root, "ansibleRoles") {
        let found = [role.to_owned(), format!("ansible-roles/{role}")]
            .iter()
            .any(|p| matches!(c.pack.entry(p).map(|e| &e.kind), Some(EntryKind::Dir)));
        if !found && !role.is_empty() {
            let msg = format!(
                "ansible role `{}` has no directory `{role}/` or `ansible-roles/{role}/`",
                crate::diagnostic::sanitize(role)
            );
            c.push(RULE.diag("pack.json", &pointer, Some(node.pos), msg));
        }
    }
}
