//! PF016 `tag-version-mismatch`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::profile::tag::TagPattern;
use crate::rules::Rule;
use crate::version::PackVersion;

pub(crate) const RULE: Rule = Rule {
    code: "PF016",
    name: "tag-version-mismatch",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "A pack's `tag` and `version` disagree, or `version` is not a version",
    explanation: "## What it does\nWhen a profile pack has both `tag` and `version`, checks that \
the version matches the tag: equal for an exact tag, within the wildcard for `1.25.x`. Also \
reports a `version` that is not a version at all. Tags spectro cannot read (neither a version \
nor a wildcard) are left alone.\n\n## Why\nExports pair a wildcard tag with the version it \
resolved to; a disagreement means the file was edited by hand and it is unclear which pack \
Palette will use.\n\n## Example\n```json\n{\"name\": \"edge-k3s\", \"tag\": \"1.25.x\", \
\"version\": \"1.26.0\"}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for p in &c.profile.packs {
        let Some(version) = p.version.as_deref() else {
            continue;
        };
        let parsed = PackVersion::parse(version);
        let msg = match (&parsed, p.tag.as_deref()) {
            (Err(_), _) => format!(
                "version `{}` of pack {} is not a version",
                sanitize(version),
                sanitize(&p.label())
            ),
            (Ok(v), Some(tag)) => match TagPattern::parse(tag) {
                Some(t) if !t.matches_version(v) => format!(
                    "pack {} has tag `{}` but version `{}`, which the tag does not match",
                    sanitize(&p.label()),
                    sanitize(tag),
                    sanitize(version)
                ),
                _ => continue,
            },
            (Ok(_), None) => continue,
        };
        found.push(c.at(&RULE, &p.field("version"), false, msg));
    }
    c.diagnostics.extend(found);
}
