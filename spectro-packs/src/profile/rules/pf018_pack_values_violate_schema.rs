//! PF018 `pack-values-violate-schema`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;
use crate::values_schema::{lookup, parse_constraint};

pub(crate) const RULE: Rule = Rule {
    code: "PF018",
    name: "pack-values-violate-schema",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack's values in the profile do not satisfy the pack's schema.yaml",
    explanation: "## What it does\nChecks the values a profile gives each resolved pack \
against that pack's schema.yaml constraints, the same way `spectro validate` checks a pack's \
own values.yaml (SC005): number ranges, booleans, list options, IPv4 addresses, versions, \
string patterns. Empty values and template expressions (`{{ .spectro.var.x }}`) are skipped; \
password values are never printed.\n\n## Why\nThe profile's values replace the pack's \
defaults; Palette validates them against the pack's schema when the profile is saved.\n\n\
## Example\n```yaml\n# schema.yaml of the pack\ncharts.app.replicas:\n  schema: '{{ format \
\"${number:[1-5]}\" }}'\n# values in the profile\ncharts:\n  app:\n    replicas: 9\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let (Some(pack), Some(values)) = (c.resolved(i), p.values.root()) else {
            continue;
        };
        let Some(entries) = pack.schema.document().and_then(|d| d.root.as_map()) else {
            continue;
        };
        for e in entries {
            let Some(Ok(cons)) = e
                .value
                .get("schema")
                .and_then(|t| t.as_str())
                .map(parse_constraint)
            else {
                continue;
            };
            let Some(format) = &cons.format else { continue };
            let key = e.key.key_text();
            for (inner, node) in lookup(values, &key).unwrap_or_default() {
                let Some(problem) = format.check(node) else {
                    continue;
                };
                let (ptr, pos, note) = c.locate_in_values(p, &inner, node);
                let msg = format!(
                    "pack {}: `{}`{note}: {} (schema.yaml line {})",
                    sanitize(&p.label()),
                    sanitize(&key),
                    sanitize(&problem),
                    e.key.pos.line
                );
                found.push(RULE.diag(&c.file, &ptr, Some(pos), msg));
            }
        }
    }
    c.diagnostics.extend(found);
}
