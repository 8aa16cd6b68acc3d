//! [`MemoryStore`]: a [`Store`] in memory, for tests and for embedding spectro where
//! nothing may touch the disk. Same checks as the other stores: digests verified on the
//! way in and out, manifests only over blobs the repository holds.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use super::oci::{self, Descriptor};
use super::reference::check_repository;
use super::store::{BlobSource, Store, Transfer};
use crate::error::{Error, Result};

#[derive(Debug, Default)]
struct Repo {
    blobs: HashMap<String, Arc<Vec<u8>>>,
    /// Manifest digest → bytes.
    manifests: HashMap<String, Arc<Vec<u8>>>,
    /// Tag → manifest digest.
    tags: BTreeMap<String, String>,
}

/// Repositories held in memory. Cheap to clone: clones share the same content.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    repos: Arc<Mutex<BTreeMap<String, Repo>>>,
    /// Refuse deletes (like CNCF distribution's default configuration).
    no_delete: bool,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// An empty store that refuses to delete manifests, like a registry with deletes
    /// switched off.
    pub fn without_delete() -> Self {
        MemoryStore {
            no_delete: true,
            ..MemoryStore::default()
        }
    }

    fn repos(&self) -> MutexGuard<'_, BTreeMap<String, Repo>> {
        self.repos.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A blob a manifest points at; missing is damage.
    fn stored(&self, repo: &str, digest: &str) -> Result<Arc<Vec<u8>>> {
        self.blob(repo, digest)
            .ok_or_else(|| Error::CorruptRegistry {
                location: format!("memory:{repo}"),
                reason: format!("blob {digest} is missing"),
            })
    }

    /// Bytes of a blob, if `repo` holds it.
    pub fn blob(&self, repo: &str, digest: &str) -> Option<Arc<Vec<u8>>> {
        self.repos().get(repo)?.blobs.get(digest).cloned()
    }
}

fn read_source(source: BlobSource<'_>, transfer: &Transfer) -> Result<Vec<u8>> {
    match source {
        BlobSource::Bytes(b) => Ok(b.to_vec()),
        BlobSource::File(p) => {
            if transfer.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
            transfer.report(bytes.len() as u64, Some(bytes.len() as u64));
            Ok(bytes)
        }
    }
}

impl Store for MemoryStore {
    fn location(&self) -> String {
        "memory:".into()
    }

    fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        check_repository(repo)?;
        Ok(self
            .repos()
            .get(repo)
            .is_some_and(|r| r.blobs.contains_key(digest)))
    }

    fn put_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: Option<&str>,
        transfer: &Transfer,
    ) -> Result<(String, u64)> {
        check_repository(repo)?;
        if let Some(d) = digest
            && let Some(b) = self.blob(repo, d)
        {
            return Ok((d.to_owned(), b.len() as u64));
        }
        let bytes = read_source(source, transfer)?;
        let actual = oci::sha256_digest(&bytes);
        if let Some(expected) = digest
            && expected != actual
        {
            return Err(Error::DigestMismatch {
                what: format!("{repo} (blob)"),
                expected: expected.to_owned(),
                actual,
            });
        }
        let size = bytes.len() as u64;
        self.repos()
            .entry(repo.to_owned())
            .or_default()
            .blobs
            .entry(actual.clone())
            .or_insert_with(|| Arc::new(bytes));
        Ok((actual, size))
    }

    fn get_blob(
        &self,
        repo: &str,
        desc: &Descriptor,
        out: &mut File,
        transfer: &Transfer,
    ) -> Result<()> {
        let bytes = self.stored(repo, &desc.digest)?;
        if transfer.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let actual = oci::sha256_digest(&bytes);
        if actual != desc.digest || bytes.len() as u64 != desc.size {
            return Err(Error::DigestMismatch {
                what: format!("memory:{repo}"),
                expected: desc.digest.clone(),
                actual,
            });
        }
        out.write_all(&bytes)
            .map_err(|e| Error::io(crate::registry::staging::DESTINATION, e))?;
        transfer.report(desc.size, Some(desc.size));
        Ok(())
    }

    fn open_blob(&self, repo: &str, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        let bytes = self.stored(repo, &desc.digest)?;
        Ok(Box::new(std::io::Cursor::new(bytes.as_ref().clone())))
    }

    fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<(String, Vec<u8>)>> {
        check_repository(repo)?;
        let repos = self.repos();
        let Some(r) = repos.get(repo) else {
            return Ok(None);
        };
        let digest = if oci::is_sha256_digest(reference) {
            reference.to_owned()
        } else {
            match r.tags.get(reference) {
                Some(d) => d.clone(),
                None => return Ok(None),
            }
        };
        Ok(r.manifests
            .get(&digest)
            .map(|b| (digest.clone(), b.as_ref().clone())))
    }

    fn put_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String> {
        check_repository(repo)?;
        if bytes.len() as u64 > oci::MAX_MANIFEST_BYTES {
            return Err(Error::TooLarge {
                what: format!("manifest for {repo}:{}", crate::sanitize(tag)),
                size: bytes.len() as u64,
                limit: oci::MAX_MANIFEST_BYTES,
            });
        }
        let m: oci::Manifest =
            serde_json::from_slice(bytes).map_err(|e| Error::CorruptRegistry {
                location: format!("memory:{repo}"),
                reason: format!("not an image manifest: {e}"),
            })?;
        let digest = oci::sha256_digest(bytes);
        let mut repos = self.repos();
        let r = repos.entry(repo.to_owned()).or_default();
        for d in std::iter::once(&m.config).chain(&m.layers) {
            if !r.blobs.contains_key(&d.digest) {
                return Err(Error::CorruptRegistry {
                    location: format!("memory:{repo}"),
                    reason: format!("manifest references blob {}, which is not stored", d.digest),
                });
            }
        }
        r.manifests.insert(digest.clone(), Arc::new(bytes.to_vec()));
        r.tags.insert(tag.to_owned(), digest.clone());
        Ok(digest)
    }

    fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool> {
        check_repository(repo)?;
        if self.no_delete {
            return Err(Error::Unsupported(format!(
                "memory:{repo}: this store does not delete manifests"
            )));
        }
        let mut repos = self.repos();
        let Some(r) = repos.get_mut(repo) else {
            return Ok(false);
        };
        if r.manifests.remove(digest).is_none() {
            return Ok(false);
        }
        r.tags.retain(|_, d| d != digest);
        Ok(true)
    }

    fn supports_delete(&self, _repo: &str) -> Result<bool> {
        Ok(!self.no_delete)
    }

    fn remove_tag(&self, repo: &str, tag: &str) -> Result<Option<bool>> {
        check_repository(repo)?;
        if self.no_delete {
            // Like a registry with deletes off: no way to drop a tag.
            return Ok(None);
        }
        Ok(Some(
            self.repos()
                .get_mut(repo)
                .is_some_and(|r| r.tags.remove(tag).is_some()),
        ))
    }

    fn tags(&self, repo: &str) -> Result<Option<Vec<String>>> {
        check_repository(repo)?;
        Ok(self
            .repos()
            .get(repo)
            .filter(|r| !r.tags.is_empty() || !r.manifests.is_empty())
            .map(|r| r.tags.keys().cloned().collect()))
    }

    fn repositories(&self, prefix: &str) -> Result<Option<Vec<String>>> {
        Ok(Some(
            self.repos()
                .iter()
                .filter(|(name, r)| name.starts_with(prefix) && !r.tags.is_empty())
                .map(|(name, _)| name.clone())
                .collect(),
        ))
    }

    fn collect_garbage(&self, repo: &str) -> Result<()> {
        let mut repos = self.repos();
        let Some(r) = repos.get_mut(repo) else {
            return Ok(());
        };
        if r.manifests.is_empty() {
            repos.remove(repo);
            return Ok(());
        }
        let mut keep = std::collections::HashSet::new();
        for bytes in r.manifests.values() {
            let Ok(m) = serde_json::from_slice::<oci::Manifest>(bytes) else {
                return Ok(());
            };
            keep.insert(m.config.digest.clone());
            keep.extend(m.layers.iter().map(|l| l.digest.clone()));
        }
        r.blobs.retain(|d, _| keep.contains(d));
        Ok(())
    }
}
