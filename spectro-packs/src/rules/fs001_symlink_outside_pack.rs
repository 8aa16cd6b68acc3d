//! FS001 `symlink-outside-pack`.
use super::{Checker, Rule};
use crate::diagnostic::{Severity, sanitize};
use crate::pack::EntryKind;

pub(crate) const RULE: Rule = Rule {
    code: "FS001",
    name: "symlink-outside-pack",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A symbolic link in the pack points outside it",
    explanation: "## What it does\nReports symbolic links whose resolved target lies outside the \
pack directory (or does not resolve). Such files are never read.\n\n## Why\n`tar czf` follows \
or stores the link, so a `values.yaml -> ~/.ssh/id_rsa` either leaks the target into the \
uploaded archive or uploads a dangling link. `spectro pack build` refuses links.\n\n\
## Example\n`values.yaml -> ../../secrets/values.yaml`",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let mut found = Vec::new();
    for e in &c.pack.tree {
        if let EntryKind::Symlink {
            target,
            inside: false,
        } = &e.kind
        {
            let msg = format!(
                "`{}` is a symbolic link to `{}`, outside the pack; it was not read",
                e.path,
                sanitize(target)
            );
            found.push(RULE.diag(&e.path, "", None, msg));
        }
    }
    c.diagnostics.extend(found);
}
