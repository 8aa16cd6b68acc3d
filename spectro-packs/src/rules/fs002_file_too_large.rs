//! FS002 `file-too-large`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::{FileStatus, LoadProblem};

pub(crate) const RULE: Rule = Rule {
    code: "FS002",
    name: "file-too-large",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack text file is larger than the load limit",
    explanation: "## What it does\nReports pack.json, values.yaml, presets.yaml, schema.yaml or a \
manifest larger than the load limit (16 MiB by default); the file is not read.\n\n## Why\nThese \
files are parsed in memory by Palette and by every tool; megabytes of parameters are almost \
always a mistake (a chart or binary pasted in) and a denial-of-service risk.\n\n## Example\nA \
50 MB values.yaml.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let p = c.pack;
    let mut found = Vec::new();
    for sf in [&p.pack_json, &p.values, &p.presets, &p.schema]
        .into_iter()
        .chain(p.manifests.iter())
    {
        if let FileStatus::Unreadable(LoadProblem::TooLarge { size, limit }) = &sf.status {
            let msg = format!(
                "{} is {size} bytes, over the {limit}-byte limit; it was not read",
                sf.path
            );
            found.push(RULE.diag(&sf.path, "", None, msg));
        }
    }
    c.diagnostics.extend(found);
}
