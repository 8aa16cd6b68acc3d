//! PK010 `version-leading-v`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK010",
    name: "version-leading-v",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "The pack version starts with `v`",
    explanation: "## What it does\nWarns when `version` starts with `v` (`v1.12.0`).\n\n## Why\n\
The version becomes the OCI tag and the wildcard tags Palette derives; the community pack \
repository's CI rejects a leading `v`, and profiles written as `1.12.x` will not match it.\n\n\
## Example\n```json\n{\"version\": \"v1.12.0\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let Some(v) = root.get("version").and_then(|n| n.as_str()) else {
        return;
    };
    if let Some(rest) = v.trim_start().strip_prefix(['v', 'V']) {
        let pos = node_position(root, "/version", false);
        let mut d = RULE.diag(
            "pack.json",
            "/version",
            Some(pos),
            format!("version `{v}` has a leading `v`"),
        );
        d.help = Some(format!("write `{rest}`"));
        d.fix = Some(crate::diagnostic::Fix::replace_with(rest));
        c.push(d);
    }
}
