//! PF021 `invalid-variable-definition`.
use super::ProfileChecker;
use crate::diagnostic::{Severity, sanitize};
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF021",
    name: "invalid-variable-definition",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A profile variable's settings contradict each other",
    explanation: "## What it does\nChecks each `spec.variables` entry against Palette's \
documented rules: a variable that is hidden and required, or read-only (`immutable`), needs a \
`defaultValue`; a `dropdown` variable needs at least one option and its default must be one of \
the option values; names are unique.\n\n## Why\nPalette refuses these definitions when the \
profile is saved: nobody could ever supply a hidden or read-only value, and a dropdown cannot \
default to something it does not offer.\n\n## Example\n```json\n{\"name\": \"region\", \
\"inputType\": \"dropdown\", \"defaultValue\": \"eu\", \"options\": [{\"value\": \"us\"}]}\n```",
};

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    let mut found = Vec::new();
    for (i, v) in c.profile.variables.iter().enumerate() {
        let label = v
            .name
            .as_deref()
            .map_or(format!("#{}", v.index), |n| format!("`{}`", sanitize(n)));
        let f = |k: &str| format!("{}/{k}", v.pointer);
        let mut push = |ptr: String, msg: String| found.push(c.at(&RULE, &ptr, false, msg));
        if let Some(name) = v.name.as_deref()
            && c.profile.variables[..i]
                .iter()
                .any(|w| w.name.as_deref() == Some(name))
        {
            push(
                f("name"),
                format!("variable {label} is defined twice; names must be unique"),
            );
        }
        if v.hidden && v.required && v.default_value.is_none() {
            let key = if c.profile.position(&f("hidden"), false)
                != c.profile.position(&v.pointer, false)
            {
                f("hidden")
            } else {
                f("isHidden")
            };
            push(
                key,
                format!(
                    "variable {label} is hidden and required but has no defaultValue; nobody can set it"
                ),
            );
        }
        if v.immutable && v.default_value.is_none() {
            push(
                f("immutable"),
                format!("variable {label} is read-only (immutable) but has no defaultValue"),
            );
        }
        if v.input_type.as_deref() == Some("dropdown") {
            if v.options.is_empty() {
                push(
                    f("inputType"),
                    format!("dropdown variable {label} has no options"),
                );
            } else if let Some(d) = v.default_value.as_deref()
                && !v.options.iter().any(|o| o == d)
            {
                push(
                    f("defaultValue"),
                    format!(
                        "default `{}` of dropdown variable {label} is not one of its options: {}",
                        sanitize(d),
                        sanitize(&v.options.join(", "))
                    ),
                );
            }
        }
    }
    c.diagnostics.extend(found);
}
