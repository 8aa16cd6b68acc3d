//! PK014 `missing-referenced-file`.
use super::refs::{escapes, listed_paths, normalise};
use super::{Checker, Rule};
use crate::diagnostic::Severity;
use crate::pack::EntryKind;

pub(crate) const RULE: Rule = Rule {
    code: "PK014",
    name: "missing-referenced-file",
    severity: Severity::Error,
    since: "0.1.0",
    summary: "A file listed in `charts` or `kubeManifests` is not in the pack",
    explanation: "## What it does\nChecks that every path in pack.json `charts` and `kubeManifests` \
names a file inside the pack.\n\n## Why\nPalette installs exactly the listed charts and \
manifests; a missing file fails the deployment of every cluster using the pack.\n\n\
## Example\n```json\n{\"charts\": [\"charts/nginx-1.2.0.tgz\"]}\n```\nwith only \
`charts/nginx-1.1.0.tgz` on disk.",
};

/// The file-name part of a `/`-joined path.
fn base(p: &str) -> &str {
    p.rsplit_once('/').map_or(p, |(_, f)| f)
}

/// Did-you-mean hints are computed for at most this many missing entries, each against
/// at most [`MAX_HINT_CANDIDATES`] files of its folder: hostile packs with thousands of
/// missing entries and files stay linear.
const MAX_HINTS: usize = 20;
const MAX_HINT_CANDIDATES: usize = 1_000;

pub(crate) fn check(c: &mut Checker<'_>) {
    let Some(root) = c.pack_json else { return };
    // A partial file list would make every unseen file "missing": FS005 reports that.
    if c.pack.tree_truncated {
        return;
    }
    // Files by folder, built once (not once per missing entry).
    let mut by_dir: Option<std::collections::HashMap<&str, Vec<&str>>> = None;
    let mut hints = 0usize;
    for key in ["charts", "kubeManifests"] {
        for (pointer, node, path) in listed_paths(root, key) {
            if escapes(path) || path.is_empty() {
                continue;
            }
            let norm = normalise(path);
            match c.pack.entry(&norm).map(|e| &e.kind) {
                Some(EntryKind::File | EntryKind::Symlink { .. }) => {}
                Some(EntryKind::Other) => {
                    c.push(RULE.diag(
                        "pack.json",
                        &pointer,
                        Some(node.pos),
                        format!("`{path}` is a device, FIFO or socket, not a regular file"),
                    ));
                }
                Some(EntryKind::Dir) => {
                    c.push(RULE.diag(
                        "pack.json",
                        &pointer,
                        Some(node.pos),
                        format!("`{path}` is a directory, not a file"),
                    ));
                }
                _ => {
                    let mut d = RULE.diag(
                        "pack.json",
                        &pointer,
                        Some(node.pos),
                        format!("`{path}` is listed in `{key}` but does not exist in the pack"),
                    );
                    let dir = norm.rsplit_once('/').map_or("", |(d, _)| d);
                    let by_dir = by_dir.get_or_insert_with(|| {
                        let mut m: std::collections::HashMap<&str, Vec<&str>> =
                            std::collections::HashMap::new();
                        for e in c.pack.tree.iter().filter(|e| e.kind == EntryKind::File) {
                            let d = e.path.rsplit_once('/').map_or("", |(d, _)| d);
                            m.entry(d).or_default().push(e.path.as_str());
                        }
                        m
                    });
                    let siblings = by_dir.get(dir).map_or(&[][..], Vec::as_slice);
                    // Siblings share the folder: compare file names only (cost), with the
                    // tolerance of the whole path (as users read it), and none longer than a
                    // real file name (the distance is quadratic in length).
                    let wanted = base(&norm).to_ascii_lowercase();
                    if hints < MAX_HINTS
                        && siblings.len() <= MAX_HINT_CANDIDATES
                        && wanted.len() <= 255
                    {
                        hints += 1;
                        let best = siblings
                            .iter()
                            .filter_map(|full| {
                                let name = base(full);
                                let limit = 2.max(full.len() / 4);
                                if name.len() > 255 || name.len().abs_diff(wanted.len()) > limit {
                                    return None;
                                }
                                let dist = strsim::damerau_levenshtein(
                                    &wanted,
                                    &name.to_ascii_lowercase(),
                                );
                                (dist <= limit && dist < full.len()).then_some((dist, *full))
                            })
                            .min_by_key(|(d, _)| *d);
                        if let Some((_, s)) = best {
                            d.help = Some(format!("did you mean `{s}`?"));
                        }
                    }
                    c.push(d);
                }
            }
        }
    }
}
