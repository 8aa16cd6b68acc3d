//! VL003 `missing-images`.
use super::{Checker, Rule, node_position};
use crate::diagnostic::Severity;
use crate::layer::Layer;

pub(crate) const RULE: Rule = Rule {
    code: "VL003",
    name: "missing-images",
    severity: Severity::Warning,
    since: "0.1.0",
    summary: "values.yaml does not list the pack's images under `pack.content.images`",
    explanation: "## What it does\nFor packs other than os, k8s and kernel, warns when values.yaml \
has no non-empty `pack.content.images` list.\n\n## Why\nPalette uses the list to pre-pull and \
mirror images for air-gapped and edge clusters; the community repository's CI requires at least \
one image.\n\n## Example\n```yaml\npack:\n  content:\n    images:\n      - image: ghcr.io/acme/app:1.0.0\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(values) = c.values else { return };
    match c.pack.manifest().layer {
        Some(Layer::Os | Layer::K8s | Layer::Kernel) | None => return,
        Some(_) => {}
    }
    let images = values
        .get("pack")
        .and_then(|p| p.get("content"))
        .and_then(|c| c.get("images"));
    if images
        .and_then(|i| i.as_seq())
        .is_some_and(|s| !s.is_empty())
    {
        return;
    }
    let pos = node_position(values, "/pack/content/images", true);
    let mut d = RULE.diag(
        "values.yaml",
        "/pack/content/images",
        Some(pos),
        "no images listed under `pack.content.images`".into(),
    );
    d.help = Some("list every image the pack deploys, e.g. `- image: registry/app:1.0.0`".into());
    c.push(d);
}
