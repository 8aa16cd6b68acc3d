//! PF014 `pack-not-found`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::profile::source::Resolution;
use crate::rules::{Rule, did_you_mean};

pub(crate) const RULE: Rule = Rule {
    code: "PF014",
    name: "pack-not-found",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack of the profile is not in any pack source, or no version matches its tag",
    explanation: "## What it does\nWhen pack sources are given (`--packs DIR`), resolves each \
`spectro` and `oci` pack of the profile by `name` and `tag` (or `version`) and reports, once per \
pack, that no pack of that name exists or that none of its versions matches. Checks that need \
the pack.json (layer, cloud types, dependencies, values schema) are skipped for that pack rather \
than failing one by one. `manifest` and `helm` packs are not looked up. Without pack sources \
this rule does not run.\n\n## Why\nPalette's import stops when \"any of the packs are missing \
in the target environment\".\n\n## Example\n```json\n{\"name\": \"cni-calico\", \"tag\": \
\"3.99.x\", ...}\n```\nwith only cni-calico 3.25.1 and 3.26.0 in the sources.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let Some(res) = c.resolutions[i] else {
            continue;
        };
        let name = p.name.as_deref().unwrap_or_default();
        let want = p
            .tag
            .as_deref()
            .map(|t| format!("tag `{}`", sanitize(t)))
            .or_else(|| {
                p.version
                    .as_deref()
                    .map(|v| format!("version `{}`", sanitize(v)))
            })
            .unwrap_or_else(|| "no tag or version".to_owned());
        let (ptr, msg, help) = match res {
            Resolution::Found { .. } => continue,
            Resolution::UnknownName => {
                let roots: Vec<String> = c
                    .index
                    .roots()
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect();
                let msg = format!(
                    "pack `{}` ({want}) is not in the pack sources ({} packs in {})",
                    sanitize(name),
                    c.index.len(),
                    roots.join(", ")
                );
                let help =
                    did_you_mean(name, c.index.names()).map(|n| format!("did you mean `{n}`?"));
                (p.field("name"), msg, help)
            }
            Resolution::NoMatchingVersion => {
                let versions: Vec<String> = c
                    .index
                    .versions(name)
                    .iter()
                    .map(|v| v.to_string())
                    .collect();
                let ptr = if p.tag.is_some() {
                    p.field("tag")
                } else {
                    p.field("version")
                };
                let msg = format!(
                    "no version of pack `{}` matches {want}; the sources have {}",
                    sanitize(name),
                    versions.join(", ")
                );
                (ptr, msg, None)
            }
            Resolution::NoVersion => {
                let msg = if p.tag.is_none() && p.version.is_none() {
                    format!("pack `{}` has no tag or version to resolve", sanitize(name))
                } else {
                    format!(
                        "pack `{}` has {want}, which is neither a version nor a wildcard like 1.25.x",
                        sanitize(name)
                    )
                };
                let ptr = if p.tag.is_some() {
                    p.field("tag")
                } else {
                    p.field("name")
                };
                (ptr, msg, None)
            }
        };
        let mut d = c.at(&RULE, &ptr, false, msg);
        d.help = help;
        found.push(d);
    }
    c.diagnostics.extend(found);
}
