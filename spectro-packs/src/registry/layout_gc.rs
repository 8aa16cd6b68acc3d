//! Garbage collection in OCI image layouts: what a layout's manifests reach, and whether
//! a folder holds nothing but layout content (so it may be removed whole).

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use super::layout::LayoutStore;
use super::oci::{self, Index};

/// Manifest media types whose references the garbage collector follows.
pub(super) const MANIFESTS: &[&str] = &[
    oci::MANIFEST_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.v2+json",
];
/// Index media types whose children the garbage collector follows.
pub(super) const INDEXES: &[&str] = &[
    oci::INDEX_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

impl LayoutStore {
    /// Every digest reachable from `index`, or `None` when the walk met anything it
    /// does not understand (then nothing may be collected).
    pub(super) fn reachable(&self, repo: &str, index: &Index) -> Option<HashSet<String>> {
        let mut keep = HashSet::new();
        let mut queue: Vec<(String, String)> = index
            .manifests
            .iter()
            .map(|d| (d.media_type.clone(), d.digest.clone()))
            .collect();
        let mut visited = 0usize;
        while let Some((media_type, digest)) = queue.pop() {
            if !keep.insert(digest.clone()) {
                continue;
            }
            visited += 1;
            if visited > 100_000 {
                return None;
            }
            let is_manifest = MANIFESTS.contains(&media_type.as_str());
            let is_index = INDEXES.contains(&media_type.as_str());
            if !is_manifest && !is_index {
                return None;
            }
            let bytes = self
                .read_blob(repo, &digest, oci::MAX_MANIFEST_BYTES)
                .ok()?;
            let v: Value = serde_json::from_slice(&bytes).ok()?;
            let refs = references(&v, is_index)?;
            if let Some(subject) = refs.subject {
                queue.push(subject);
            }
            for child in refs.children {
                if is_index {
                    queue.push(child);
                } else {
                    keep.insert(child.1);
                }
            }
        }
        Some(keep)
    }
}

/// What a manifest or index points at: `(media type, digest)` pairs.
pub(super) struct References {
    pub(super) subject: Option<(String, String)>,
    /// Config and layers of a manifest, or the manifests of an index.
    pub(super) children: Vec<(String, String)>,
}

/// The descriptors a manifest (config, layers) or index (manifests) references, and its
/// `subject`; `None` when one of them is malformed.
pub(super) fn references(v: &Value, is_index: bool) -> Option<References> {
    let desc = |d: &Value| -> Option<(String, String)> {
        let digest = d.get("digest")?.as_str()?;
        oci::parse_digest(digest)?;
        let mt = d
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Some((mt.to_owned(), digest.to_owned()))
    };
    let subject = match v.get("subject") {
        Some(s) => Some(desc(s)?),
        None => None,
    };
    let mut children = Vec::new();
    if is_index {
        for child in v.get("manifests")?.as_array()? {
            children.push(desc(child)?);
        }
    } else {
        children.push(desc(v.get("config")?)?);
        for layer in v.get("layers")?.as_array()? {
            children.push(desc(layer)?);
        }
    }
    Some(References { subject, children })
}

/// Whether `dir` holds only `oci-layout`, `index.json` and `blobs/sha256|sha512/` with
/// digest-named files and spectro's temporary files.
pub(super) fn only_layout_content(dir: &Path) -> bool {
    let Ok(rd) = fs::read_dir(dir) else {
        return false;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        match name.to_str() {
            Some("oci-layout" | "index.json") if !is_dir => {}
            Some("blobs") if is_dir => {
                let Ok(rd) = fs::read_dir(e.path()) else {
                    return false;
                };
                for b in rd.flatten() {
                    let alg = b.file_name().to_string_lossy().into_owned();
                    if !matches!(alg.as_str(), "sha256" | "sha512")
                        || !b.file_type().is_ok_and(|t| t.is_dir())
                    {
                        return false;
                    }
                    let Ok(files) = fs::read_dir(b.path()) else {
                        return false;
                    };
                    for f in files.flatten() {
                        let n = f.file_name().to_string_lossy().into_owned();
                        let blob = oci::parse_digest(&format!("{alg}:{n}")).is_some();
                        if !(blob || crate::safety::is_temp_name(&n))
                            || !f.file_type().is_ok_and(|t| t.is_file())
                        {
                            return false;
                        }
                    }
                }
            }
            _ => return false,
        }
    }
    true
}
