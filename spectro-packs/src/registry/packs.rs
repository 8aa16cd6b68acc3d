//! The pack protocol, written once over any [`Store`]: Palette's repository layout
//! (`<base>/spectro-packs/archive/<name>:<version>`), the manifest `oras push` 1.0.0
//! writes, idempotent push, `force`, `latest` and wildcard resolution, tag and untag,
//! listing, inspection, and verified pulls with staged extraction.

use std::io::BufReader;
use std::path::Path;

use serde_json::{Map, Value};

use super::oci::{self, Manifest};
use super::reference::{ARCHIVE_PATH, PackRef, Selector};
use super::staging::{self, prepare_archive};
use super::store::{BlobSource, Store, Transfer};
use super::{
    Inspection, PackListing, PullOptions, PullOutcome, PushOptions, PushOutcome, Registry,
    Resolved, TagOptions, VersionInfo,
};
use crate::archive::archive_file_name;
use crate::error::{Error, Result};
use crate::profile::TagPattern;
use crate::version::PackVersion;

/// A pack registry over a [`Store`]: the one implementation of [`Registry`].
///
/// [`super::LayoutRegistry`] (the embedded registry) and `OciRegistry` (feature
/// `remote`) are this type over [`super::LayoutStore`] and `HttpStore`;
/// `PackRegistry::new(MemoryStore::new(), "")` gives one in memory.
#[derive(Debug, Clone)]
pub struct PackRegistry<S> {
    store: S,
    /// Repository prefix before `spectro-packs/archive` (may be empty).
    base: String,
}

impl<S: Store> PackRegistry<S> {
    /// Packs in `store` under `<base>/spectro-packs/archive/` (`base` may be empty).
    pub fn new(store: S, base: impl Into<String>) -> Self {
        PackRegistry {
            store,
            base: base.into().trim_matches('/').to_owned(),
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The repository of a pack: `<base>/spectro-packs/archive/<name>`.
    pub fn repository(&self, name: &str) -> String {
        if self.base.is_empty() {
            format!("{ARCHIVE_PATH}/{name}")
        } else {
            format!("{}/{ARCHIVE_PATH}/{name}", self.base)
        }
    }

    fn not_found(&self, r: &PackRef) -> Error {
        Error::PackNotFound {
            reference: r.to_string(),
            registry: self.store.location(),
        }
    }

    fn corrupt(&self, repo: &str, reference: &str, reason: String) -> Error {
        Error::CorruptRegistry {
            location: format!(
                "{}/{repo}:{}",
                self.store.location(),
                crate::sanitize(reference)
            ),
            reason,
        }
    }

    fn parse_manifest(&self, repo: &str, reference: &str, bytes: &[u8]) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| self.corrupt(repo, reference, format!("invalid manifest: {e}")))?;
        if let Some(t) = m.media_type.as_deref()
            && t != oci::MANIFEST_MEDIA_TYPE
        {
            return Err(self.corrupt(
                repo,
                reference,
                format!(
                    "manifest media type `{}` is not an OCI image manifest",
                    crate::sanitize(t)
                ),
            ));
        }
        Ok(m)
    }

    /// The archive digest a stored manifest points at, if it is a pack manifest.
    fn archive_of(&self, repo: &str, reference: &str, bytes: &[u8]) -> Option<String> {
        let m = self.parse_manifest(repo, reference, bytes).ok()?;
        m.pack_layer().ok().map(|l| l.digest.clone())
    }

    /// The tag a reference resolves to: exact tags as given, `latest` and wildcards as
    /// the highest matching version; `None` for a digest.
    fn pick_tag(&self, repo: &str, r: &PackRef) -> Result<Option<String>> {
        let pattern = match &r.selector {
            Selector::Tag(t) => return Ok(Some(t.clone())),
            Selector::Digest(_) => return Ok(None),
            Selector::Latest => None,
            Selector::Wildcard(w) => {
                Some(TagPattern::parse(w).ok_or_else(|| Error::InvalidReference {
                    input: r.to_string(),
                    reason: "not a wildcard tag".into(),
                })?)
            }
        };
        let tags = self.store.tags(repo)?.ok_or_else(|| self.not_found(r))?;
        tags.iter()
            .filter_map(|t| PackVersion::parse(t).ok().map(|v| (v, t)))
            .filter(|(v, _)| pattern.as_ref().is_none_or(|p| p.matches_version(v)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, t)| Some(t.clone()))
            .ok_or_else(|| self.not_found(r))
    }

    /// The highest version tag pointing at `digest`.
    fn tag_of(&self, repo: &str, digest: &str) -> Result<Option<String>> {
        let tags = self.store.tags(repo)?.unwrap_or_default();
        let mut pairs = self.store.tag_digests(repo, &tags)?;
        pairs.retain(|(_, d)| d == digest);
        pairs.sort_by(|a, b| super::version_order(&b.0, &a.0));
        Ok(pairs.into_iter().next().map(|(t, _)| t))
    }

