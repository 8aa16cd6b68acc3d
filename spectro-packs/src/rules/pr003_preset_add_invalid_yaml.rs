//! PR003 `preset-add-invalid-yaml`.
use super::{Checker, Rule};
use crate::diagnostic::{Position, Severity};
use crate::syntax::{YamlLimits, source_line};

pub(crate) const RULE: Rule = Rule {
    code: "PR003",
    name: "preset-add-invalid-yaml",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A preset's `add` block is not valid YAML",
    explanation: "## What it does\nParses each preset's `add` string as YAML and reports errors at \
their line in presets.yaml.\n\n## Why\nPalette merges `add` into the pack values when the preset \
is selected; invalid YAML breaks the profile editor for everyone choosing it.\n\n## Example\n\
```yaml\npresets:\n  - name: ha\n    add: |\n      replicas: [3\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(doc) = c.pack.presets.document() else {
        return;
    };
    let Some(items) = doc.root.get("presets").and_then(|p| p.as_seq()) else {
        return;
    };
    let text = &c.pack.presets.text;
    let mut budget = crate::syntax::EmbeddedYaml::new(YamlLimits::default());
    for (i, item) in items.iter().enumerate() {
        let Some(add) = item.get("add") else { continue };
        let Some(body) = add.as_str() else { continue };
        let Some(Err(e)) = budget.parse(body) else {
            continue;
        };
        // Map the error into presets.yaml. A block scalar's node starts at its first
        // content line, and every content line shares that indentation; a quoted scalar
        // cannot be mapped line by line, so point at it.
        let header = source_line(text, add.pos.line.get() as usize).unwrap_or_default();
        let first = header.chars().nth(add.pos.column.to_zero_indexed());
        let pos = if matches!(first, Some('"' | '\'')) {
            add.pos
        } else {
            Position::new(
                add.pos.line.to_zero_indexed() + e.position.line.get() as usize,
                add.pos.column.to_zero_indexed() + e.position.column.get() as usize,
            )
        };
        let msg = format!("`add` of preset {} is not valid YAML: {}", i + 1, e.message);
        c.diagnostics
            .push(RULE.diag("presets.yaml", &format!("/presets/{i}/add"), Some(pos), msg));
    }
}
