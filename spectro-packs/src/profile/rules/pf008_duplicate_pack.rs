//! PF008 `duplicate-pack`.
use super::{ProfileChecker, display_name};
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF008",
    name: "duplicate-pack",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "The same pack appears twice without distinct `spectrocloud.com/display-name`s",
    explanation: "## What it does\nReports a pack that appears again in the profile when the \
copies do not each set a different `spectrocloud.com/display-name` under `pack:` in their \
values.\n\n## Why\nPalette identifies a profile layer by pack name; its documentation allows the \
same pack several times only with a display name \"unique across a cluster profile and the \
cluster\" in each copy. Without one, the copies overwrite each other.\n\n## Example\n```yaml\n\
# copy 1 values\npack:\n  spectrocloud.com/display-name: wordpress-blue\n# copy 2 values: no \
display-name\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let packs = &c.profile.packs;
    let mut found = Vec::new();
    for (i, p) in packs.iter().enumerate() {
        let Some(name) = p.name.as_deref() else { continue };
        let Some(prev) = packs[..i].iter().find(|q| {
            q.name.as_deref() == Some(name)
                && (display_name(q).is_none()
                    || display_name(p).is_none()
                    || display_name(q) == display_name(p))
        }) else {
            continue;
        };
        let why = match (display_name(prev), display_name(p)) {
            (Some(a), Some(_)) => format!("both use display name `{}`", sanitize(a)),
            _ => "set a distinct `spectrocloud.com/display-name` under `pack:` in each copy's values".to_owned(),
        };
        let msg = format!(
            "pack `{}` appears again (first at line {}); {why}",
            sanitize(name),
            prev.position.line
        );
        found.push(c.at(&RULE, &p.field("name"), false, msg));
    }
    c.diagnostics.extend(found);
}
