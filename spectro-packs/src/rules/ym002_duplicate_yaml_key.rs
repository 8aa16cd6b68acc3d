//! YM002 `duplicate-yaml-key`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::FileStatus;

pub(crate) const RULE: Rule = Rule {
    code: "YM002",
    name: "duplicate-yaml-key",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A key appears twice in the same YAML mapping",
    explanation: "## What it does\nReports keys defined more than once in one mapping of \
values.yaml, presets.yaml, schema.yaml or a manifest (templated manifests are skipped: \
`{{ if }}`/`{{ else }}` branches repeat keys on purpose).\n\n## Why\nYAML forbids duplicate keys; \
Palette's Go parser rejects them and other tools silently keep one copy, so the value you see is \
not the value deployed (Helm fixed the same class of bug in CVE-2020-15185).\n\n## Example\n\
```yaml\ncharts:\n  nginx:\n    replicas: 1\n    replicas: 3\n```",
};

/// The finding for the duplicates of a document past the listed ones.
pub(crate) fn cut_message() -> String {
    format!(
        "this key and any later duplicate keys of this document are not listed: the document \
         has more than {} (or their pointers pass 16 MiB)",
        crate::syntax::MAX_LISTED_DUPLICATES
    )
}

pub(crate) fn check(c: &mut Checker<'_>) {
    // Templated manifests legitimately repeat keys in `{{ if }}`/`{{ else }}` branches.
    let manifests = c.pack.manifests.iter().filter(|m| !m.text.contains("{{"));
    let files = [&c.pack.values, &c.pack.presets, &c.pack.schema]
        .into_iter()
        .chain(manifests);
    let mut found = Vec::new();
    for sf in files {
        let FileStatus::Parsed(docs) = &sf.status else {
            continue;
        };
        for doc in docs {
            for d in &doc.duplicates {
                let key = d
                    .pointer
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .replace("~1", "/")
                    .replace("~0", "~");
                let msg = format!(
                    "key `{key}` is defined again here (first at line {})",
                    d.first.line
                );
                found.push(RULE.diag(&sf.path, &d.pointer, Some(d.again), msg));
            }
            if let Some(at) = doc.duplicates_cut_at {
                found.push(RULE.diag(&sf.path, "", Some(at), cut_message()));
            }
        }
    }
    c.diagnostics.extend(found);
}
