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

/// What [`LayoutStore::collect_all_garbage`] did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct GcReport {
    /// Repositories looked at.
    pub repositories: usize,
    /// Blobs removed (or that would be).
    pub removed: Vec<String>,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Unreferenced blobs kept because they are younger than the grace period (a push
    /// may be about to reference them).
    pub kept_young: usize,
    /// Repositories left alone because a manifest could not be read or is of a kind the
    /// collector does not follow; `(repository, reason)`.
    pub skipped: Vec<(String, String)>,
}

impl LayoutStore {
    /// Remove, in every repository under the root, the blobs no manifest references.
    ///
    /// A push uploads its blobs before the manifest that references them, so a blob
    /// younger than `grace` is never removed: a push in progress (through `registry
    /// serve`, or anything else writing the folder) keeps what it uploaded. The server
    /// refreshes a blob's time when a client asks whether it exists (the step before a
    /// client skips its upload) and when it mounts it from another repository. Pushes by
    /// spectro itself hold the store's lock, which this takes too. A repository whose
    /// manifests cannot all be read is skipped whole.
    pub fn collect_all_garbage(
        &self,
        grace: std::time::Duration,
        dry_run: bool,
    ) -> crate::Result<GcReport> {
        use super::store::Store as _;
        let _lock = if dry_run {
            self.lock(false)?
        } else {
            self.lock(true)?
        };
        let mut report = GcReport::default();
        let cutoff = std::time::SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(std::time::UNIX_EPOCH);
        for repo in self.layouts("", "oci-layout")? {
            report.repositories += 1;
            let index = match self.read_index(&repo) {
                Ok(i) => i.unwrap_or_default(),
                Err(e) => {
                    report.skipped.push((repo, e.to_string()));
                    continue;
                }
            };
            let Some(keep) = self.reachable(&repo, &index) else {
                report.skipped.push((
                    repo,
                    "a manifest could not be read or is of a kind not followed".into(),
                ));
                continue;
            };
            let dir = self.repo_dir(&repo)?;
            for alg in ["sha256", "sha512"] {
                let Ok(rd) = fs::read_dir(dir.join("blobs").join(alg)) else {
                    continue;
                };
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let digest = format!("{alg}:{name}");
                    if oci::parse_digest(&digest).is_none() || keep.contains(&digest) {
                        continue;
                    }
                    let Ok(meta) = e.path().symlink_metadata() else {
                        continue;
                    };
                    if !meta.is_file() {
                        continue;
                    }
                    if meta.modified().map_or(true, |t| t > cutoff) {
                        report.kept_young += 1;
                        continue;
                    }
                    if !dry_run {
                        fs::remove_file(e.path()).map_err(|err| crate::Error::io(e.path(), err))?;
                    }
                    report.bytes += meta.len();
                    report.removed.push(format!("{repo}@{digest}"));
                }
            }
        }
        // Upload files (`.uploads/`) belong to a running server's sessions: it sweeps
        // stale ones itself when it starts.
        Ok(report)
    }
}

/// Set a file's modification time to now (ignoring failures: a read-only folder keeps
/// its times, and nothing collects garbage there).
#[cfg(feature = "serve")]
pub(crate) fn touch(path: &Path) {
    if let Ok(f) = fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}
