//! What the registry server needs from the embedded registry's storage beyond the pack
//! protocol: blobs in any accepted digest algorithm, untagged manifests of any media
//! type, blob deletion, cross-repository mounts and the referrers of a manifest.
//!
//! Same rules as the rest of [`LayoutStore`]: paths only from checked repository names and
//! digests, blobs renamed into place only after their digest was verified, `index.json`
//! rewritten through a temporary file (callers hold [`Store::lock`]`(true)` around
//! index changes).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::LayoutStore;
use super::oci::{self, Descriptor};
use super::store::Store;
use crate::error::{Error, Result};

/// A manifest found by tag or digest: its descriptor in `index.json` and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct StoredManifest {
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) bytes: Vec<u8>,
}

impl LayoutStore {
    /// Folder for upload sessions (temporary files of the server), under the root so a
    /// finished upload is renamed, not copied, into its repository.
    pub(crate) fn uploads_dir(&self) -> PathBuf {
        self.root().join(".uploads")
    }

    /// Size of a blob of `repo`, `None` when absent; a present blob's time is set to now
    /// (a client asking is about to reference it, and `registry gc` spares young blobs).
    pub(crate) fn blob_len_refreshed(&self, repo: &str, digest: &str) -> Result<Option<u64>> {
        let len = self.blob_len(repo, digest)?;
        if len.is_some() {
            super::layout_gc::touch(&self.blob_path(repo, digest)?);
        }
        Ok(len)
    }

