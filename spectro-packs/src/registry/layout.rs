//! The embedded registry's storage: one OCI image layout per repository under the root
//! (`<root>/spectro-packs/archive/<name>/` holds `oci-layout`, `index.json` and
//! `blobs/sha256/`), tags as `org.opencontainers.image.ref.name` annotations, readable by
//! `oras --oci-layout`, `skopeo oci:` and `umoci`.
//!
//! Blobs and `index.json` are written to a temporary file and renamed into place; a file
//! lock (`<root>/.lock`) serialises writers across processes; every blob is hashed when
//! read, and paths are only built from repository names and digests that passed a
//! strict format check.

use super::layout_gc::{INDEXES, only_layout_content, references};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::oci::{self, Descriptor, Index};
use super::reference::check_repository;
use super::staging::{copy_error, copy_hashing};
use super::store::{BlobSource, Store, StoreLock, Transfer};
use crate::error::{Error, Result};

/// OCI image layouts on disk, one per repository, under one root.
///
/// Writes (`put_*`, `delete_manifest`, `remove_tag`, `collect_garbage`) read and rewrite
/// `index.json`: callers sharing the root with other processes hold
/// [`Store::lock`]`(true)` around them, as [`super::PackRegistry`] does.
#[derive(Debug, Clone)]
pub struct LayoutStore {
    root: PathBuf,
}

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

fn corrupt(location: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptRegistry {
        location: location.display().to_string(),
        reason: reason.into(),
    }
}

impl LayoutStore {
    /// A store rooted at `root` (nothing is created until something is written).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LayoutStore { root: root.into() }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The image layout folder of a repository (checked name, one checked join per
    /// component).
    pub fn repo_dir(&self, repo: &str) -> Result<PathBuf> {
        check_repository(repo)?;
        let mut dir = self.root.clone();
        for part in repo.split('/') {
            dir = crate::safety::checked_join(&dir, part)?;
        }
        Ok(dir)
    }

    /// Where a blob of `repo` lives (`blobs/<algorithm>/<hex>`), for a well-formed
    /// `sha256:` or `sha512:` digest only.
    pub(crate) fn blob_path(&self, repo: &str, digest: &str) -> Result<PathBuf> {
        let dir = self.repo_dir(repo)?;
        let Some((alg, hex)) = oci::parse_digest(digest) else {
            return Err(corrupt(
                &dir,
                format!("refusing malformed digest `{}`", crate::sanitize(digest)),
            ));
        };
        Ok(dir.join("blobs").join(alg.name()).join(hex))
    }

    pub(crate) fn read_index(&self, repo: &str) -> Result<Option<Index>> {
        let path = self.repo_dir(repo)?.join("index.json");
        let bytes = match read_capped(&path, oci::MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(&path, format!("invalid index.json: {e}")))
    }

    pub(crate) fn write_index(&self, repo: &str, index: &Index) -> Result<()> {
        let dir = self.repo_dir(repo)?;
        let bytes = serde_json::to_vec(index).map_err(|e| Error::io(&dir, io::Error::other(e)))?;
        crate::safety::write_atomic(&dir.join("index.json"), &bytes, false)
    }

    /// Create the layout folder and its `oci-layout` marker.
    pub(crate) fn init_layout(&self, repo: &str) -> Result<PathBuf> {
        let dir = self.repo_dir(repo)?;
        crate::safety::create_dirs(&dir, 0o755)?;
        if !dir.join("oci-layout").is_file() {
            crate::safety::write_atomic(&dir.join("oci-layout"), OCI_LAYOUT, false)?;
        }
        Ok(dir)
    }

