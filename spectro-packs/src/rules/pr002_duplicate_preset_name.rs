//! PR002 `duplicate-preset-name`.
use std::collections::HashMap;

use super::{Checker, Rule};
use crate::diagnostic::Severity;

pub(crate) const RULE: Rule = Rule {
    code: "PR002",
    name: "duplicate-preset-name",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "Two presets share a name",
    explanation: "## What it does\nReports a preset whose `name` was already used in the same \
presets.yaml.\n\n## Why\nPalette's docs require preset names to be unique; selections and the \
`spectrocloud.com/enabled-presets` comment refer to presets by name.\n\n## Example\n```yaml\n\
presets:\n  - name: ha\n    ...\n  - name: ha\n    ...\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.presets.document() else {
        return;
    };
    let Some(items) = doc.root.get("presets").and_then(|p| p.as_seq()) else {
        return;
    };
    let mut seen = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(name) = item.get("name") else {
            continue;
        };
        let Some(text) = name.as_str() else { continue };
        if let Some(first) = seen.insert(text.to_owned(), name.pos.line) {
            let msg = format!("preset name `{text}` is already used at line {first}");
            c.diagnostics.push(RULE.diag(
                "presets.yaml",
                &format!("/presets/{i}/name"),
                Some(name.pos),
                msg,
            ));
        }
    }
}
