//! FS003 `unreadable-file`.
use super::{Checker, Rule};
use crate::diagnostic::{Position, Severity};
use crate::pack::{FileStatus, LoadProblem};

pub(crate) const RULE: Rule = Rule {
    code: "FS003",
    name: "unreadable-file",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A pack text file cannot be read as UTF-8 text",
    explanation: "## What it does\nReports pack.json, values.yaml, presets.yaml, schema.yaml or \
manifest files that are not UTF-8 (at the first bad byte), are not regular files (a directory \
named `values.yaml`), or cannot be read. A leading byte-order mark is accepted.\n\n## Why\n\
Palette reads these files as UTF-8 text; binary garbage or Latin-1 text is rejected or \
corrupted.\n\n## Example\nA values.yaml saved as UTF-16.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let p = c.pack;
    let mut found = Vec::new();
    for sf in [&p.pack_json, &p.values, &p.presets, &p.schema]
        .into_iter()
        .chain(p.manifests.iter())
    {
        let FileStatus::Unreadable(problem) = &sf.status else {
            continue;
        };
        let (pos, msg) = match problem {
            LoadProblem::NotUtf8 { line, column } => (
                Some(Position::new(*line, *column)),
                format!("{} is not UTF-8 text (first invalid byte here)", sf.path),
            ),
            LoadProblem::NotAFile => (None, format!("{} is not a regular file", sf.path)),
            LoadProblem::Io { message } => {
                (None, format!("{} could not be read: {message}", sf.path))
            }
            _ => continue,
        };
        found.push(RULE.diag(&sf.path, "", pos, msg));
    }
    c.diagnostics.extend(found);
}
