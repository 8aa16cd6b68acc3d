//! VL002 `invalid-namespace`.
use std::sync::LazyLock;

use regex::Regex;

use super::{Checker, Rule};
use crate::diagnostic::{Severity, sanitize};

static DNS_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("valid regex"));

pub(crate) const RULE: Rule = Rule {
    code: "VL002",
    name: "invalid-namespace",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "`pack.namespace` in values.yaml is not a valid Kubernetes namespace",
    explanation: "## What it does\nChecks `pack.namespace` against the DNS-label rule Palette \
documents: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters. Template expressions are \
skipped.\n\n## Why\nPalette creates the namespace before installing; an invalid name fails \
every cluster deployment at install time.\n\n## Example\n```yaml\npack:\n  namespace: My_Namespace\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(ns) = c
        .values
        .and_then(|v| v.get("pack"))
        .and_then(|p| p.get("namespace"))
    else {
        return;
    };
    let Some(s) = ns.as_str() else {
        if !ns.is_null() {
            let msg = format!(
                "`pack.namespace` must be a string, found {}",
                ns.type_name()
            );
            c.push(RULE.diag("values.yaml", "/pack/namespace", Some(ns.pos), msg));
        }
        return;
    };
    if s.contains("{{") || (DNS_LABEL.is_match(s) && s.len() <= 63) {
        return;
    }
    let mut d = RULE.diag(
        "values.yaml",
        "/pack/namespace",
        Some(ns.pos),
        format!("namespace `{}` is not a valid Kubernetes namespace (lowercase DNS label, max 63 characters)", sanitize(s)),
    );
    let fixed = s.to_ascii_lowercase().replace(['_', '.', ' '], "-");
    if DNS_LABEL.is_match(&fixed) && fixed.len() <= 63 {
        d.help = Some(format!("e.g. `{fixed}`"));
        d.fix = Some(crate::diagnostic::Fix::replace_with(fixed));
    }
    c.push(d);
}
