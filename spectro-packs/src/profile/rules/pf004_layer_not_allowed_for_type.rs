//! PF004 `layer-not-allowed-for-type`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::layer::Layer;
use crate::profile::model::ProfileType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF004",
    name: "layer-not-allowed-for-type",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "An add-on profile holds a pack outside the addon layer",
    explanation: "## What it does\nReports a pack whose layer (declared, or from its pack.json) \
is not `addon` in a profile of type `add-on`.\n\n## Why\nPalette's documentation: an add-on \
profile is \"exclusively composed of add-on layers\"; OS, Kubernetes, network and storage belong \
in an infrastructure or full (`cluster`) profile. Palette refuses to stack a second \
infrastructure on a cluster.\n\n## Example\n```json\n\"template\": {\"type\": \"add-on\", \
\"packs\": [{\"name\": \"cni-calico\", \"layer\": \"cni\", ...}]}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    if c.profile.profile_type != Some(ProfileType::AddOn) {
        return;
    }
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let Some(layer) = c.layer(i).filter(|l| *l != Layer::Addon) else {
            continue;
        };
        let msg = format!(
            "pack {} is in the {layer} layer, but an add-on profile holds only addon layers",
            sanitize(&p.label())
        );
        found.push(c.at(&RULE, &c.layer_pointer(p), false, msg));
    }
    c.diagnostics.extend(found);
}
