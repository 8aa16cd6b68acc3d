//! PF005 `missing-core-layer`.
use super::ProfileChecker;
use crate::diagnostic::Severity;
use crate::layer::Layer;
use crate::profile::model::ProfileType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF005",
    name: "missing-core-layer",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "An infrastructure or full profile has no OS or no Kubernetes pack",
    explanation: "## What it does\nFor profiles of type `cluster` (the UI's \"Full\") and \
`infra`, reports which of the `os` and `k8s` layers no pack occupies. Network and storage are \
not required: real edge profiles ship without a CSI.\n\n## Why\nA cluster cannot be deployed \
without an operating system and a Kubernetes distribution; Palette asks for both when an \
infrastructure profile is created.\n\n## Example\n```json\n\"template\": {\"type\": \"cluster\", \
\"packs\": [{\"name\": \"cni-calico\", \"layer\": \"cni\", ...}]}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let Some(t @ (ProfileType::Cluster | ProfileType::Infra)) = c.profile.profile_type else {
        return;
    };
    let layers: Vec<Layer> = (0..c.profile.packs.len())
        .filter_map(|i| c.layer(i))
        .collect();
    let missing: Vec<&str> = [Layer::Os, Layer::K8s]
        .into_iter()
        .filter(|l| !layers.contains(l))
        .map(Layer::as_str)
        .collect();
    if missing.is_empty() {
        return;
    }
    let msg = format!(
        "a `{t}` profile needs an os and a k8s pack; missing: {}",
        missing.join(", ")
    );
    let d = c.at(&RULE, "/spec/template/type", false, msg);
    c.push(d);
}
