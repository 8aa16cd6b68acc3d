//! PF009 `missing-required-dependency`.
use super::ProfileChecker;
use super::deps::dependency_uses;
use crate::diagnostic::{Severity, sanitize};
use crate::layer::Layer;
use crate::manifest::DependencyType;
use crate::profile::model::ProfileType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF009",
    name: "missing-required-dependency",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack requires another pack that the profile does not contain",
    explanation: "## What it does\nFor every pack resolved to a pack.json, reads \
`constraints.dependencies` and reports each `type: required` dependency whose `packName` is \
not in the profile. In an `add-on` profile, dependencies on core layers (os, k8s, cni, csi) are \
not checked: the cluster's infrastructure profile provides them.\n\n## Why\nPalette enforces required dependencies when the profile is \
saved; the pack would not work without the other one (for example an add-on that needs a \
Kubernetes version with a given API).\n\n## Example\n```json\n\"dependencies\": [{\"packName\": \
\"kubernetes\", \"layer\": \"k8s\", \"minVersion\": \"1.27\", \"maxVersion\": \"\", \"type\": \
\"required\"}]\n```\nin the pack.json of an add-on used in a profile without `kubernetes`.",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for u in dependency_uses(c) {
        if u.kind != DependencyType::Required || !u.present.is_empty() {
            continue;
        }
        // An add-on profile is stacked on an infrastructure profile, which brings the
        // core layers: only add-on dependencies must be in the same profile.
        if c.profile.profile_type == Some(ProfileType::AddOn)
            && u.layer.is_some_and(|l| l != Layer::Addon)
        {
            continue;
        }
        let p = &c.profile.packs[u.owner];
        let msg = format!(
            "pack {} requires pack `{}` ({}), which is not in the profile",
            sanitize(&p.label()),
            sanitize(u.name),
            u.range.describe()
        );
        found.push(c.at(&RULE, &p.field("name"), false, msg));
    }
    c.diagnostics.extend(found);
}
