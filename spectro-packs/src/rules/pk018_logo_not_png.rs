//! PK018 `logo-not-png`.
use super::{Checker, Rule};
use crate::diagnostic::Severity;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

pub(crate) const RULE: Rule = Rule {
    code: "PK018",
    name: "logo-not-png",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "logo.png is not a PNG image",
    explanation: "## What it does\nChecks that `logo.png` starts with the PNG signature.\n\n## Why\n\
A JPEG or SVG renamed to `.png` shows as a broken image in Palette.\n\n## Example\nA \
`logo.png` that is really `<svg ...>`.",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    if c.pack.entry("logo.png").is_none() {
        return;
    }
    match &c.pack.logo_header {
        Some(h) if h.as_slice() == PNG_MAGIC => {}
        Some(_) => c.push(RULE.diag(
            "logo.png",
            "",
            None,
            "logo.png is not a PNG image (wrong file signature)".into(),
        )),
        None => c.push(RULE.diag(
            "logo.png",
            "",
            None,
            "logo.png is not a readable regular file".into(),
        )),
    }
}