    /// Size of a blob of `repo`, `None` when absent.
    pub(crate) fn blob_len(&self, repo: &str, digest: &str) -> Result<Option<u64>> {
        let path = self.blob_path(repo, digest)?;
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Move a verified upload (`tmp`, whose content hashes to `digest`) into `repo`.
    pub(crate) fn commit_blob(
        &self,
        repo: &str,
        tmp: tempfile::NamedTempFile,
        digest: &str,
    ) -> Result<()> {
        let path = self.blob_path(repo, digest)?;
        self.init_layout(repo)?;
        if let Some(dir) = path.parent() {
            crate::safety::create_dirs(dir, 0o755)?;
        }
        if path.is_file() {
            // Already there (left by an earlier push, perhaps unreferenced): young again,
            // so `registry gc` spares it until this push's manifest arrives.
            super::layout_gc::touch(&path);
            return Ok(());
        }
        crate::safety::persist(tmp, &path)
    }

    /// Make the blob `digest` of `from` a blob of `to` (a hard link where the file
    /// system allows, a verified copy otherwise). `false` when `from` lacks it.
    pub(crate) fn mount_blob(&self, from: &str, to: &str, digest: &str) -> Result<bool> {
        let src = self.blob_path(from, digest)?;
        let dst = self.blob_path(to, digest)?;
        if !src.is_file() {
            return Ok(false);
        }
        if dst.is_file() {
            super::layout_gc::touch(&dst);
            return Ok(true);
        }
        self.init_layout(to)?;
        let dir = dst.parent().unwrap_or(Path::new("."));
        crate::safety::create_dirs(dir, 0o755)?;
        let tmp = crate::safety::temp_file_in(dir, "blob", false).map_err(|e| Error::io(dir, e))?;
        let tmp_path = tmp.path().to_path_buf();
        // A hard link shares the verified bytes; the temporary name keeps a half-made
        // copy invisible.
        drop(tmp);
        let linked = fs::hard_link(&src, &tmp_path).is_ok();
        if !linked {
            let (alg, _) = oci::parse_digest(digest).ok_or_else(|| Error::DigestMismatch {
                what: src.display().to_string(),
                expected: digest.to_owned(),
                actual: String::new(),
            })?;
            let mut tmp =
                crate::safety::temp_file_in(dir, "blob", false).map_err(|e| Error::io(dir, e))?;
            // Copied, then the copy hashed: what is renamed into place is what was checked.
            let mut input = fs::File::open(&src).map_err(|e| Error::io(&src, e))?;
            io::copy(&mut input, tmp.as_file_mut()).map_err(|e| Error::io(tmp.path(), e))?;
            let mut copy = tmp.reopen().map_err(|e| Error::io(tmp.path(), e))?;
            let mut hasher = oci::DigestHasher::new(alg);
            io::copy(&mut copy, &mut hasher).map_err(|e| Error::io(tmp.path(), e))?;
            let actual = hasher.finish();
            if actual != digest {
                return Err(Error::DigestMismatch {
                    what: src.display().to_string(),
                    expected: digest.to_owned(),
                    actual,
                });
            }
            return crate::safety::persist(tmp, &dst).map(|()| true);
        }
        fs::rename(&tmp_path, &dst).map_err(|e| {
            let _ = fs::remove_file(&tmp_path);
            Error::io(&dst, e)
        })?;
        // A hard link keeps the source's time: make it young, so `registry gc` spares it
        // until the manifest that needs it arrives.
        super::layout_gc::touch(&dst);
        Ok(true)
    }

    /// Delete a blob of `repo`; `false` when it was not there.
    pub(crate) fn delete_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        let path = self.blob_path(repo, digest)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// A manifest by tag or digest, with the media type it was stored under.
    pub(crate) fn manifest(&self, repo: &str, reference: &str) -> Result<Option<StoredManifest>> {
        let Some(index) = self.read_index(repo)? else {
            return Ok(None);
        };
        let by_digest = oci::parse_digest(reference).is_some();
        let Some(desc) = index.manifests.iter().find(|d| {
            if by_digest {
                d.digest == reference
            } else {
                d.ref_name() == Some(reference)
            }
        }) else {
            return Ok(None);
        };
        let bytes = self.read_blob(repo, &desc.digest, oci::MAX_MANIFEST_BYTES)?;
        Ok(Some(StoredManifest {
            media_type: desc.media_type.clone(),
            digest: desc.digest.clone(),
            bytes,
        }))
    }

    /// Store manifest `bytes` (already checked by the caller) under `digest`, listed in
    /// `index.json` under each of `tags`, or untagged when there are none.
    pub(crate) fn store_manifest(
        &self,
        repo: &str,
        bytes: &[u8],
        digest: &str,
        media_type: &str,
        tags: &[String],
    ) -> Result<()> {
        let path = self.blob_path(repo, digest)?;
        self.init_layout(repo)?;
        if !path.is_file() {
            let dir = path.parent().unwrap_or(Path::new("."));
            crate::safety::create_dirs(dir, 0o755)?;
            let mut tmp =
                crate::safety::temp_file_in(dir, "blob", false).map_err(|e| Error::io(dir, e))?;
            io::Write::write_all(tmp.as_file_mut(), bytes).map_err(|e| Error::io(tmp.path(), e))?;
            crate::safety::persist(tmp, &path)?;
        }
        let mut index = self.read_index(repo)?.unwrap_or_default();
        let entry = |tag: Option<&str>| {
            let mut annotations = Map::new();
            if let Some(t) = tag {
                annotations.insert(oci::REF_NAME.into(), Value::String(t.to_owned()));
            }
            let mut d = Descriptor::new(media_type, digest, bytes.len() as u64);
            d.annotations = annotations;
            d
        };
        if tags.is_empty() {
            if index.manifests.iter().any(|d| d.digest == digest) {
                return Ok(());
            }
            index.manifests.push(entry(None));
        } else {
            // Tags move; an untagged entry for the same manifest is no longer needed.
            index.manifests.retain(|d| match d.ref_name() {
                Some(t) => !tags.iter().any(|x| x == t),
                None => d.digest != digest,
            });
            for t in tags {
                index.manifests.push(entry(Some(t)));
            }
        }
        self.write_index(repo, &index)
    }

    /// Manifests of `repo` whose `subject` is `digest`, as descriptors for the referrers
    /// API (with `artifactType` and annotations), optionally only those of one
    /// artifact type.
    pub(crate) fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Value>> {
        let Some(index) = self.read_index(repo)? else {
            return Ok(Vec::new());
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for d in &index.manifests {
            if !seen.insert(d.digest.clone()) {
                continue;
            }
            let Ok(bytes) = self.read_blob(repo, &d.digest, oci::MAX_MANIFEST_BYTES) else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let subject = v
                .get("subject")
                .and_then(|s| s.get("digest"))
                .and_then(Value::as_str);
            if subject != Some(digest) {
                continue;
            }
            let kind = v
                .get("artifactType")
                .and_then(Value::as_str)
                .or_else(|| {
                    v.get("config")
                        .and_then(|c| c.get("mediaType"))
                        .and_then(Value::as_str)
                })
                .map(str::to_owned);
            if artifact_type.is_some_and(|want| kind.as_deref() != Some(want)) {
                continue;
            }
            let mut desc = Map::new();
            desc.insert("mediaType".into(), Value::String(d.media_type.clone()));
            desc.insert("digest".into(), Value::String(d.digest.clone()));
            desc.insert("size".into(), Value::from(bytes.len() as u64));
            if let Some(k) = kind {
                desc.insert("artifactType".into(), Value::String(k));
            }
            if let Some(a) = v.get("annotations").filter(|a| a.is_object()) {
                desc.insert("annotations".into(), a.clone());
            }
            out.push(Value::Object(desc));
        }
        Ok(out)
    }

    /// Every repository of the store.
    pub(crate) fn all_repositories(&self) -> Result<Vec<String>> {
        Ok(self.repositories("")?.unwrap_or_default())
    }
}