    /// Read a small blob fully, verifying its digest.
    pub(super) fn read_blob(&self, repo: &str, digest: &str, cap: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(repo, digest)?;
        let bytes = read_capped(&path, cap).map_err(|e| match e {
            Error::NotFound { .. } => corrupt(&path, format!("blob {digest} is missing")),
            e => e,
        })?;
        let actual = oci::parse_digest(digest)
            .map_or_else(|| oci::sha256_digest(&bytes), |(alg, _)| alg.digest(&bytes));
        if actual != digest {
            return Err(Error::DigestMismatch {
                what: path.display().to_string(),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }
}

impl LayoutStore {
    /// Names of the image layouts under the root that start with `prefix` and hold
    /// `marker` (`index.json`: repositories with manifests; `oci-layout`: any layout,
    /// also one holding only blobs).
    pub(crate) fn layouts(&self, prefix: &str, marker: &str) -> Result<Vec<String>> {
        let start = match prefix.trim_end_matches('/') {
            "" => self.root.clone(),
            p => self.repo_dir(p)?,
        };
        let mut out = Vec::new();
        let walk = walkdir::WalkDir::new(&start)
            .max_depth(16)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                let in_layout = || {
                    e.file_name() == "blobs"
                        && e.path()
                            .parent()
                            .is_some_and(|p| p.join("oci-layout").is_file())
                };
                e.depth() == 0
                    || (e.file_type().is_dir()
                        && !e.file_name().to_string_lossy().starts_with('.')
                        && !in_layout())
            });
        for e in walk.flatten() {
            if !e.path().join(marker).is_file() {
                continue;
            }
            let Ok(rel) = e.path().strip_prefix(&self.root) else {
                continue;
            };
            let name = rel
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            if name.starts_with(prefix) && check_repository(&name).is_ok() {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::TooLarge {
            what: path.display().to_string(),
            size: bytes.len() as u64,
            limit: cap,
        });
    }
    Ok(bytes)
}

impl Store for LayoutStore {
    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        Ok(self.blob_path(repo, digest)?.is_file())
    }

    fn put_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: Option<&str>,
        transfer: &Transfer,
    ) -> Result<(String, u64)> {
        if let Some(d) = digest {
            let path = self.blob_path(repo, d)?;
            if let Ok(m) = fs::metadata(&path)
                && m.is_file()
            {
                return Ok((d.to_owned(), m.len()));
            }
        }
        if let BlobSource::Bytes(b) = source {
            let d = oci::sha256_digest(b);
            if self.has_blob(repo, &d)? && digest.is_none_or(|want| want == d) {
                return Ok((d, b.len() as u64));
            }
        }
        let dir = self.init_layout(repo)?.join("blobs/sha256");
        crate::safety::create_dirs(&dir, 0o755)?;
        crate::safety::sweep_stale(&dir);
        let mut tmp =
            crate::safety::temp_file_in(&dir, "blob", false).map_err(|e| Error::io(&dir, e))?;
        let (actual, size, what) = match source {
            BlobSource::Bytes(b) => {
                io::Write::write_all(tmp.as_file_mut(), b).map_err(|e| Error::io(tmp.path(), e))?;
                (oci::sha256_digest(b), b.len() as u64, "blob".to_owned())
            }
            BlobSource::File(src) => {
                let mut input = File::open(src).map_err(|e| Error::io(src, e))?;
                let (d, n) = copy_hashing(
                    &mut input,
                    tmp.as_file_mut(),
                    transfer.progress.as_ref(),
                    transfer.cancel.as_ref(),
                )
                .map_err(|e| copy_error(src, tmp.path(), e))?;
                (d, n, src.display().to_string())
            }
        };
        if let Some(expected) = digest
            && expected != actual
        {
            return Err(Error::DigestMismatch {
                what,
                expected: expected.to_owned(),
                actual,
            });
        }
        let path = self.blob_path(repo, &actual)?;
        if !path.is_file() {
            crate::safety::persist(tmp, &path)?;
        }
        Ok((actual, size))
    }

