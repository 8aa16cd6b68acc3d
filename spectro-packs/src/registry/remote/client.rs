//! [`HttpStore`]: the [`Store`] of a registry reached over the distribution API.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use url::Url;

use super::http::{self, Call, Transport};
use super::upload::BlobDigest;
use super::wire::{ReqwestWire, Wire};
use super::{RemoteOptions, scope_pull};
use crate::error::{Error, Result};
use crate::registry::oci::{self, Descriptor};
use crate::registry::reference::{RegistryLocation, check_repository};
use crate::registry::store::{BlobSource, Store, StoreLock, Transfer};

/// A registry that speaks the OCI distribution API, as a [`Store`]: blobs (HEAD first,
/// cross-repository mounts, monolithic, chunked with resume, or streamed uploads),
/// manifests, tags and the catalog, with authentication, retries and cancellation.
pub struct HttpStore {
    pub(super) location: RegistryLocation,
    pub(super) host: String,
    pub(super) t: Transport,
    /// Blobs this client saw in some repository (digest → repository), for cross-repo
    /// mounts.
    pub(super) seen: Mutex<HashMap<String, String>>,
    pub(super) monolithic_max: u64,
    pub(super) chunk_size: u64,
    /// Pages and names accepted in one listing.
    pub(super) max_list_pages: usize,
    pub(super) max_list_entries: usize,
    /// Set when the registry refused a chunked upload.
    pub(super) no_patch: std::sync::atomic::AtomicBool,
    /// Whether the registry deletes manifests, per repository, once asked.
    pub(super) deletes: Mutex<HashMap<String, bool>>,
}

impl std::fmt::Debug for HttpStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStore")
            .field("location", &self.location)
            .field("authenticated", &self.t.has_credential())
            .finish()
    }
}

