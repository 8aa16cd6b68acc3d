//! PF019 `undefined-variable`.
use super::ProfileChecker;
use super::vars::references;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::{Rule, did_you_mean};

pub(crate) const RULE: Rule = Rule {
    code: "PF019",
    name: "undefined-variable",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "Pack values or a manifest use `{{ .spectro.var.X }}` but the profile defines no variable X",
    explanation: "## What it does\nFinds every `{{ .spectro.var.NAME }}` in pack values and \
manifest contents and reports names not defined in `spec.variables`.\n\n## Why\nProfile \
variables are scoped to their profile; Palette cannot render a reference to a variable the \
profile does not define, and the deployment fails.\n\n## Example\n```yaml\npack:\n  namespace: \
'{{ .spectro.var.wordpress_namespace }}'\n```\nwith no `wordpress_namespace` in \
`spec.variables`.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let defined: Vec<&str> = c
        .profile
        .variables
        .iter()
        .filter_map(|v| v.name.as_deref())
        .collect();
    let mut found = Vec::new();
    for r in references(c) {
        if defined.contains(&r.name.as_str()) {
            continue;
        }
        let msg = format!(
            "variable `{}` is used (line {} of the string) but not defined in spec.variables",
            sanitize(&r.name),
            r.line
        );
        let pos = r
            .pos
            .unwrap_or_else(|| c.profile.position(&r.pointer, false));
        let mut d = RULE.diag(&c.file, &r.pointer, Some(pos), msg);
        d.help =
            did_you_mean(&r.name, defined.iter().copied()).map(|n| format!("did you mean `{n}`?"));
        found.push(d);
    }
    c.diagnostics.extend(found);
}
