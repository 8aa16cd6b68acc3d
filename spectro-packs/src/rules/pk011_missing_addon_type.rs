//! PK011 `missing-addon-type`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::layer::Layer;

pub(crate) const RULE: Rule = Rule {
    code: "PK011",
    name: "missing-addon-type",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "An addon pack has no `addonType`",
    explanation: "## What it does\nWarns when a pack with `layer: addon` has no `addonType`.\n\n\
## Why\nPalette's docs say `addonType` must be set for add-on packs; the UI groups add-ons by \
it, and a missing one lands the pack in no category.\n\n## Example\n```json\n\
{\"name\": \"nginx\", \"layer\": \"addon\"}\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    if c.pack.manifest().layer == Some(Layer::Addon) && root.get("addonType").is_none() {
        let pos = node_position(root, "/layer", true);
        let mut d = RULE.diag(
            "pack.json",
            "/layer",
            Some(pos),
            "addon pack has no `addonType`".into(),
        );
        d.help = Some("add e.g. \"addonType\": \"monitoring\" (see `spectro rules PK012` for the known values)".into());
        c.push(d);
    }
}
