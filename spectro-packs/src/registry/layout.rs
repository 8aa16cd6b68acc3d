//! The embedded registry: one OCI image layout per pack under
//! `<root>/spectro-packs/archive/<name>/` (`oci-layout`, `index.json`, `blobs/sha256/`),
//! tags = versions, readable by `oras --oci-layout`, `skopeo oci:` and `umoci`.
//!
//! Blobs and `index.json` are written to a temporary file and renamed into place; a file
//! lock (`<root>/.lock`) serialises writers across processes; every blob is hashed when
//! read, and blob paths are only built from digests that passed a strict format check.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::oci::{self, Descriptor, Index, Manifest};
use super::reference::{PackRef, Selector, wildcard_matches};
use super::{
    PackListing, PullOptions, PullOutcome, PushOptions, PushOutcome, Registry, Resolved,
    VersionInfo,
};
use crate::archive::{self, BuildOptions, ExtractOptions, archive_file_name};
use crate::error::{Error, Result};
use crate::version::PackVersion;

/// The embedded OCI-image-layout registry.
#[derive(Debug, Clone)]
pub struct LayoutRegistry {
    root: PathBuf,
}

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

fn corrupt(location: &Path, reason: impl Into<String>) -> Error {
    Error::CorruptRegistry {
        location: location.display().to_string(),
        reason: reason.into(),
    }
}

