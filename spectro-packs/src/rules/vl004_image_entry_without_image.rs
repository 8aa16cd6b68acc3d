//! VL004 `image-entry-without-image`.
use super::{Checker, Rule, did_you_mean};
use crate::diagnostic::Severity;
use crate::syntax::NodeValue;

pub(crate) const RULE: Rule = Rule {
    code: "VL004",
    name: "image-entry-without-image",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "An entry of `pack.content.images` has no `image` reference",
    explanation: "## What it does\nChecks that every item of `pack.content.images` is a mapping \
with a non-empty string `image`, and suggests the right key for typos such as `iamge`.\n\n\
## Why\nAn entry without `image` is skipped when Palette mirrors images, so an air-gapped \
cluster fails to pull it at install time.\n\n## Example\n```yaml\npack:\n  content:\n    \
images:\n      - iamge: ghcr.io/acme/app:1.0.0\n```",
};

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(values) = c.values else { return };
    let Some(items) = values
        .get("pack")
        .and_then(|p| p.get("content"))
        .and_then(|c| c.get("images"))
        .and_then(|i| i.as_seq())
    else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let pointer = format!("/pack/content/images/{i}");
        match &item.value {
            NodeValue::Map(entries) => match item.get("image") {
                Some(img) if img.as_str().is_some_and(|s| !s.trim().is_empty()) => {}
                Some(img) => {
                    let msg = format!(
                        "`image` must be a non-empty image reference, found {}",
                        img.type_name()
                    );
                    c.push(RULE.diag(
                        "values.yaml",
                        &format!("{pointer}/image"),
                        Some(img.pos),
                        msg,
                    ));
                }
                None => {
                    let typo = entries
                        .iter()
                        .find(|e| did_you_mean(&e.key.key_text(), ["image"]).is_some());
                    let pos = typo.map_or(item.pos, |e| e.key.pos);
                    let mut d = RULE.diag(
                        "values.yaml",
                        &pointer,
                        Some(pos),
                        "image entry has no `image` key".into(),
                    );
                    if let Some(e) = typo {
                        d.help = Some(format!(
                            "`{}` looks like a typo of `image`",
                            e.key.key_text()
                        ));
                        d.fix = Some(crate::diagnostic::Fix::replace_with("image"));
                    }
                    c.push(d);
                }
            },
            _ => {
                let msg = format!(
                    "image entry must be a mapping like `image: repo/name:tag`, found {}",
                    item.type_name()
                );
                c.push(RULE.diag("values.yaml", &pointer, Some(item.pos), msg));
            }
        }
    }
}
