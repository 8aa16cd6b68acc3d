//! FS004 `symlink-in-pack`.
use super::{Checker, Rule};
use crate::diagnostic::{Severity, sanitize};
use crate::pack::EntryKind;

pub(crate) const RULE: Rule = Rule {
    code: "FS004",
    name: "symlink-in-pack",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "The pack contains a symbolic link (inside the pack)",
    explanation: "## What it does\nWarns about symbolic links whose target stays inside the \
pack.\n\n## Why\nPack archives must not contain links (extractors, including Palette's and \
spectro's, refuse them), so `spectro pack build` refuses a pack with links; replace the link \
with a copy of the file.\n\n## Example\n`values.yaml -> values-default.yaml`",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let mut found = Vec::new();
    for e in &c.pack.tree {
        if let EntryKind::Symlink {
            target,
            inside: true,
        } = &e.kind
        {
            let msg = format!(
                "`{}` is a symbolic link (to `{}`); pack archives cannot hold links",
                e.path,
                sanitize(target)
            );
            found.push(RULE.diag(&e.path, "", None, msg));
        }
    }
    c.diagnostics.extend(found);
}