    /// Resolve with the manifest's raw bytes.
    fn resolve_raw(&self, r: &PackRef) -> Result<(Resolved, Vec<u8>)> {
        let repo = self.repository(&r.name);
        let tag = self.pick_tag(&repo, r)?;
        let fetch = match (&tag, &r.selector) {
            (Some(t), _) => t.clone(),
            (None, Selector::Digest(d)) => d.clone(),
            (None, _) => return Err(self.not_found(r)),
        };
        let (digest, bytes) = self
            .store
            .get_manifest(&repo, &fetch)?
            .ok_or_else(|| self.not_found(r))?;
        let manifest = self.parse_manifest(&repo, &fetch, &bytes)?;
        let version = match tag {
            Some(t) => Some(t),
            None => self.tag_of(&repo, &digest)?,
        };
        Ok((
            Resolved {
                name: r.name.clone(),
                version,
                manifest_digest: digest,
                manifest,
            },
            bytes,
        ))
    }

    /// Resolve to a pack manifest and its archive layer (checked shape); with the
    /// repository.
    fn resolve_layer(&self, r: &PackRef) -> Result<(Resolved, String, oci::Descriptor)> {
        let (resolved, _) = self.resolve_raw(r)?;
        let repo = self.repository(&r.name);
        let layer = resolved
            .manifest
            .pack_layer()
            .map_err(|reason| self.corrupt(&repo, &resolved.manifest_digest, reason))?
            .clone();
        Ok((resolved, repo, layer))
    }

