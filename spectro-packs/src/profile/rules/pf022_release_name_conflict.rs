//! PF022 `release-name-conflict`.
use super::{ProfileChecker, values_get};
use crate::diagnostic::{Severity, sanitize};
use crate::layer::Layer;
use crate::profile::model::PackType;
use crate::rules::Rule;

pub(crate) const RULE: Rule = Rule {
    code: "PF022",
    name: "release-name-conflict",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "Two add-on packs install a Helm release with the same name into the same namespace",
    explanation: "## What it does\nFor each add-on pack, works out the Helm releases it \
installs: one per chart, named `<packName>-<chartName>` unless `pack.releaseNameOverride` maps \
the chart to another name (Palette's documented default), in the namespace `pack.namespace`. \
Charts are the keys under `charts:` in the profile's values (else in the pack's values.yaml, \
else the chart archives of its pack.json); the namespace is taken from the profile's values, \
else the pack's values.yaml. Reports a release that an earlier, different pack already \
installs in the same namespace. Copies of the same pack are left to PF008.\n\n## Why\nHelm \
release names are unique per namespace: the second install fails or, worse, upgrades the first \
pack's release with the second pack's chart.\n\n## Example\n```yaml\n# values of pack `nginx` (chart `nginx`)\npack:\n  namespace: \
ingress\n  releaseNameOverride:\n    nginx: ingress\n# values of pack `ingress-nginx` (chart \
`controller`)\npack:\n  namespace: ingress\n  releaseNameOverride:\n    controller: ingress\n```",
};

/// Chart names of profile pack `i`.
fn charts(c: &ProfileChecker<'_>, i: usize) -> Vec<String> {
    let p = &c.profile.packs[i];
    let keys = |root: Option<&crate::syntax::Node>| -> Vec<String> {
        root.and_then(|r| r.get("charts"))
            .and_then(|n| n.as_map())
            .map(|m| m.iter().map(|e| e.key.key_text()).collect())
            .unwrap_or_default()
    };
    let from_profile = keys(p.values.root());
    if !from_profile.is_empty() {
        return from_profile;
    }
    let Some(pack) = c.resolved(i) else {
        return Vec::new();
    };
    let from_pack = keys(pack.values.document().map(|d| &d.root));
    if !from_pack.is_empty() {
        return from_pack;
    }
    pack.manifest()
        .charts
        .iter()
        .flatten()
        .filter_map(|path| {
            let file = path.rsplit('/').next()?;
            let stem = file
                .strip_suffix(".tgz")
                .or_else(|| file.strip_suffix(".tar.gz"))?;
            // `calico-3.27.0` → `calico`: drop a trailing `-<version>`.
            let name = match stem.rsplit_once('-') {
                Some((n, v)) if v.starts_with(|ch: char| ch.is_ascii_digit()) => n,
                _ => stem,
            };
            Some(name.to_owned())
        })
        .collect()
}

pub(crate) fn check(c: &mut ProfileChecker<'_>) {
    // (namespace, release) → up to two earlier installs (pack index, chart): the first,
    // and the first from a pack named differently from it. The first install from a pack
    // named differently from any given pack is one of those two, so lookups stay O(1).
    type Install = (usize, String);
    let mut seen: std::collections::HashMap<(String, String), (Install, Option<Install>)> =
        std::collections::HashMap::new();
    let mut found = Vec::new();
    for (i, p) in c.profile.packs.iter().enumerate() {
        if c.layer(i) != Some(Layer::Addon) || p.kind() == PackType::Manifest {
            continue;
        }
        let Some(name) = p.name.as_deref() else {
            continue;
        };
        let pack_values = c
            .resolved(i)
            .and_then(|r| r.values.document())
            .map(|d| &d.root);
        let from = |path: &[&str]| {
            p.values
                .root()
                .and_then(|r| values_get(r, path))
                .or_else(|| pack_values.and_then(|r| values_get(r, path)))
        };
        let Some(ns) = from(&["pack", "namespace"])
            .and_then(|n| n.as_str())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        for chart in charts(c, i) {
            let release = from(&["pack", "releaseNameOverride", &chart])
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("{name}-{chart}"), str::to_owned);
            let key = (ns.to_owned(), release.clone());
            let name_of = |j: usize| c.profile.packs[j].name.as_deref();
            let clash = seen.get(&key).and_then(|(first, second)| {
                if name_of(first.0) != Some(name) {
                    Some(first)
                } else {
                    second.as_ref()
                }
            });
            if let Some((j, other_chart)) = clash {
                let q = &c.profile.packs[*j];
                let msg = format!(
                    "pack {} (chart `{}`) installs release `{}` in namespace `{}`, as pack {} (chart `{}`, line {}) already does",
                    sanitize(&p.label()),
                    sanitize(&chart),
                    sanitize(&release),
                    sanitize(ns),
                    sanitize(&q.label()),
                    sanitize(other_chart),
                    q.position.line
                );
                let mut d = c.at(&RULE, &p.field("name"), false, msg);
                d.help = Some(format!(
                    "set `pack.releaseNameOverride.{}` or a different `pack.namespace` in one of them",
                    sanitize(&chart)
                ));
                found.push(d);
            }
            match seen.get_mut(&key) {
                None => {
                    seen.insert(key, ((i, chart), None));
                }
                Some((first, second)) => {
                    if second.is_none() && name_of(first.0) != Some(name) {
                        *second = Some((i, chart));
                    }
                }
            }
        }
    }
    c.diagnostics.extend(found);
}
