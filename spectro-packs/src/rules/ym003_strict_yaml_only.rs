//! YM003 `strict-yaml-only`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "YM003",
    name: "strict-yaml-only",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "YAML that Go's parser accepts but YAML 1.2 forbids",
    explanation: "## What it does\nWarns about YAML that strict YAML 1.2 parsers reject while \
libyaml-derived parsers (go-yaml, used by Kubernetes and Palette) accept it: today, continuation \
lines of a multi-line quoted scalar indented no deeper than their key. The rest of the file \
is not checked.\n\n## Why\nPalette will load the file, but editors, yamllint and Python or Rust \
tools may not; indent the continuation lines to be safe.\n\n## Example\n```yaml\n\
description: 'first line\nsecond line'\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let p = c.pack;
    let mut found = Vec::new();
    for sf in [&p.values, &p.presets, &p.schema]
        .into_iter()
        .chain(p.manifests.iter())
    {
        if let FileStatus::Invalid(e) = &sf.status
            && e.strict_only
        {
            let msg = format!(
                "{}; Go's YAML parser accepts this, strict YAML 1.2 parsers do not",
                e.message
            );
            found.push(RULE.diag(&sf.path, "", Some(e.position), msg));
        }
    }
    c.diagnostics.extend(found);
}
