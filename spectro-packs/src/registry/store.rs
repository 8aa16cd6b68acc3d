//! The storage layer under every pack registry: content-addressed blobs, manifests and
//! tags per repository, as the OCI distribution API and the OCI image layout both model
//! them. The pack protocol ([`super::PackRegistry`]) is written once on top of this
//! trait; backends only store and fetch.
//!
//! Implementations: [`super::LayoutStore`] (OCI image layouts on disk, the embedded
//! registry), [`super::MemoryStore`] (in memory, for tests and embedding) and, with the
//! `remote` feature, `HttpStore` (any OCI distribution registry).

use std::any::Any;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::oci::Descriptor;
use super::{CancelFlag, ProgressFn};
use crate::error::Result;

/// Where a blob's bytes come from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum BlobSource<'a> {
    /// Small content in memory (a config, a manifest).
    Bytes(&'a [u8]),
    /// A file, streamed (and re-read when a transfer is retried).
    File(&'a Path),
}

impl BlobSource<'_> {
    /// Size in bytes (a file's current length).
    pub fn size(&self) -> Result<u64> {
        match self {
            BlobSource::Bytes(b) => Ok(b.len() as u64),
            BlobSource::File(p) => std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| crate::Error::io(*p, e)),
        }
    }
}

/// Progress reporting and cancellation for one transfer.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Transfer {
    /// Called with the bytes moved so far.
    pub progress: Option<ProgressFn>,
    /// Stops the transfer with [`crate::Error::Cancelled`] when set.
    pub cancel: Option<CancelFlag>,
}

impl Transfer {
    /// A transfer with these hooks.
    pub fn new(progress: Option<ProgressFn>, cancel: Option<CancelFlag>) -> Self {
        Transfer { progress, cancel }
    }

    /// Whether the transfer was cancelled.
    pub fn is_cancelled(&self) -> bool {
        super::is_cancelled(self.cancel.as_ref())
    }

    /// Report `done` of `total` bytes.
    pub(crate) fn report(&self, done: u64, total: Option<u64>) {
        if let Some(p) = &self.progress {
            p(super::Progress::Transfer { done, total });
        }
    }
}

impl std::fmt::Debug for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transfer")
            .field("progress", &self.progress.is_some())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Held while a store is locked ([`Store::lock`]); dropping it unlocks.
#[must_use = "the lock is released when this is dropped"]
pub struct StoreLock(#[allow(dead_code)] Option<Box<dyn Any + Send>>);

impl StoreLock {
    /// A lock that holds nothing (stores that need none).
    pub fn none() -> Self {
        StoreLock(None)
    }

    /// A lock held by `guard` until dropped.
    pub fn held(guard: impl Any + Send) -> Self {
        StoreLock(Some(Box::new(guard)))
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "StoreLock(held)"
        } else {
            "StoreLock(none)"
        })
    }
}

/// A content-addressed store of repositories, each with blobs, manifests and tags.
///
/// Repository names are distribution-style paths (`base/spectro-packs/archive/nginx`);
/// references are tags or `sha256:` digests. Every implementation verifies what it
/// stores and what it returns against its digest, and makes a blob or manifest visible
/// only once it is complete. Every backend passes the same storage suite
/// (`tests/src/conformance.rs`).
pub trait Store: Send + Sync {
    /// Where the store is, for messages (`file:///...`, `oci://host/base`, `memory:`).
    fn location(&self) -> String;

    /// Whether `repo` holds the blob.
    fn has_blob(&self, repo: &str, digest: &str) -> Result<bool>;

    /// Store a blob in `repo` (nothing is sent or written when it is there already) and
    /// return its digest and size, as stored. With `digest` given, the content must hash
    /// to it ([`crate::Error::DigestMismatch`] otherwise); without, the store computes it.
    fn put_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: Option<&str>,
        transfer: &Transfer,
    ) -> Result<(String, u64)>;

    /// Copy the blob `desc` describes into `out` (from its current position), checking
    /// its size and digest; on error `out` may hold part of it.
    fn get_blob(
        &self,
        repo: &str,
        desc: &Descriptor,
        out: &mut File,
        transfer: &Transfer,
    ) -> Result<()>;

    /// Stream a blob from its start, unverified: for reading the first entries of an
    /// archive without fetching all of it. Callers must not trust what they read beyond
    /// what they check themselves.
    fn open_blob(&self, repo: &str, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>>;

    /// A manifest by tag or digest: `(digest, bytes)`, verified against the digest asked
    /// for; `None` when there is no such manifest.
    fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<(String, Vec<u8>)>>;

    /// The digest of the manifest a tag (or digest) names, `None` when absent.
    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        Ok(self.get_manifest(repo, reference)?.map(|(d, _)| d))
    }

    /// Store a manifest under `tag` (moving the tag if it pointed elsewhere); every blob
    /// it references must be in `repo` already. Returns the manifest's digest.
    fn put_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String>;

    /// Delete a manifest by digest, and every tag pointing at it. `false` when there was
    /// no such manifest; [`crate::Error::Unsupported`] when the store refuses deletes.
    fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool>;

    /// Whether [`Store::delete_manifest`] works in `repo`, learnt without changing
    /// anything.
    fn supports_delete(&self, repo: &str) -> Result<bool>;

    /// Remove one tag, leaving the manifest and its other tags, in a single step where the
    /// store can (`Some(found)`); `None` when it cannot (the distribution API deletes
    /// manifests, not tags), and the caller moves the tag to a throw-away manifest.
    fn remove_tag(&self, repo: &str, tag: &str) -> Result<Option<bool>> {
        let _ = (repo, tag);
        Ok(None)
    }

    /// Tags of `repo`; `None` when the repository does not exist.
    fn tags(&self, repo: &str) -> Result<Option<Vec<String>>>;

    /// `(tag, manifest digest)` for each of `tags` that exists.
    fn tag_digests(&self, repo: &str, tags: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::with_capacity(tags.len());
        for t in tags {
            if let Some(d) = self.head_manifest(repo, t)? {
                out.push((t.clone(), d));
            }
        }
        Ok(out)
    }

    /// Repositories whose name starts with `prefix`; `None` when the store refuses to
    /// list them (a registry without a catalog).
    fn repositories(&self, prefix: &str) -> Result<Option<Vec<String>>>;

    /// Serialise writers (and readers against writers) across processes where the store
    /// is shared through a file system; stores with atomic remote operations need none.
    fn lock(&self, exclusive: bool) -> Result<StoreLock> {
        let _ = exclusive;
        Ok(StoreLock::none())
    }

    /// While the returned guard lives, client-wide cancellation (Ctrl-C, SIGTERM) waits:
    /// the steps of a tag move and its restore run to their end once started.
    fn hold_cancellation(&self) -> StoreLock {
        StoreLock::none()
    }

    /// Remove what no manifest of `repo` references any more (blobs left by a failed
    /// push, the old archive after `--force`), where the store can; a repository left
    /// with no manifest is removed. Only called with an exclusive [`Store::lock`] held.
    fn collect_garbage(&self, repo: &str) -> Result<()> {
        let _ = repo;
        Ok(())
    }
}
