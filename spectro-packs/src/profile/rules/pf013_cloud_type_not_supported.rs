//! PF013 `cloud-type-not-supported`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF013",
    name: "cloud-type-not-supported",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack's `cloudTypes` does not include the profile's cloudType",
    explanation: "## What it does\nCompares the profile's `spec.template.cloudType` with the \
`cloudTypes` (or legacy `cloudType`) of each resolved pack.json. Nothing is reported when either \
side is `all`, or when the pack declares no cloud types.\n\n## Why\nA pack built for one cloud \
(an OS image for AWS, a vSphere CSI) does not work on another; Palette lists only matching \
packs when a profile is built in the UI, but an imported file is not filtered.\n\n## \
Example\n```json\n\"cloudType\": \"aws\"  // profile\n\"cloudTypes\": [\"vsphere\"]  // \
csi-vsphere pack.json\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let Some(cloud) = c
        .profile
        .cloud_type
        .as_deref()
        .filter(|t| !t.is_empty() && *t != "all")
    else {
        return;
    };
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        let Some(pack) = c.resolved(i) else { continue };
        let m = pack.manifest();
        let mut types: Vec<&str> = m.cloud_types.iter().flatten().map(String::as_str).collect();
        types.extend(m.cloud_type.as_deref());
        if types.is_empty() || types.iter().any(|t| *t == "all" || *t == cloud) {
            continue;
        }
        let msg = format!(
            "pack {} supports cloud types {} but the profile's cloudType is `{}`",
            sanitize(&p.label()),
            sanitize(&types.join(", ")),
            sanitize(cloud)
        );
        found.push(c.at(&RULE, &p.field("name"), false, msg));
    }
    c.diagnostics.extend(found);
}
