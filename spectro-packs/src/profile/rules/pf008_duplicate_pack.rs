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
    use std::collections::HashMap;
    let packs = &c.profile.packs;
    // Per name, the earlier copies an entry can clash with, kept as first indexes so the
    // check is linear: the first copy of the name, the first without a display name and
    // the first per display name.
    #[derive(Default)]
    struct Seen<'a> {
        first: Option<usize>,
        first_unnamed: Option<usize>,
        by_display: HashMap<&'a str, usize>,
    }
    let mut seen: HashMap<&str, Seen<'_>> = HashMap::new();
    let mut found = Vec::new();
    for (i, p) in packs.iter().enumerate() {
        let Some(name) = p.name.as_deref() else {
            continue;
        };
        let s = seen.entry(name).or_default();
        let shown = display_name(p);
        let prev = match shown {
            None => s.first,
            Some(dn) => match (s.first_unnamed, s.by_display.get(dn).copied()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        };
        s.first.get_or_insert(i);
        match shown {
            None => {
                s.first_unnamed.get_or_insert(i);
            }
            Some(dn) => {
                s.by_display.entry(dn).or_insert(i);
            }
        }
        let Some(prev) = prev.map(|j| &packs[j]) else {
            continue;
        };
        let why = match (display_name(prev), display_name(p)) {
            (Some(a), Some(_)) => format!("both use display name `{}`", sanitize(a)),
            _ => {
                "set a distinct `spectrocloud.com/display-name` under `pack:` in each copy's values"
                    .to_owned()
            }
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