    /// Push a prepared archive: the protocol after the archive exists.
    fn push_prepared(
        &self,
        prepared: &staging::Prepared,
        opts: &PushOptions,
    ) -> Result<PushOutcome> {
        let (name, version) = (&prepared.name, &prepared.version);
        let reference = PackRef::exact(name, version)?;
        let repo = self.repository(name);
        let transfer = Transfer::new(opts.progress.clone(), opts.cancel.clone());
        let _lock = self.store.lock(true)?;
        if transfer.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let mut known = prepared.digest.clone();
        if let Some((existing, bytes)) = self.store.get_manifest(&repo, version)? {
            let (digest, size) = match &known {
                Some(d) => d.clone(),
                None => prepared.digest()?,
            };
            known = Some((digest.clone(), size));
            let current = self.archive_of(&repo, version, &bytes).unwrap_or_default();
            if current == digest {
                return Ok(PushOutcome {
                    reference,
                    manifest_digest: existing,
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
        let result = self.upload(&repo, &reference, prepared, known, &transfer, opts);
        // Whatever a failed or cancelled push stored (blobs, a new repository) goes; a
        // forced push's old archive goes too.
        let gc = self.store.collect_garbage(&repo);
        let outcome = result?;
        gc?;
        Ok(outcome)
    }

    fn upload(
        &self,
        repo: &str,
        reference: &PackRef,
        prepared: &staging::Prepared,
        known: Option<(String, u64)>,
        transfer: &Transfer,
        opts: &PushOptions,
    ) -> Result<PushOutcome> {
        let (name, version) = (&prepared.name, &prepared.version);
        self.store.put_blob(
            repo,
            BlobSource::Bytes(oci::CONFIG_BLOB),
            Some(&oci::sha256_digest(oci::CONFIG_BLOB)),
            &Transfer::new(None, opts.cancel.clone()),
        )?;
        // The manifest describes what was stored: digest and size as the store saw them.
        let (digest, size) = self.store.put_blob(
            repo,
            BlobSource::File(&prepared.path),
            known.as_ref().map(|(d, _)| d.as_str()),
            transfer,
        )?;
        if let Some((_, n)) = known
            && n != size
        {
            return Err(Error::io(
                &prepared.path,
                std::io::Error::other("the archive changed while being pushed"),
            ));
        }
        if transfer.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let created = opts.created.clone().unwrap_or_else(|| oci::rfc3339(0));
        let manifest =
            Manifest::for_pack(&digest, size, &archive_file_name(name, version), &created);
        let bytes =
            serde_json::to_vec(&manifest).map_err(|e| Error::io(&prepared.path, e.into()))?;
        // The manifest goes last, so an interrupted push leaves no tag behind.
        let manifest_digest = self.store.put_manifest(repo, version, &bytes)?;
        // Another client may have pushed the same tag at the same moment: say so.
        if let Some(now) = self.store.head_manifest(repo, version)?
            && now != manifest_digest
        {
            return Err(Error::Conflict {
                reference: reference.to_string(),
                reason: format!(
                    "replaced by a concurrent push ({now}) right after ours ({manifest_digest})"
                ),
            });
        }
        Ok(PushOutcome {
            reference: reference.clone(),
            manifest_digest,
            archive_digest: digest,
            size,
            changed: true,
        })
    }

    /// Remove `tag` from a manifest that other tags keep: in one step where the store
    /// can; else point it at a throw-away manifest and delete that (the distribution API
    /// deletes manifests, not tags). Whether deletes work is learnt first; the tag is put
    /// back when a later step fails.
    fn untag_shared(&self, repo: &str, tag: &str, r: &PackRef, resolved: &Resolved) -> Result<()> {
        match self.store.remove_tag(repo, tag)? {
            Some(true) => return Ok(()),
            Some(false) => return Err(self.not_found(r)),
            None => {}
        }
        if !self.store.supports_delete(repo)? {
            return Err(Error::Unsupported(format!(
                "{}: the registry does not allow deleting manifests",
                self.store.location()
            )));
        }
        let (_, original) = self
            .store
            .get_manifest(repo, &resolved.manifest_digest)?
            .ok_or_else(|| self.not_found(r))?;
        let mut ann = Map::new();
        ann.insert(
            "io.spectro.untag".into(),
            Value::String(format!("{tag}-{}", untag_nonce())),
        );
        let mut placeholder = Manifest::for_pack(&oci::sha256_digest(b""), 0, "", "");
        placeholder.layers.clear();
        placeholder.annotations = ann;
        let bytes =
            serde_json::to_vec(&placeholder).map_err(|e| Error::io(Path::new(repo), e.into()))?;
        self.store.put_blob(
            repo,
            BlobSource::Bytes(oci::CONFIG_BLOB),
            Some(&oci::sha256_digest(oci::CONFIG_BLOB)),
            &Transfer::default(),
        )?;
        // From here the tag moves: the steps run to their end even if Ctrl-C or SIGTERM
        // arrives (the signal takes effect after them).
        let _critical = self.store.hold_cancellation();
        let restore = || {
            if self
                .store
                .head_manifest(repo, tag)
                .ok()
                .flatten()
                .as_deref()
                != Some(resolved.manifest_digest.as_str())
            {
                self.store.put_manifest(repo, tag, &original).map(|_| ())
            } else {
                Ok(())
            }
        };
        let d = match self.store.put_manifest(repo, tag, &bytes) {
            Ok(d) => d,
            Err(e) => {
                // The PUT may have landed even though its answer was lost.
                let _ = restore();
                return Err(e);
            }
        };
        // The placeholder must be gone, and the tag with it: a delete that found nothing
        // (a replica that has not seen the PUT yet) is a failure, not a success.
        let deleted = match self.store.delete_manifest(repo, &d) {
            Ok(true) if self.store.head_manifest(repo, tag)?.is_none() => Ok(()),
            Ok(_) => Err(Error::Conflict {
                reference: r.to_string(),
                reason: format!(
                    "the registry did not delete the placeholder manifest {d} that the tag was moved to"
                ),
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = deleted {
            return match restore() {
                Ok(()) => Err(e),
                Err(again) => Err(Error::Conflict {
                    reference: r.to_string(),
                    reason: format!(
                        "deleting failed ({e}) and putting the tag back on {} failed too ({again}); push the pack again, forced, to restore the tag",
                        resolved.manifest_digest
                    ),
                }),
            };
        }
        Ok(())
    }
}

/// A random suffix for untag placeholders, so two of them never share a digest.
fn untag_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

impl<S: Store> Registry for PackRegistry<S> {
    fn location(&self) -> String {
        self.store.location()
    }

    fn push(&self, source: &Path, opts: &PushOptions) -> Result<PushOutcome> {
        let prepared = prepare_archive(source, opts)?;
        self.push_prepared(&prepared, opts)
    }

    fn resolve(&self, reference: &PackRef) -> Result<Resolved> {
        let _lock = self.store.lock(false)?;
        self.resolve_raw(reference).map(|(r, _)| r)
    }

    fn pull(&self, reference: &PackRef, dest: &Path, opts: &PullOptions) -> Result<PullOutcome> {
        // Resolve and copy under one read lock, so a concurrent `push --force` cannot
        // swap the blob out between the two; the destination is only created once the
        // pack is known to exist.
        let lock = self.store.lock(false)?;
        let (resolved, repo, layer) = self.resolve_layer(reference)?;
        staging::check_layer_size(
            &format!("{}/{repo}@{}", self.store.location(), layer.digest),
            &layer,
            opts,
        )?;
        let mut tmp = staging::pull_temp(dest)?;
        let transfer = Transfer::new(opts.progress.clone(), opts.cancel.clone());
        self.store
            .get_blob(&repo, &layer, tmp.as_file_mut(), &transfer)
            .map_err(|e| staging::blame_destination(e, dest))?;
        drop(lock);
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        staging::finish_pull(tmp, dest, &reference.name, &resolved, layer.digest, opts)
    }

    fn list(&self, filter: Option<&str>) -> Result<Vec<PackListing>> {
        let _lock = self.store.lock(false)?;
        let prefix = self.repository("");
        let names: Vec<String> = match self.store.repositories(&prefix)? {
            Some(repos) => {
                let mut n: Vec<String> = repos
                    .iter()
                    .filter_map(|r| r.strip_prefix(&prefix))
                    .filter(|n| !n.is_empty() && !n.contains('/'))
                    .filter(|n| filter.is_none_or(|f| n.contains(f)))
                    .map(str::to_owned)
                    .collect();
                n.sort();
                n.dedup();
                n
            }
            // No catalog: an exact pack name can still be listed.
            None => match filter {
                Some(f) if PackRef::exact(f, "1.0.0").is_ok() => vec![f.to_owned()],
                _ => {
                    return Err(Error::Unsupported(format!(
                        "{}: the registry refuses to list its catalog; list one pack by its name",
                        self.store.location()
                    )));
                }
            },
        };
        let mut out = Vec::new();
        for name in names {
            let repo = self.repository(&name);
            let Some(tags) = self.store.tags(&repo)? else {
                continue;
            };
            let mut versions: Vec<VersionInfo> = self
                .store
                .tag_digests(&repo, &tags)?
                .into_iter()
                .map(|(version, digest)| VersionInfo { version, digest })
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
        let repo = self.repository(&reference.name);
        let _lock = self.store.lock(true)?;
        let result = match &reference.selector {
            Selector::Digest(d) => match self.store.delete_manifest(&repo, d)? {
                true => Ok(()),
                false => Err(self.not_found(reference)),
            },
            Selector::Tag(tag) => {
                let (resolved, _) = self.resolve_raw(reference)?;
                let tags = self.store.tags(&repo)?.unwrap_or_default();
                let others: Vec<String> = tags.into_iter().filter(|t| t != tag).collect();
                let shared = self
                    .store
                    .tag_digests(&repo, &others)?
                    .iter()
                    .any(|(_, d)| *d == resolved.manifest_digest);
                if shared {
                    self.untag_shared(&repo, tag, reference, &resolved)
                } else {
                    // One request; if the store refuses it nothing has changed.
                    match self
                        .store
                        .delete_manifest(&repo, &resolved.manifest_digest)?
                    {
                        true => Ok(()),
                        false => Err(self.not_found(reference)),
                    }
                }
            }
            Selector::Latest | Selector::Wildcard(_) => Err(self.not_found(reference)),
        };
        result?;
        self.store.collect_garbage(&repo)
    }

    fn tag(&self, reference: &PackRef, new_tag: &str, opts: &TagOptions) -> Result<()> {
        // Check everything before touching anything.
        super::require_exact(reference, "tagging")?;
        super::check_new_tag(&reference.name, new_tag)?;
        let repo = self.repository(&reference.name);
        let _lock = self.store.lock(true)?;
        let (resolved, bytes) = self.resolve_raw(reference)?;
        if !opts.force
            && let Some(existing) = self.store.head_manifest(&repo, new_tag)?
            && existing != resolved.manifest_digest
        {
            return Err(Error::AlreadyExists {
                reference: format!("{}:{new_tag}", reference.name),
                existing,
            });
        }
        self.store.put_manifest(&repo, new_tag, &bytes)?;
        self.store.collect_garbage(&repo)
    }

    fn inspect(&self, reference: &PackRef) -> Result<Inspection> {
        let _lock = self.store.lock(false)?;
        let (resolved, repo, layer) = self.resolve_layer(reference)?;
        let label = format!("{}/{repo}@{}", self.store.location(), layer.digest);
        staging::check_layer_size(&label, &layer, &PullOptions::default())?;
        let stream = self.store.open_blob(&repo, &layer)?;
        let pack_json = crate::archive::read_pack_json(BufReader::new(stream), Path::new(&label))?;
        if pack_json["name"].as_str() != Some(reference.name.as_str()) {
            return Err(self.corrupt(
                &repo,
                &resolved.manifest_digest,
                format!(
                    "the archive holds pack `{}`, not `{}`",
                    crate::sanitize(pack_json["name"].as_str().unwrap_or_default()),
                    reference.name
                ),
            ));
        }
        Ok(Inspection {
            pack: crate::PackManifest::from_json(&pack_json),
            pack_json,
            resolved,
        })
    }
}