    fn get_blob(
        &self,
        repo: &str,
        desc: &Descriptor,
        out: &mut File,
        transfer: &Transfer,
    ) -> Result<()> {
        let path = self.blob_path(repo, &desc.digest)?;
        let src = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => corrupt(&path, format!("blob {} is missing", desc.digest)),
            _ => Error::io(&path, e),
        })?;
        let (actual, n) = copy_hashing(
            &mut src.take(desc.size.saturating_add(1)),
            out,
            transfer.progress.as_ref(),
            transfer.cancel.as_ref(),
        )
        .map_err(|e| copy_error(&path, Path::new(super::staging::DESTINATION), e))?;
        if actual != desc.digest || n != desc.size {
            return Err(Error::DigestMismatch {
                what: path.display().to_string(),
                expected: desc.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    fn open_blob(&self, repo: &str, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let path = self.blob_path(repo, &desc.digest)?;
        let f = File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => corrupt(&path, format!("blob {} is missing", desc.digest)),
            _ => Error::io(&path, e),
        })?;
        Ok(Box::new(f.take(desc.size)))
    }

    fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<(String, Vec<u8>)>> {
        let Some(index) = self.read_index(repo)? else {
            return Ok(None);
        };
        let found = if oci::parse_digest(reference).is_some() {
            index.manifests.iter().find(|d| d.digest == reference)
        } else {
            index
                .manifests
                .iter()
                .find(|d| d.ref_name() == Some(reference))
        };
        let Some(desc) = found else {
            return Ok(None);
        };
        let bytes = self.read_blob(repo, &desc.digest, oci::MAX_MANIFEST_BYTES)?;
        Ok(Some((desc.digest.clone(), bytes)))
    }

    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        let Some(index) = self.read_index(repo)? else {
            return Ok(None);
        };
        Ok(index
            .manifests
            .iter()
            .find(|d| {
                if oci::parse_digest(reference).is_some() {
                    d.digest == reference
                } else {
                    d.ref_name() == Some(reference)
                }
            })
            .map(|d| d.digest.clone()))
    }

    fn put_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String> {
        let dir = self.repo_dir(repo)?;
        if bytes.len() as u64 > oci::MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                what: format!("manifest for {repo}:{}", crate::sanitize(tag)),
                size: bytes.len() as u64,
                limit: oci::MAX_MANIFEST_BYTES,
            });
        }
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| corrupt(&dir, format!("manifest is not JSON: {e}")))?;
        let media_type = v
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(oci::MANIFEST_MEDIA_TYPE)
            .to_owned();
        let is_index = INDEXES.contains(&media_type.as_str());
        let refs = references(&v, is_index)
            .ok_or_else(|| corrupt(&dir, "manifest has a malformed descriptor"))?;
        // Like a registry: a manifest may only point at what is stored (an index's
        // children are manifests, which live in the same blob folder).
        for (_, d) in refs.children.iter().chain(&refs.subject) {
            if !self.has_blob(repo, d)? {
                return Err(corrupt(
                    &dir,
                    format!("manifest references blob {d}, which is not in {repo}"),
                ));
            }
        }
        let (digest, _) =
            self.put_blob(repo, BlobSource::Bytes(bytes), None, &Transfer::default())?;
        let mut index = self.read_index(repo)?.unwrap_or_default();
        let mut ann = Map::new();
        ann.insert(oci::REF_NAME.into(), Value::String(tag.to_owned()));
        index.manifests.retain(|d| d.ref_name() != Some(tag));
        index.manifests.push(Descriptor {
            media_type,
            digest: digest.clone(),
            size: bytes.len() as u64,
            annotations: ann,
        });
        self.write_index(repo, &index)?;
        Ok(digest)
    }

    fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool> {
        let Some(mut index) = self.read_index(repo)? else {
            return Ok(false);
        };
        let before = index.manifests.len();
        index.manifests.retain(|d| d.digest != digest);
        if index.manifests.len() == before {
            return Ok(false);
        }
        self.write_index(repo, &index)?;
        Ok(true)
    }

    fn supports_delete(&self, _repo: &str) -> Result<bool> {
        Ok(true)
    }

    /// One rewrite of `index.json`: the tag goes, the manifest stays for its other tags.
    fn remove_tag(&self, repo: &str, tag: &str) -> Result<Option<bool>> {
        let Some(mut index) = self.read_index(repo)? else {
            return Ok(Some(false));
        };
        let before = index.manifests.len();
        index.manifests.retain(|d| d.ref_name() != Some(tag));
        if index.manifests.len() == before {
            return Ok(Some(false));
        }
        self.write_index(repo, &index)?;
        Ok(Some(true))
    }

    fn tags(&self, repo: &str) -> Result<Option<Vec<String>>> {
        Ok(self.read_index(repo)?.map(|index| {
            index
                .manifests
                .iter()
                .filter_map(|d| d.ref_name().map(str::to_owned))
                .collect()
        }))
    }

    fn tag_digests(&self, repo: &str, tags: &[String]) -> Result<Vec<(String, String)>> {
        let index = self.read_index(repo)?.unwrap_or_default();
        Ok(tags
            .iter()
            .filter_map(|t| {
                let d = index
                    .manifests
                    .iter()
                    .find(|d| d.ref_name() == Some(t.as_str()))?;
                Some((t.clone(), d.digest.clone()))
            })
            .collect())
    }

    fn repositories(&self, prefix: &str) -> Result<Option<Vec<String>>> {
        self.layouts(prefix, "index.json").map(Some)
    }

    /// A cross-process lock on `<root>/.lock`: exclusive for writers, shared for readers.
    /// Readers open the file read-only, so a registry on a read-only mount or owned by
    /// another user can still be listed and pulled (without a lock file, readers go
    /// unlocked: nobody can be writing there).
    fn lock(&self, exclusive: bool) -> Result<StoreLock> {
        let path = self.root.join(".lock");
        // A planted symbolic link (or anything but a file) is refused, not followed to
        // create a file where it points.
        crate::safety::check_replaceable(&path)?;
        let create = || {
            fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        let f = if exclusive {
            create()
        } else {
            match File::open(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => create(),
                other => other,
            }
        };
        let f = match f {
            Ok(f) => f,
            Err(e)
                if !exclusive
                    && matches!(
                        e.kind(),
                        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                    ) =>
            {
                return Ok(StoreLock::none());
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        if exclusive { f.lock() } else { f.lock_shared() }.map_err(|e| Error::io(&path, e))?;
        Ok(StoreLock::held(f))
    }

    /// Remove blobs no manifest of the layout references any more; a layout left with
    /// no manifest is removed whole.
    ///
    /// Walks image manifests and image indexes (OCI and Docker) from `index.json`
    /// down, including `subject` links. Anything it cannot read or does not understand
    /// (a missing or unparsable blob, an unknown media type) stops the collection
    /// before a single file is deleted: a blob is only removed when it is proven
    /// unreferenced.
    fn collect_garbage(&self, repo: &str) -> Result<()> {
        let dir = self.repo_dir(repo)?;
        if !dir.is_dir() {
            return Ok(());
        }
        let index = match self.read_index(repo) {
            Ok(Some(i)) => i,
            Ok(None) => Index::default(),
            // A damaged index.json: touch nothing.
            Err(_) => return Ok(()),
        };
        if index.manifests.is_empty() {
            // Only a folder that holds nothing but layout content (what a failed first push
            // leaves): never one with other files or other repositories in it.
            if only_layout_content(&dir) {
                fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
            return Ok(());
        }
        let Some(keep) = self.reachable(repo, &index) else {
            return Ok(());
        };
        for alg in ["sha256", "sha512"] {
            let Ok(rd) = fs::read_dir(dir.join("blobs").join(alg)) else {
                continue;
            };
            for e in rd.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                let digest = format!("{alg}:{file}");
                // Only blob-shaped names; temporary files are swept by age elsewhere.
                if oci::parse_digest(&digest).is_some() && !keep.contains(&digest) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }
}
