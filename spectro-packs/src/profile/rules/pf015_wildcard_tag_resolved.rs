//! PF015 `wildcard-tag-resolved`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::profile::source::Resolution;
use crate::rules::Rule;
use crate::version::PackVersion;

pub(crate) const RULE: Rule = Rule {
    code: "PF015",
    name: "wildcard-tag-resolved",
    severity: Severity::Info,
    since: "0.1.0",
    summary: "A wildcard tag (`1.25.x`) was resolved to a concrete pack version",
    explanation: "## What it does\nReports which pack version a wildcard tag resolved to in \
the pack sources: the highest version whose leading components match (`1.25.x` → the highest \
`1.25.*`; `LTS__18.4.x` → the highest `18.4.*` whose pack.json `group` is `LTS`). When the \
profile also records a `version` that differs, the message says so.\n\n## Why\nPalette does not \
document how it resolves wildcard tags; every other check about that pack uses the version \
chosen here, so it is shown.\n\n## Example\n```json\n{\"name\": \"edge-k3s\", \"tag\": \
\"1.25.x\", \"version\": \"1.25.2\"}\n```\n→ `tag 1.25.x resolved to edge-k3s 1.25.5`.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let Some(Resolution::Found {
            pack,
            wildcard: true,
        }) = c.resolutions[i]
        else {
            continue;
        };
        let chosen = pack.version().unwrap_or_default();
        let mut msg = format!(
            "tag `{}` resolved to {} {} ({})",
            sanitize(p.tag.as_deref().unwrap_or_default()),
            sanitize(pack.name().unwrap_or_default()),
            sanitize(chosen),
            pack.root().display()
        );
        if let Some(recorded) = p.version.as_deref()
            && PackVersion::parse(recorded).ok() != PackVersion::parse(chosen).ok()
        {
            msg.push_str(&format!(
                "; the profile records version {}",
                sanitize(recorded)
            ));
        }
        found.push(c.at(&RULE, &p.field("tag"), false, msg));
    }
    c.diagnostics.extend(found);
}
