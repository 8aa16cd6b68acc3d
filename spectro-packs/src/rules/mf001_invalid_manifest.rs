//! MF001 `invalid-manifest`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "MF001",
    name: "invalid-manifest",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A file under manifests/ is not valid multi-document YAML",
    explanation: "## What it does\nParses every `.yaml`/`.yml` file under `manifests/` as a YAML \
stream. Go-template actions (`{{ ... }}`), which Palette renders first, are neutralised while \
keeping columns: a line holding only actions is ignored, an action inside a line counts as a \
plain value.\n\n## Why\nPalette applies these manifests with Kubernetes; a syntax error fails \
the install on every cluster.\n\n## Example\n```yaml\napiVersion: v1\nkind: ConfigMap\n\
metadata:\n  name: [broken\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let mut found = Vec::new();
    for sf in &c.pack.manifests {
        if let FileStatus::Invalid(e) = &sf.status
            && !e.strict_only
        {
            found.push(RULE.diag(
                &sf.path,
                "",
                Some(e.position),
                format!("manifest is not valid YAML: {}", e.message),
            ));
        }
    }
    c.diagnostics.extend(found);
}
