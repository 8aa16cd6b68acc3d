//! PF020 `unused-variable`.
use super::ProfileChecker;
use super::vars::references;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF020",
    name: "unused-variable",
    severity: Severity::Info,
    since: "0.1.0",
    summary: "A profile variable is defined but no pack values or manifest use it",
    explanation: "## What it does\nReports each `spec.variables` entry whose name no \
`{{ .spectro.var.NAME }}` in pack values or manifests refers to.\n\n## Why\nUsers are asked for \
every variable when they deploy the profile; an unused one is a question whose answer goes \
nowhere, often a leftover or a typo of the name used.\n\n## Example\n```json\n\"variables\": \
[{\"name\": \"replicas\", ...}]\n```\nwith values that use `{{ .spectro.var.replica_count }}`.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let used: Vec<String> = references(c).into_iter().map(|r| r.name).collect();
    let mut found = Vec::new();
    for v in &c.profile.variables {
        let Some(name) = v.name.as_deref() else {
            continue;
        };
        if used.iter().any(|u| u == name) {
            continue;
        }
        let msg = format!("variable `{}` is defined but never used", sanitize(name));
        found.push(c.at(&RULE, &format!("{}/name", v.pointer), false, msg));
    }
    c.diagnostics.extend(found);
}
