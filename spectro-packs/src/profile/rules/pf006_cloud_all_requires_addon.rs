//! PF006 `cloud-all-requires-addon`.
use super::ProfileChecker;
use crate::diagnostic::Severity;
use crate::profile::model::ProfileType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF006",
    name: "cloud-all-requires-addon",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "`cloudType: all` on a profile that is not of type add-on",
    explanation: "## What it does\nReports `spec.template.cloudType: all` when \
`spec.template.type` is not `add-on`.\n\n## Why\nInfrastructure depends on the cloud: the OS \
image, the Kubernetes distribution and the CSI differ per cloud. The Terraform provider's \
documentation states it: \"If the value is set to `all`, then the type must be set to \
`add-on`\".\n\n## Example\n```json\n\"template\": {\"type\": \"cluster\", \"cloudType\": \"all\", \
...}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let Some(t) = c.profile.profile_type else {
        return;
    };
    if c.profile.cloud_type.as_deref() == Some("all") && t != ProfileType::AddOn {
        let msg = format!("`cloudType: all` requires type `add-on`, but the profile is `{t}`");
        let d = c.at(&RULE, "/spec/template/cloudType", false, msg);
        c.push(d);
    }
}
