//! PF010 `dependency-version-out-of-range`.
use super::ProfileChecker;
use super::deps::dependency_uses;
use crate::diagnostic::{Severity, sanitize};
use crate::manifest::DependencyType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF010",
    name: "dependency-version-out-of-range",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A required or optional dependency is present in a version outside its range",
    explanation: "## What it does\nFor `required` and `optional` dependencies in a pack's \
`constraints.dependencies`, reports a pack of that name in the profile whose version is below \
`minVersion` or above `maxVersion` (both inclusive; empty means unbounded). Versions compare \
leniently: `v1.2.3` == `1.2.3`, `1.27` == `1.27.0`, `1.21.49` > `1.21.5`. The version used is \
the resolved pack.json version, else the profile's `version`, else an exact `tag`.\n\n## Why\n\
Palette refuses such a profile: the pack author declared that the pair does not work together \
outside the range.\n\n## Example\n```json\n\"dependencies\": [{\"packName\": \"kubernetes\", \
\"minVersion\": \"1.27\", \"maxVersion\": \"\", \"type\": \"required\"}]\n```\nwith \
`kubernetes` 1.26.5 in the profile.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for u in dependency_uses(c) {
        if !matches!(u.kind, DependencyType::Required | DependencyType::Optional) {
            continue;
        }
        let owner = &c.profile.packs[u.owner];
        for (j, v) in &u.present {
            let Some(v) = v else { continue };
            if u.range.contains(v) {
                continue;
            }
            let kind = if u.kind == DependencyType::Required {
                "requires"
            } else {
                "supports"
            };
            let msg = format!(
                "pack {} {kind} `{}` {}, but the profile has {v} (line {})",
                sanitize(&owner.label()),
                sanitize(u.name),
                u.range.describe(),
                c.profile.packs[*j].position.line,
            );
            found.push(c.at(&RULE, &owner.field("name"), false, msg));
        }
    }
    c.diagnostics.extend(found);
}
