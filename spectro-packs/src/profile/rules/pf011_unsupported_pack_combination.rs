//! PF011 `unsupported-pack-combination`.
use super::ProfileChecker;
use super::deps::dependency_uses;
use crate::diagnostic::{Severity, sanitize};
use crate::manifest::DependencyType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF011",
    name: "unsupported-pack-combination",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack declares another pack `notSupported`, and the profile has it in that range",
    explanation: "## What it does\nFor `notSupported` dependencies in a pack's \
`constraints.dependencies`, reports a pack of that name in the profile whose version lies \
inside [`minVersion`, `maxVersion`] (inclusive; empty bounds are unbounded, so no bounds at all \
means every version).\n\n## Why\nThe pack author declared the combination broken; Palette \
refuses the profile.\n\n## Example\n```json\n\"dependencies\": [{\"packName\": \"cni-flannel\", \
\"minVersion\": \"\", \"maxVersion\": \"\", \"type\": \"notSupported\"}]\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for u in dependency_uses(c) {
        if u.kind != DependencyType::NotSupported {
            continue;
        }
        let owner = &c.profile.packs[u.owner];
        for (j, v) in &u.present {
            // An unknown version is inside an unbounded range only.
            let inside = match v {
                Some(v) => u.range.contains(v),
                None => u.range.min.is_none() && u.range.max.is_none(),
            };
            if !inside {
                continue;
            }
            let which = v.as_ref().map_or(String::new(), |v| format!(" {v}"));
            let msg = format!(
                "pack {} does not support `{}` {} and the profile has `{}`{which} (line {})",
                sanitize(&owner.label()),
                sanitize(u.name),
                u.range.describe(),
                sanitize(u.name),
                c.profile.packs[*j].position.line,
            );
            found.push(c.at(&RULE, &owner.field("name"), false, msg));
        }
    }
    c.diagnostics.extend(found);
}
