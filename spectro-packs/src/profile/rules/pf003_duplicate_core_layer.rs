//! PF003 `duplicate-core-layer`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::layer::Layer;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF003",
    name: "duplicate-core-layer",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "Two packs occupy the same core layer (os, k8s, cni or csi)",
    explanation: "## What it does\nReports a second pack in a core layer — OS, Kubernetes, \
network (cni) or storage (csi) — naming both packs. The layer is the pack's declared `layer`, \
or its pack.json `layer` when the profile does not declare one.\n\n## Why\nA cluster runs one \
operating system, one Kubernetes distribution, one CNI and one CSI: Palette's profile editor \
offers one pack per core layer. Two CNIs (Calico and Flannel) fight over pod networking.\n\n\
## Example\n```json\n\"packs\": [\n  {\"name\": \"cni-calico\", \"layer\": \"cni\", ...},\n  \
{\"name\": \"cni-flannel\", \"layer\": \"cni\", ...}\n]\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut first: Vec<(Layer, usize)> = Vec::new();
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let Some(layer) = c.layer(i).filter(|l| l.is_core()) else {
            continue;
        };
        match first.iter().find(|(l, _)| *l == layer) {
            Some(&(_, j)) => {
                let q = &c.profile.packs[j];
                let msg = format!(
                    "two {layer} packs: {} (line {}) and {}; a profile holds one pack per core layer",
                    sanitize(&q.label()),
                    q.position.line,
                    sanitize(&p.label()),
                );
                found.push(c.at(&RULE, &c.layer_pointer(p), false, msg));
            }
            None => first.push((layer, i)),
        }
    }
    c.diagnostics.extend(found);
}
