//! PK012 `unknown-addon-type`.
use super::{Checker, Rule, did_you_mean, node_position};
use crate::diagnostic::Severity;

/// addonType values documented by Palette, plus `app-services` seen in real packs.
pub(crate) const KNOWN: &[&str] = &[
    "logging",
    "monitoring",
    "load balancer",
    "authentication",
    "ingress",
    "security",
    "ai",
    "app services",
    "app-services",
    "network",
    "storage",
    "registry",
    "servicemesh",
    "system app",
    "csi",
    "cni",
];

pub(crate) const RULE: Rule = Rule {
    code: "PK012",
    name: "unknown-addon-type",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "`addonType` is not one Palette documents",
    explanation: "## What it does\nWarns when `addonType` is not one of: logging, monitoring, load \
balancer, authentication, ingress, security, ai, app services, network, storage, registry, \
servicemesh, system app (plus `app-services`, `csi` and `cni`, which real packs and the \
Terraform provider use).\n\n## Why\nPalette files add-ons under these categories; an unknown \
value (often a typo) hides the pack from its category.\n\n## Example\n```json\n\
{\"addonType\": \"monitorng\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let Some(t) = root.get("addonType").and_then(|n| n.as_str()) else {
        return;
    };
    if KNOWN.contains(&t) {
        return;
    }
    let pos = node_position(root, "/addonType", false);
    let mut d = RULE.diag(
        "pack.json",
        "/addonType",
        Some(pos),
        format!("addonType `{t}` is not a known add-on type"),
    );
    if let Some(s) = did_you_mean(t, KNOWN.iter().copied()) {
        d.help = Some(format!("did you mean `{s}`?"));
        d.fix = Some(crate::diagnostic::Fix::replace_with(s));
    }
    c.push(d);
}