impl LayoutRegistry {
    /// Open (creating if needed) a registry rooted at `root`.
    ///
    /// An existing registry that cannot be written (read-only mount, another user's) is
    /// opened for reading.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if root.as_os_str().is_empty() {
            return Err(Error::InvalidReference {
                input: String::new(),
                reason: "empty registry path".into(),
            });
        }
        let archive = root.join(super::ARCHIVE_PATH);
        if !archive.is_dir() {
            crate::safety::create_dirs(&archive, 0o755)?;
        }
        Ok(LayoutRegistry { root })
    }

    /// The registry root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The image layout directory of a pack.
    ///
    /// `name` must be a valid pack name ([`PackRef`] checks it); anything else is
    /// mapped to a path that cannot exist rather than joined.
    pub fn layout_dir(&self, name: &str) -> PathBuf {
        let base = self.root.join(super::ARCHIVE_PATH);
        crate::safety::checked_join(&base, name).unwrap_or_else(|_| base.join(".invalid"))
    }

    /// A cross-process lock on `<root>/.lock`: exclusive for writers, shared for readers.
    /// Readers open the file read-only, so a registry on a read-only mount or owned by
    /// another user can still be listed and pulled (without a lock file, readers go
    /// unlocked: nobody can be writing there).
    fn lock(&self, exclusive: bool) -> Result<Option<File>> {
        let path = self.root.join(".lock");
        let f = if exclusive {
            fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        } else {
            match File::open(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path),
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
                return Ok(None);
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        if exclusive { f.lock() } else { f.lock_shared() }.map_err(|e| Error::io(&path, e))?;
        Ok(Some(f))
    }

    fn blob_path(&self, name: &str, digest: &str) -> Result<PathBuf> {
        if !oci::is_sha256_digest(digest) {
            return Err(corrupt(
                &self.layout_dir(name),
                format!("refusing malformed digest `{}`", crate::sanitize(digest)),
            ));
        }
        Ok(self
            .layout_dir(name)
            .join("blobs/sha256")
            .join(&digest["sha256:".len()..]))
    }

    fn read_index(&self, name: &str) -> Result<Option<Index>> {
        let path = self.layout_dir(name).join("index.json");
        let bytes = match read_capped(&path, oci::MAX_MANIFEST_BYTES) {
            Ok(b) => b,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(&path, format!("invalid index.json: {e}")))
    }

    fn write_index(&self, name: &str, index: &Index) -> Result<()> {
        let dir = self.layout_dir(name);
        let bytes = serde_json::to_vec(index).map_err(|e| Error::io(&dir, io::Error::other(e)))?;
        crate::safety::write_atomic(&dir.join("index.json"), &bytes, false)
    }

    /// Write bytes as a blob (idempotent) and return its descriptor digest.
    /// Returns the digest and, when this call created the blob, its path.
    fn put_blob(&self, name: &str, bytes: &[u8]) -> Result<(String, Option<PathBuf>)> {
        let digest = oci::sha256_digest(bytes);
        let path = self.blob_path(name, &digest)?;
        if path.is_file() {
            return Ok((digest, None));
        }
        crate::safety::write_atomic(&path, bytes, false)?;
        Ok((digest, Some(path)))
    }

    /// Copy a file in as a blob, verifying it hashes to `digest`.
    /// Returns the blob path when this call created it.
    fn put_blob_file(
        &self,
        name: &str,
        src: &Path,
        digest: &str,
        opts: &PushOptions,
    ) -> Result<Option<PathBuf>> {
        let path = self.blob_path(name, digest)?;
        if path.is_file() {
            return Ok(None);
        }
        let dir = path.parent().expect("blob path has a parent");
        crate::safety::create_dirs(dir, 0o755)?;
        crate::safety::sweep_stale(dir);
        let mut tmp =
            crate::safety::temp_file_in(dir, "blob", false).map_err(|e| Error::io(dir, e))?;
        let mut input = File::open(src).map_err(|e| Error::io(src, e))?;
        let actual = copy_hashing(
            &mut input,
            tmp.as_file_mut(),
            opts.progress.as_ref(),
            opts.cancel.as_ref(),
        )
        .map_err(|e| copy_error(src, tmp.path(), e))?
        .0;
        if actual != digest {
            return Err(Error::DigestMismatch {
                what: src.display().to_string(),
                expected: digest.to_owned(),
                actual,
            });
        }
        crate::safety::persist(tmp, &path)?;
        Ok(Some(path))
    }

    /// Read a blob fully, verifying its digest (for small blobs: manifests).
    fn get_blob(&self, name: &str, digest: &str, cap: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(name, digest)?;
        let bytes = read_capped(&path, cap).map_err(|e| match e {
            Error::NotFound { .. } => corrupt(&path, format!("blob {digest} is missing")),
            e => e,
        })?;
        let actual = oci::sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                what: path.display().to_string(),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    fn manifest(&self, name: &str, desc: &Descriptor) -> Result<Manifest> {
        let bytes = self.get_blob(name, &desc.digest, oci::MAX_MANIFEST_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            corrupt(
                &self.blob_path(name, &desc.digest).unwrap_or_default(),
                format!("invalid manifest: {e}"),
            )
        })
    }

    fn not_found(&self, r: &PackRef) -> Error {
        Error::PackNotFound {
            reference: r.to_string(),
            registry: self.location(),
        }
    }

    fn resolve_locked(&self, r: &PackRef) -> Result<(Descriptor, Option<String>)> {
        let index = self.read_index(&r.name)?.ok_or_else(|| self.not_found(r))?;
        let tagged = || {
            index
                .manifests
                .iter()
                .filter_map(|d| d.ref_name().map(|t| (t.to_owned(), d)))
        };
        let pick = match &r.selector {
            Selector::Tag(t) => tagged().find(|(tag, _)| tag == t),
            Selector::Digest(dg) => {
                let d = index
                    .manifests
                    .iter()
                    .find(|d| &d.digest == dg)
                    .ok_or_else(|| self.not_found(r))?;
                return Ok((d.clone(), d.ref_name().map(str::to_owned)));
            }
            Selector::Latest => highest(tagged()),
            Selector::Wildcard(w) => highest(tagged().filter(|(t, _)| wildcard_matches(w, t))),
        };
        let (tag, d) = pick.ok_or_else(|| self.not_found(r))?;
        Ok((d.clone(), Some(tag)))
    }

    /// Remove blobs no manifest of the layout references any more.
    ///
    /// Walks image manifests and image indexes (OCI and Docker) from `index.json`
    /// down, including `subject` links. Anything it cannot read or does not understand
    /// (a missing or unparsable blob, an unknown media type) stops the collection
    /// before a single file is deleted: a blob is only removed when it is proven
    /// unreferenced.
    fn collect_garbage(&self, name: &str, index: &Index) -> Result<()> {
        let Some(keep) = self.reachable(name, index) else {
            return Ok(());
        };
        let dir = self.layout_dir(name).join("blobs/sha256");
        let Ok(rd) = fs::read_dir(&dir) else {
            return Ok(());
        };
        for e in rd.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let digest = format!("sha256:{file}");
            // Only blob-shaped names; temporary files are swept by age elsewhere.
            if oci::is_sha256_digest(&digest) && !keep.contains(&digest) {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    /// Every digest reachable from `index`, or `None` when the walk met anything it
    /// does not understand.
    fn reachable(&self, name: &str, index: &Index) -> Option<std::collections::HashSet<String>> {
        const MANIFESTS: &[&str] = &[
            oci::MANIFEST_MEDIA_TYPE,
            "application/vnd.docker.distribution.manifest.v2+json",
        ];
        const INDEXES: &[&str] = &[
            oci::INDEX_MEDIA_TYPE,
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ];
        let mut keep = std::collections::HashSet::new();
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
            let bytes = self.get_blob(name, &digest, oci::MAX_MANIFEST_BYTES).ok()?;
            let v: Value = serde_json::from_slice(&bytes).ok()?;
            let desc = |d: &Value| -> Option<(String, String)> {
                let digest = d.get("digest")?.as_str()?;
                if !oci::is_sha256_digest(digest) {
                    return None;
                }
                let mt = d
                    .get("mediaType")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Some((mt.to_owned(), digest.to_owned()))
            };
            if let Some(subject) = v.get("subject") {
                queue.push(desc(subject)?);
            }
            if is_index {
                for child in v.get("manifests")?.as_array()? {
                    queue.push(desc(child)?);
                }
                continue;
            }
            keep.insert(desc(v.get("config")?)?.1);
            for layer in v.get("layers")?.as_array()? {
                keep.insert(desc(layer)?.1);
            }
        }
        Some(keep)
    }
}

fn highest<'a>(
    tags: impl Iterator<Item = (String, &'a Descriptor)>,
) -> Option<(String, &'a Descriptor)> {
    tags.filter_map(|(t, d)| PackVersion::parse(&t).ok().map(|v| (v, t, d)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t, d)| (t, d))
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(corrupt(path, format!("larger than the {cap}-byte limit")));
    }
    Ok(bytes)
}

