//! PF007 `layer-mismatch`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF007",
    name: "layer-mismatch",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack's declared layer differs from the layer in its pack.json",
    explanation: "## What it does\nCompares each pack's `layer` in the profile with the `layer` \
of the pack.json it resolves to.\n\n## Why\nThe pack decides its layer; a profile that says \
otherwise was edited by hand or points at the wrong pack, and layer checks (one CNI, add-on \
profiles) would be made against the wrong layer.\n\n## Example\n```json\n{\"name\": \
\"cni-calico\", \"layer\": \"csi\", ...}\n```\nwhile cni-calico's pack.json says `\"layer\": \
\"cni\"`.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let (Some(declared), Some(pack)) = (p.layer, c.resolved(i)) else {
            continue;
        };
        let Some(actual) = pack.manifest().layer else {
            continue;
        };
        if declared != actual {
            let msg = format!(
                "pack {} is declared in the {declared} layer, but its pack.json ({}) says {actual}",
                sanitize(&p.label()),
                pack.root().join("pack.json").display()
            );
            found.push(c.at(&RULE, &p.field("layer"), false, msg));
        }
    }
    c.diagnostics.extend(found);
}
