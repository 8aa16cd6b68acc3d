//! PK006 `invalid-enum-value`.
use super::{Checker, Rule, did_you_mean, node_position};
use crate::diagnostic::Severity;
use crate::schema::ViolationKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK006",
    name: "invalid-enum-value",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack.json field holds a value outside its allowed set",
    explanation: "## What it does\nChecks the enumerated fields of pack.json: `layer` (kernel, os, \
k8s, cni, csi, addon), `cloudTypes` items, dependency `type` (required, optional, notSupported, \
upgrade) and `layer`, resource `type` (cpu, memory, diskSize) and component `scheduleType` (all, \
master, control-plane, worker).\n\n## Why\nPalette only knows these values; anything else is \
rejected or ignored.\n\n## Example\n```json\n{\"layer\": \"addons\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    let found: Vec<_> = c
        .pack_json_violations
        .iter()
        .filter_map(|v| match &v.kind {
            ViolationKind::Enum { allowed } => {
                Some((v.pointer.clone(), v.message.clone(), allowed.clone()))
            }
            _ => None,
        })
        .collect();
    for (pointer, message, allowed) in found {
        let pos = node_position(root, &pointer, false);
        let mut d = RULE.diag("pack.json", &pointer, Some(pos), message);
        if let Some(got) = root.pointer(&pointer).and_then(|(_, n)| n.as_str())
            && let Some(s) = did_you_mean(got, allowed.iter().map(String::as_str))
        {
            d.help = Some(format!("did you mean `{s}`?"));
            d.fix = Some(crate::diagnostic::Fix::replace_with(s));
        }
        c.push(d);
    }
}