use super::{CancelledIo, is_cancelled};

/// `Error::Cancelled` for a cancelled copy; else the I/O error, blamed on `dst` when
/// writing failed (a full disk is the destination's problem) and on `src` otherwise.
fn copy_error(src: &Path, dst: &Path, e: io::Error) -> Error {
    if e.get_ref().is_some_and(|i| i.is::<CancelledIo>()) {
        return Error::Cancelled;
    }
    if e.get_ref().is_some_and(|i| i.is::<WriteFailed>()) {
        let inner = e
            .into_inner()
            .and_then(|b| b.downcast::<WriteFailed>().ok())
            .map_or_else(|| io::Error::other("write failed"), |w| w.0);
        return Error::io(dst, inner);
    }
    Error::io(src, e)
}

/// Marks an I/O error of the writing side of [`copy_hashing`].
#[derive(Debug)]
struct WriteFailed(io::Error);
impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for WriteFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Copy while hashing; returns (`sha256:` digest, bytes).
fn copy_hashing(
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: Option<&super::ProgressFn>,
    cancel: Option<&super::CancelFlag>,
) -> io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        if is_cancelled(cancel) {
            return Err(io::Error::other(CancelledIo));
        }
        let k = src.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        dst.write_all(&buf[..k])
            .map_err(|e| io::Error::other(WriteFailed(e)))?;
        n += k as u64;
        if let Some(p) = progress {
            p(super::Progress::Transfer {
                done: n,
                total: None,
            });
        }
    }
    Ok((format!("sha256:{}", hex::encode(h.finalize())), n))
}

/// An archive ready to push.
pub(crate) struct Prepared {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
    pub(crate) version: String,
    /// Digest and size, when building already computed them.
    pub(crate) digest: Option<(String, u64)>,
    pub(crate) _tmp: tempfile::TempDir,
}

impl Prepared {
    /// Digest and size (hashing the file unless the build did).
    pub(crate) fn digest(&self) -> Result<(String, u64)> {
        match &self.digest {
            Some(d) => Ok(d.clone()),
            None => file_digest(&self.path),
        }
    }
}

/// Build or open the archive for a push.
pub(crate) fn prepare_archive(source: &Path, opts: &PushOptions) -> Result<Prepared> {
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    if source.is_dir() {
        if let Some(p) = &opts.progress {
            p(super::Progress::Building);
        }
        let b = BuildOptions {
            validate: !opts.no_validate,
            mtime: opts.mtime.unwrap_or(archive::DEFAULT_MTIME),
            ..BuildOptions::default()
        };
        let built = archive::build_archive(source, tmp.path(), &b)?;
        return Ok(Prepared {
            path: built.path,
            name: built.name,
            version: built.version,
            digest: Some((built.digest, built.size)),
            _tmp: tmp,
        });
    }
    if opts.no_validate {
        // Only the identity is needed: read pack.json, upload the file as it is.
        let (name, version) = archive::read_identity(source)?;
        return Ok(Prepared {
            path: source.to_path_buf(),
            name,
            version,
            digest: None,
            _tmp: tmp,
        });
    }
    // An archive: extract it safely to read and validate the pack inside.
    let x = archive::extract_archive(source, tmp.path(), &ExtractOptions::default())?;
    let pack = crate::load_pack(&x.root)?;
    if !opts.no_validate {
        let errors = crate::check_pack(&pack)
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count();
        if errors > 0 {
            return Err(Error::Archive {
                path: source.to_path_buf(),
                entry: None,
                problem: archive::ArchiveProblem::Invalid { errors },
            });
        }
    }
    let (Some(name), Some(version)) = (pack.name(), pack.version()) else {
        return Err(Error::Archive {
            path: source.to_path_buf(),
            entry: None,
            problem: archive::ArchiveProblem::NoIdentity,
        });
    };
    Ok(Prepared {
        path: source.to_path_buf(),
        name: name.to_owned(),
        version: version.to_owned(),
        digest: None,
        _tmp: tmp,
    })
}

