//! PF002 `invalid-profile-shape`.
use super::ProfileChecker;
use crate::diagnostic::Severity;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF002",
    name: "invalid-profile-shape",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A profile field is missing, of the wrong type or has an unknown value",
    explanation: "## What it does\nChecks the shape of Palette's exported profile: `spec` and \
`spec.template` are mappings, `spec.template.packs` is a list of mappings each with a `name`, \
`spec.template.type` is one of `cluster`, `infra`, `add-on`, `system`, each pack's `type` one of \
`spectro`, `helm`, `manifest`, `oci` and its `layer` one of `kernel`, `os`, `k8s`, `cni`, `csi`, \
`addon`; `values` is a YAML string; `spec.variables` entries have a `name`.\n\n## Why\nThese \
are the fields of Palette's import entity (`V1ClusterProfileImportEntity`); a profile without \
them is refused on import, and spectro cannot check the layers of a pack it cannot read.\n\n\
## Example\n```json\n{\"spec\": {\"template\": {\"type\": \"full\", \"packs\": []}}}\n```\n\
(`full` is the UI's name; the file says `cluster`.)",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let found: Vec<_> = c
        .profile
        .problems
        .iter()
        .map(|p| RULE.diag(&c.file, &p.pointer, Some(p.position), p.message.clone()))
        .collect();
    c.diagnostics.extend(found);
}
