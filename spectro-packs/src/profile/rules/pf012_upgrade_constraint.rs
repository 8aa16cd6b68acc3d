//! PF012 `upgrade-constraint`.
use super::ProfileChecker;
use super::deps::dependency_uses;
use crate::diagnostic::{Severity, sanitize};
use crate::manifest::DependencyType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF012",
    name: "upgrade-constraint",
    severity: Severity::Info,
    since: "0.1.0",
    summary: "A pack declares an `upgrade` dependency (reported, not checked)",
    explanation: "## What it does\nReports each `type: upgrade` entry of a resolved pack's \
`constraints.dependencies`, with its range.\n\n## Why\nPalette uses `upgrade` entries for \
upgrade paths between pack versions; they are not documented as a constraint on the profile, \
so spectro shows them for information and does not fail on them.\n\n## Example\n```json\n\
\"dependencies\": [{\"packName\": \"argo-cd\", \"layer\": \"addon\", \"maxVersion\": \"3.26.7\", \
\"type\": \"upgrade\"}]\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for u in dependency_uses(c) {
        if u.kind != DependencyType::Upgrade {
            continue;
        }
        let owner = &c.profile.packs[u.owner];
        let msg = format!(
            "pack {} declares an upgrade constraint on `{}` ({}); used by Palette for upgrades, not checked",
            sanitize(&owner.label()),
            sanitize(u.name),
            u.range.describe()
        );
        found.push(c.at(&RULE, &owner.field("name"), false, msg));
    }
    c.diagnostics.extend(found);
}