pub(crate) fn file_digest(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    copy_hashing(&mut f, &mut io::sink(), None, None).map_err(|e| Error::io(path, e))
}

impl Registry for LayoutRegistry {
    fn location(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn push(&self, source: &Path, opts: &PushOptions) -> Result<PushOutcome> {
        let prepared = prepare_archive(source, opts)?;
        let (archive, name, version) = (
            &prepared.path,
            prepared.name.clone(),
            prepared.version.clone(),
        );
        let reference = PackRef::exact(&name, &version)?;
        let (digest, size) = prepared.digest()?;
        let _lock = self.lock(true)?;
        let mut index = self.read_index(&name)?.unwrap_or_default();
        if is_cancelled(opts.cancel.as_ref()) {
            return Err(Error::Cancelled);
        }
        if let Some(existing) = index
            .manifests
            .iter()
            .find(|d| d.ref_name() == Some(version.as_str()))
        {
            let m = self.manifest(&name, existing)?;
            let current = m.pack_layer().map(|l| l.digest.clone()).unwrap_or_default();
            if current == digest {
                return Ok(PushOutcome {
                    reference,
                    manifest_digest: existing.digest.clone(),
                    archive_digest: digest,
                    size,
                    changed: false,
                });
            }
            if !opts.force {
                return Err(Error::AlreadyExists {
                    reference: reference.to_string(),
                    existing: current,
                });
            }
        }
        // Everything before the index.json rename is undone on failure or cancellation,
        // so an interrupted push leaves the registry exactly as it was.
        let dir = self.layout_dir(&name);
        let new_layout = !dir.exists();
        let mut created: Vec<PathBuf> = Vec::new();
        let result = (|| -> Result<String> {
            crate::safety::create_dirs(&dir, 0o755)?;
            if !dir.join("oci-layout").is_file() {
                crate::safety::write_atomic(&dir.join("oci-layout"), OCI_LAYOUT, false)?;
            }
            created.extend(self.put_blob_file(&name, archive, &digest, opts)?);
            created.extend(self.put_blob(&name, oci::CONFIG_BLOB)?.1);
            let created_at = opts.created.clone().unwrap_or_else(|| oci::rfc3339(0));
            let manifest = Manifest::for_pack(
                &digest,
                size,
                &archive_file_name(&name, &version),
                &created_at,
            );
            let bytes =
                serde_json::to_vec(&manifest).map_err(|e| Error::io(&dir, io::Error::other(e)))?;
            let (manifest_digest, path) = self.put_blob(&name, &bytes)?;
            created.extend(path);
            if is_cancelled(opts.cancel.as_ref()) {
                return Err(Error::Cancelled);
            }
            let mut ann = Map::new();
            ann.insert(oci::REF_NAME.into(), Value::String(version.clone()));
            index
                .manifests
                .retain(|d| d.ref_name() != Some(version.as_str()));
            index.manifests.push(Descriptor {
                media_type: oci::MANIFEST_MEDIA_TYPE.into(),
                digest: manifest_digest.clone(),
                size: bytes.len() as u64,
                annotations: ann,
            });
            self.write_index(&name, &index)?;
            Ok(manifest_digest)
        })();
        let manifest_digest = match result {
            Ok(d) => d,
            Err(e) => {
                for p in &created {
                    let _ = fs::remove_file(p);
                }
                if new_layout {
                    let _ = fs::remove_dir_all(&dir);
                }
                return Err(e);
            }
        };
        self.collect_garbage(&name, &index)?;
        Ok(PushOutcome {
            reference,
            manifest_digest,
            archive_digest: digest,
            size,
            changed: true,
        })
    }

    fn resolve(&self, reference: &PackRef) -> Result<Resolved> {
        let _lock = self.lock(false)?;
        let (desc, version) = self.resolve_locked(reference)?;
        let manifest = self.manifest(&reference.name, &desc)?;
        Ok(Resolved {
            name: reference.name.clone(),
            version,
            manifest_digest: desc.digest,
            manifest,
        })
    }

    fn pull(&self, reference: &PackRef, dest: &Path, opts: &PullOptions) -> Result<PullOutcome> {
        let mut tmp = super::pull_temp(dest)?;
        // Resolve and copy under one read lock, so a concurrent `push --force` cannot
        // swap the blob out between the two.
        let _lock = self.lock(false)?;
        let (desc, version) = self.resolve_locked(reference)?;
        let manifest = self.manifest(&reference.name, &desc)?;
        let layer = manifest
            .pack_layer()
            .map_err(|reason| corrupt(&self.layout_dir(&reference.name), reason))?
            .clone();
        super::check_layer_size(&reference.to_string(), &layer, opts)?;
        let src_path = self.blob_path(&reference.name, &layer.digest)?;
        let src = File::open(&src_path).map_err(|e| Error::io(&src_path, e))?;
        let (actual, n) = copy_hashing(
            &mut src.take(layer.size.saturating_add(1)),
            tmp.as_file_mut(),
            opts.progress.as_ref(),
            opts.cancel.as_ref(),
        )
        .map_err(|e| copy_error(&src_path, dest, e))?;
        drop(_lock);
        if actual != layer.digest || n != layer.size {
            return Err(Error::DigestMismatch {
                what: reference.to_string(),
                expected: layer.digest.clone(),
                actual,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        let resolved = Resolved {
            name: reference.name.clone(),
            version,
            manifest_digest: desc.digest,
            manifest,
        };
        super::finish_pull(tmp, dest, &reference.name, &resolved, layer.digest, opts)
    }

    fn list(&self, filter: Option<&str>) -> Result<Vec<PackListing>> {
        let _lock = self.lock(false)?;
        let dir = self.root.join(super::ARCHIVE_PATH);
        let mut out = Vec::new();
        let rd = fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut names: Vec<String> = rd
            .flatten()
            .filter(|e| e.path().join("index.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if filter.is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let Some(index) = self.read_index(&name)? else {
                continue;
            };
            let mut versions: Vec<VersionInfo> = index
                .manifests
                .iter()
                .filter_map(|d| {
                    Some(VersionInfo {
                        version: d.ref_name()?.to_owned(),
                        digest: d.digest.clone(),
                    })
                })
                .collect();
            versions.sort_by(|a, b| super::version_order(&b.version, &a.version));
            if !versions.is_empty() {
                out.push(PackListing { name, versions });
            }
        }
        Ok(out)
    }

    fn delete(&self, reference: &PackRef) -> Result<()> {
        super::require_exact(reference, "deleting")?;
        let _lock = self.lock(true)?;
        let (desc, _) = self.resolve_locked(reference)?;
        let mut index = self.read_index(&reference.name)?.unwrap_or_default();
        match &reference.selector {
            Selector::Digest(d) => index.manifests.retain(|m| &m.digest != d),
            _ => index
                .manifests
                .retain(|m| !(m.digest == desc.digest && m.ref_name() == desc.ref_name())),
        }
        if index.manifests.is_empty() {
            let dir = self.layout_dir(&reference.name);
            fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            return Ok(());
        }
        self.write_index(&reference.name, &index)?;
        self.collect_garbage(&reference.name, &index)
    }

    fn tag(&self, reference: &PackRef, new_tag: &str, opts: &super::TagOptions) -> Result<()> {
        // Check everything before touching anything.
        super::require_exact(reference, "tagging")?;
        super::check_new_tag(&reference.name, new_tag)?;
        let _lock = self.lock(true)?;
        let (mut desc, _) = self.resolve_locked(reference)?;
        let mut index = self.read_index(&reference.name)?.unwrap_or_default();
        if let Some(existing) = index
            .manifests
            .iter()
            .find(|d| d.ref_name() == Some(new_tag))
            && existing.digest != desc.digest
            && !opts.force
        {
            return Err(Error::AlreadyExists {
                reference: format!("{}:{new_tag}", reference.name),
                existing: existing.digest.clone(),
            });
        }
        index.manifests.retain(|d| d.ref_name() != Some(new_tag));
        desc.annotations
            .insert(oci::REF_NAME.into(), Value::String(new_tag.to_owned()));
        index.manifests.push(desc);
        self.write_index(&reference.name, &index)
    }
}
