//! PK016 `wrong-reference-type`.
use super::refs::{escapes, listed_paths};
use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PK016",
    name: "wrong-reference-type",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A `charts` entry is not a .tgz, or a `kubeManifests` entry is not YAML",
    explanation: "## What it does\nChecks file types by name: `charts` entries must be packaged \
Helm charts (`.tgz`), `kubeManifests` entries YAML files (`.yaml` or `.yml`).\n\n## Why\n\
Palette installs `charts` with Helm from the archive and applies `kubeManifests` as YAML; an \
unpacked chart directory or a `.json` manifest is not installed.\n\n## Example\n```json\n\
{\"charts\": [\"charts/nginx\"]}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    for (key, exts, what) in [
        ("charts", &[".tgz"][..], "a packaged Helm chart (.tgz)"),
        (
            "kubeManifests",
            &[".yaml", ".yml"][..],
            "a YAML file (.yaml or .yml)",
        ),
    ] {
        for (pointer, node, path) in listed_paths(root, key) {
            if escapes(path) {
                continue;
            }
            if !exts.iter().any(|e| path.to_ascii_lowercase().ends_with(e)) {
                let msg = format!(
                    "`{}` in `{key}` must be {what}",
                    crate::diagnostic::sanitize(path)
                );
                c.push(RULE.diag("pack.json", &pointer, Some(node.pos), msg));
            }
        }
    }
}
