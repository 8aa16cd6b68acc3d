//! PK008 `unknown-field`.
use super::{Checker, Rule, did_you_mean};
use crate::diagnostic::Severity;
use crate::schema::SchemaKind;
use crate::syntax::pointer_escape;

pub(crate) const RULE: Rule = Rule {
    code: "PK008",
    name: "unknown-field",
    severity: Severity::Info,
    since: "0.1.0",
    summary: "pack.json has a top-level key the pack schema does not define",
    explanation: "## What it does\nLists top-level pack.json keys that are not in the pack schema, \
with a did-you-mean when the key looks like a typo of a known one.\n\n## Why\nUnknown keys are \
allowed and kept, but a typo such as `kubeManifest` silently drops the manifests from the \
pack.\n\n## Example\n```json\n{\"kubeManifest\": [\"manifests/app.yaml\"]}\n```",
};

static KNOWN: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let schema: serde_json::Value =
        serde_json::from_str(SchemaKind::Pack.text()).unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
});

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(entries) = c.pack_json.and_then(|r| r.as_map()) else {
        return;
    };
    let known = &*KNOWN;
    for e in entries {
        let key = e.key.key_text();
        if known.contains(&key) {
            continue;
        }
        let mut d = RULE.diag(
            "pack.json",
            &format!("/{}", pointer_escape(&key)),
            Some(e.key.pos),
            format!("`{key}` is not a pack.json field Palette knows; it is kept as is"),
        );
        if let Some(s) = did_you_mean(&key, known.iter().map(String::as_str)) {
            d.help = Some(format!("did you mean `{s}`?"));
            d.fix = Some(crate::diagnostic::Fix::replace_with(s));
        }
        c.push(d);
    }
}