impl HttpStore {
    /// A client for `location` (must be [`RegistryLocation::Oci`]). No request is made
    /// until the first operation; see [`HttpStore::ping`].
    pub fn connect(location: &RegistryLocation, opts: RemoteOptions) -> Result<Self> {
        let RegistryLocation::Oci { host, .. } = location else {
            return Err(Error::Unsupported(format!(
                "{location} is not a remote registry"
            )));
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(concat!("spectro/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(30))
            .timeout(None)
            .tcp_keepalive(std::time::Duration::from_secs(30))
            .tls_danger_accept_invalid_certs(opts.insecure);
        let mut ca_files = opts.ca_files.clone();
        if let Some(dir) = &opts.certs_dir {
            let host_dir = dir.join(host);
            if let Ok(rd) = std::fs::read_dir(&host_dir) {
                let mut found: Vec<PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "crt"))
                    .collect();
                found.sort();
                ca_files.extend(found);
            }
        }
        for f in &ca_files {
            let pem = std::fs::read(f).map_err(|e| Error::io(f, e))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Io {
                path: f.clone(),
                source: std::io::Error::other(format!("not a PEM certificate bundle: {e}")),
            })?;
            if certs.is_empty() {
                return Err(Error::Io {
                    path: f.clone(),
                    source: std::io::Error::other("no PEM certificate in the file"),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder.build().map_err(|e| Error::Remote {
            registry: location.to_string(),
            reason: format!(
                "cannot set up the HTTP client: {}",
                super::wire::error_chain(&e)
            ),
        })?;
        Self::with_wire(location, opts, Arc::new(ReqwestWire(client)))
    }

    /// A store that sends its requests through `wire` (tests put a scripted registry
    /// there).
    pub(crate) fn with_wire(
        location: &RegistryLocation,
        opts: RemoteOptions,
        wire: Arc<dyn Wire>,
    ) -> Result<Self> {
        let RegistryLocation::Oci { host, .. } = location else {
            return Err(Error::Unsupported(format!(
                "{location} is not a remote registry"
            )));
        };
        let scheme = if opts.plain_http { "http" } else { "https" };
        let origin =
            Url::parse(&format!("{scheme}://{host}/")).map_err(|e| Error::InvalidReference {
                input: host.clone(),
                reason: e.to_string(),
            })?;
        // Looked up on the first challenge, not here: a registry that needs no login
        // never runs a Docker credential helper.
        let lookup = opts
            .credential
            .is_none()
            .then(|| (opts.credentials.clone(), host.clone()));
        Ok(HttpStore {
            location: location.clone(),
            host: host.clone(),
            t: Transport::new(
                wire,
                origin,
                location.to_string(),
                (opts.credential, lookup),
                opts.retry,
                http::Timeouts {
                    base: opts.timeout,
                    min_rate: opts.min_transfer_rate,
                },
                opts.cancel.clone(),
            ),
            seen: Mutex::new(HashMap::new()),
            monolithic_max: opts.monolithic_max.max(1),
            max_list_pages: opts.max_list_pages.max(1),
            max_list_entries: opts.max_list_entries.max(1),
            chunk_size: opts.chunk_size.max(1),
            no_patch: std::sync::atomic::AtomicBool::new(false),
            deletes: Mutex::new(HashMap::new()),
        })
    }

    /// `host[:port]`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Check the registry speaks the distribution API and accepts the credentials
    /// (`GET /v2/`, authenticating as challenged). `spectro registry login` calls this
    /// before saving anything.
    pub fn ping(&self) -> Result<()> {
        let resp = self
            .t
            .send(&Call::new(Method::GET, self.t.url("/v2/")?, Vec::new()))?;
        if resp.status().is_success() {
            return Ok(());
        }
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(self
                .t
                .err("GET /v2/: HTTP 404 — this server does not speak the OCI distribution API"));
        }
        Err(self.t.status_error("GET /v2/", resp))
    }

    pub(super) fn remember(&self, digest: &str, repo: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.to_owned(), repo.to_owned());
    }

    /// Check a repository name before it goes into a URL.
    pub(super) fn check(&self, repo: &str) -> Result<()> {
        check_repository(repo)
    }
}

impl Store for HttpStore {
    fn location(&self) -> String {
        self.location.to_string()
    }

    fn has_blob(&self, repo: &str, digest: &str) -> Result<bool> {
        self.check(repo)?;
        let url = self.t.url(&format!("/v2/{repo}/blobs/{digest}"))?;
        let resp = self
            .t
            .send(&Call::new(Method::HEAD, url, scope_pull(repo)))?;
        match resp.status().as_u16() {
            200..=299 => {
                self.remember(digest, repo);
                Ok(true)
            }
            404 => Ok(false),
            _ => Err(self.t.status_error(&format!("HEAD blob {digest}"), resp)),
        }
    }

    fn put_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: Option<&str>,
        transfer: &Transfer,
    ) -> Result<(String, u64)> {
        self.check(repo)?;
        let size = source.size()?;
        std::thread::scope(|scope| {
            // A large file is hashed while its upload runs (the hash is a sixth of the
            // push time on loopback); small content is hashed first.
            let mut pending = match (digest, source) {
                (Some(d), _) => BlobDigest::Known(d.to_owned()),
                (None, BlobSource::Bytes(b)) => BlobDigest::Known(oci::sha256_digest(b)),
                (None, BlobSource::File(p)) if size > self.monolithic_max => BlobDigest::Hashing {
                    handle: Some(scope.spawn(move || crate::registry::staging::file_digest(p))),
                    size,
                    path: p.to_path_buf(),
                },
                (None, BlobSource::File(p)) => {
                    BlobDigest::Known(crate::registry::staging::file_digest(p)?.0)
                }
            };
            self.push_blob(repo, source, &mut pending, size, transfer)?;
            Ok((pending.wait()?, size))
        })
    }

    fn get_blob(
        &self,
        repo: &str,
        desc: &Descriptor,
        out: &mut File,
        transfer: &Transfer,
    ) -> Result<()> {
        self.check(repo)?;
        self.download(repo, desc, out, transfer)
    }

    fn open_blob(&self, repo: &str, desc: &Descriptor) -> Result<Box<dyn Read + Send + '_>> {
        self.check(repo)?;
        let url = self.t.url(&format!("/v2/{repo}/blobs/{}", desc.digest))?;
        let resp = self.t.send(
            &Call::new(Method::GET, url, scope_pull(repo)).expect_bytes(desc.size.min(64 << 20)),
        )?;
        match resp.status().as_u16() {
            200 => Ok(Box::new(resp.take(desc.size))),
            404 => Err(Error::CorruptRegistry {
                location: format!("{}/{repo}@{}", self.host, desc.digest),
                reason: "the manifest's blob is missing".into(),
            }),
            _ => Err(self
                .t
                .status_error(&format!("GET blob {}", desc.digest), resp)),
        }
    }

    fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<(String, Vec<u8>)>> {
        self.check(repo)?;
        self.fetch_manifest(repo, reference)
    }

    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        self.check(repo)?;
        self.manifest_digest(repo, reference)
    }

    fn put_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String> {
        self.check(repo)?;
        self.send_manifest(repo, tag, bytes)
    }

    fn delete_manifest(&self, repo: &str, digest: &str) -> Result<bool> {
        self.check(repo)?;
        self.remove_manifest(repo, digest)
    }

    fn supports_delete(&self, repo: &str) -> Result<bool> {
        self.check(repo)?;
        let known = self
            .deletes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(repo)
            .copied();
        if let Some(d) = known {
            return Ok(d);
        }
        let d = self.probe_delete(repo)?;
        self.deletes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(repo.to_owned(), d);
        Ok(d)
    }

    fn tags(&self, repo: &str) -> Result<Option<Vec<String>>> {
        self.check(repo)?;
        self.list_tags(repo)
    }

    fn tag_digests(&self, repo: &str, tags: &[String]) -> Result<Vec<(String, String)>> {
        self.check(repo)?;
        self.digests_of(repo, tags)
    }

    fn repositories(&self, prefix: &str) -> Result<Option<Vec<String>>> {
        // A name the distribution grammar refuses is skipped, not fatal.
        Ok(self.catalog()?.map(|repos| {
            repos
                .into_iter()
                .filter(|r| r.starts_with(prefix) && check_repository(r).is_ok())
                .collect()
        }))
    }

    fn hold_cancellation(&self) -> StoreLock {
        StoreLock::held(self.t.critical())
    }
}
