//! The OCI distribution backend: any registry that speaks the distribution API (CNCF
//! distribution, Harbor, Zot, ECR, ...), with packs in Palette's shape at
//! `<base>/spectro-packs/archive/<name>:<version>`.
//!
//! Blobs stream from and to files with bounded memory and are hashed on the way; every
//! pull verifies size and digest; uploads are idempotent (HEAD first), retried with a new
//! session (monolithic) or resumed from the registry's `Range` (chunked); the manifest is
//! written last, so an interrupted push leaves no tag behind.

pub(crate) mod auth;
mod http;

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use reqwest::Method;
use reqwest::blocking::Response;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LINK, LOCATION};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

pub use auth::{Credential, CredentialSource, CredentialStore};
pub use http::RetryPolicy;
use http::{Call, Payload, Transport, is_cancelled, read_capped, redact, same_origin};

use super::oci::{self, Manifest};
use super::reference::{PackRef, RegistryLocation, Selector, wildcard_matches};
use super::{
    PackListing, PullOptions, PullOutcome, PushOptions, PushOutcome, Registry, Resolved,
    VersionInfo,
};
use crate::archive::archive_file_name;
use crate::error::{Error, Result};

/// Largest tag list or catalog page read.
const MAX_LIST_BYTES: u64 = 4 << 20;
/// Entries accepted in one tag list or catalog.
const MAX_LIST_ITEMS: usize = 100_000;
/// Pages followed for one tag list or catalog.
const MAX_PAGES: usize = 1000;
/// Manifest media types we ask for.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.5";
/// Where the legacy Spectro CLI looks for a registry's CA: `<dir>/<host>/ca.crt`.
pub const CERTS_DIR: &str = "/etc/spectro/certs.d";

/// How to reach a remote registry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// Talk plain HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Skip TLS certificate verification (still encrypted; not a downgrade to HTTP).
    pub insecure: bool,
    /// Extra CA certificates (PEM) to trust, besides the system roots.
    pub ca_files: Vec<PathBuf>,
    /// Directory with `<host>/*.crt` CA files (default [`CERTS_DIR`]).
    pub certs_dir: Option<PathBuf>,
    /// Credentials to use; `None` looks them up in `credentials`.
    pub credential: Option<Credential>,
    /// Where to look credentials up when `credential` is `None`.
    pub credentials: CredentialStore,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Blobs up to this size go in one request from memory; larger ones in resumable
    /// chunks of `chunk_size` (or one streamed request when the registry refuses chunks).
    /// Default 16 MiB.
    pub monolithic_max: u64,
    /// Chunk size for chunked uploads (each chunk is read into memory and sent in one
    /// piece, so this bounds memory; default 16 MiB, above ECR's 5 MiB minimum).
    pub chunk_size: u64,
    /// Time allowed for a request besides its transfer (default 60 s).
    pub timeout: std::time::Duration,
    /// Slowest transfer rate tolerated, in bytes per second (default 256 KiB/s): a blob
    /// of n bytes gets `timeout + n / min_transfer_rate`; a stalled transfer then fails
    /// and is retried or resumed.
    pub min_transfer_rate: u64,
    /// Cancellation flag for every request of this client (lookups, listings, deletes),
    /// besides the per-operation flags in [`super::PushOptions`] and
    /// [`super::PullOptions`]: a request waiting on a stalled registry returns
    /// [`crate::Error::Cancelled`] within a fraction of a second of the flag being set.
    pub cancel: Option<super::CancelFlag>,
}

builder!(RemoteOptions {
    with_plain_http => plain_http: bool,
    with_insecure => insecure: bool,
    with_ca_files => ca_files: Vec<PathBuf>,
    with_certs_dir => certs_dir: PathBuf,
    with_credential => credential: Credential,
    with_credentials => credentials: CredentialStore,
    with_retry => retry: RetryPolicy,
    with_monolithic_max => monolithic_max: u64,
    with_chunk_size => chunk_size: u64,
    with_timeout => timeout: std::time::Duration,
    with_min_transfer_rate => min_transfer_rate: u64,
    with_cancel => cancel: super::CancelFlag,
});

impl RemoteOptions {
    /// Look for no per-host CA folder (the default is [`CERTS_DIR`]).
    #[must_use]
    pub fn without_certs_dir(mut self) -> Self {
        self.certs_dir = None;
        self
    }
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            plain_http: false,
            insecure: false,
            ca_files: Vec::new(),
            certs_dir: Some(PathBuf::from(CERTS_DIR)),
            credential: None,
            credentials: CredentialStore::default(),
            retry: RetryPolicy::default(),
            monolithic_max: 16 << 20,
            chunk_size: 16 << 20,
            timeout: std::time::Duration::from_secs(60),
            min_transfer_rate: 256 << 10,
            cancel: None,
        }
    }
}

impl RemoteOptions {
    /// The options every frontend starts from for a registry the user wrote as `input`
    /// (parsed to `location`), reading the process environment: plain HTTP when `input`
    /// starts with `http://`, credentials looked up through
    /// [`CredentialStore::from_env`] with `$SPECTRO_HOME/config.json`, and the flags
    /// `registry login` saved there for its host.
    pub fn from_env(input: &str, location: &RegistryLocation) -> Result<Self> {
        let config_path = super::config::config_path(&super::config::spectro_home_from_env());
        let mut opts = RemoteOptions {
            plain_http: input.trim().starts_with("http://"),
            credentials: CredentialStore::from_env(Some(config_path.clone())),
            ..RemoteOptions::default()
        };
        if let RegistryLocation::Oci { host, .. } = location {
            opts.apply_config(&super::config::Config::load(&config_path)?, host);
        }
        Ok(opts)
    }

    /// Apply the per-registry flags saved by `spectro registry login` (`plainHttp`,
    /// legacy `insecure`) for `host`.
    pub fn apply_config(&mut self, config: &super::config::Config, host: &str) {
        if let Some(e) = config
            .auths
            .iter()
            .find(|(k, _)| auth::normalize_server(k) == host)
            .map(|(_, e)| e)
        {
            self.plain_http |= e.plain_http;
            self.insecure |= e.insecure;
        }
    }
}

/// A pack registry behind the OCI distribution API: any registry that speaks it (CNCF
/// distribution, Harbor, Zot, ECR, ...), with packs in Palette's shape at
/// `<base>/spectro-packs/archive/<name>:<version>`.
///
/// Blobs stream from and to files with bounded memory and are hashed on the way; every
/// pull verifies size and digest; uploads are idempotent (HEAD first), retried with a new
/// session (monolithic) or resumed from the registry's `Range` (chunked); the manifest is
/// written last, so an interrupted push leaves no tag behind.
pub struct OciRegistry {
    location: RegistryLocation,
    host: String,
    t: Transport,
    /// Blobs this client saw in some repository (digest → repository), for cross-repo
    /// mounts.
    seen: Mutex<HashMap<String, String>>,
    monolithic_max: u64,
    chunk_size: u64,
    /// Set when the registry refused a chunked upload.
    no_patch: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for OciRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciRegistry")
            .field("location", &self.location)
            .field("authenticated", &self.t.has_credential())
            .finish()
    }
}

/// What happened to one blob on push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum BlobPush {
    /// The repository had it already.
    Exists,
    /// Mounted from another repository of the registry (no bytes sent).
    Mounted,
    /// Uploaded in one request.
    Monolithic,
    /// Uploaded in chunks.
    Chunked,
}

fn scope_pull(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull")]
}
fn scope_push(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull,push")]
}

impl OciRegistry {
    /// A client for `location` (must be [`RegistryLocation::Oci`]). No request is made
    /// until the first operation; see [`OciRegistry::ping`].
    pub fn connect(location: &RegistryLocation, opts: RemoteOptions) -> Result<Self> {
        let RegistryLocation::Oci { host, .. } = location else {
            return Err(Error::Unsupported(format!(
                "{location} is not a remote registry"
            )));
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let scheme = if opts.plain_http { "http" } else { "https" };
        let origin =
            Url::parse(&format!("{scheme}://{host}/")).map_err(|e| Error::InvalidReference {
                input: host.clone(),
                reason: e.to_string(),
            })?;
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
            reason: format!("cannot set up the HTTP client: {}", http::error_chain(&e)),
        })?;
        // Looked up on the first challenge, not here: a registry that needs no login
        // never runs a Docker credential helper.
        let lookup = opts
            .credential
            .is_none()
            .then(|| (opts.credentials.clone(), host.clone()));
        Ok(OciRegistry {
            location: location.clone(),
            host: host.clone(),
            t: Transport::new(
                client,
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
            chunk_size: opts.chunk_size.max(1),
            no_patch: std::sync::atomic::AtomicBool::new(false),
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

    fn repo(&self, name: &str) -> String {
        self.location.repository(name)
    }

    fn remember(&self, digest: &str, repo: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.to_owned(), repo.to_owned());
    }

    /// Whether `repo` has the blob.
    pub(crate) fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool> {
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

    /// Upload a blob from a file (or bytes) unless the repository has it: cross-repo
    /// mount when this client saw it elsewhere, one PUT up to `monolithic_max`, else
    /// resumable chunks. Retried as a whole (new session) on transient failures.
    pub(crate) fn push_blob(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: &str,
        size: u64,
        opts: &PushOptions,
    ) -> Result<BlobPush> {
        self.push_blob_with(
            repo,
            source,
            &mut BlobDigest::Known(digest.to_owned()),
            size,
            opts,
        )
    }

    /// [`OciRegistry::push_blob`] with a digest that may still be being computed: the
    /// upload starts at once, the registry is asked whether it has the blob as soon as
    /// the digest is known (the session is dropped if it has), and the digest goes with
    /// the final request.
    fn push_blob_with(
        &self,
        repo: &str,
        source: BlobSource<'_>,
        digest: &mut BlobDigest<'_>,
        size: u64,
        opts: &PushOptions,
    ) -> Result<BlobPush> {
        if let Some(d) = digest.known()
            && self.blob_exists(repo, d)?
        {
            return Ok(BlobPush::Exists);
        }
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match self.upload_once(repo, &source, digest, size, opts) {
                Ok(how) => {
                    self.remember(&digest.wait()?, repo);
                    return Ok(how);
                }
                Err(UploadError::Retry(e, headers)) => {
                    let (e, headers) = (*e, headers.map(|h| *h));
                    if !self.t.may_retry(attempt, started) {
                        return Err(e);
                    }
                    self.t
                        .wait(attempt, headers.as_ref(), opts.cancel.as_ref())?;
                    attempt += 1;
                    // A session that failed late may still have completed.
                    let d = digest.wait()?;
                    if self.blob_exists(repo, &d)? {
                        return Ok(BlobPush::Monolithic);
                    }
                }
                Err(UploadError::Fatal(e)) => return Err(*e),
            }
        }
    }

    /// Resolve an upload `Location` against the request URL (relative forms and query
    /// kept); no https → http.
    fn location_of(
        &self,
        base: &Url,
        headers: &HeaderMap,
    ) -> std::result::Result<Url, UploadError> {
        let loc = headers
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| UploadError::fatal(self.t.err("upload response has no Location")))?;
        let url = base.join(loc).map_err(|e| {
            UploadError::fatal(self.t.err(format!(
                "bad upload Location `{}`: {e}",
                crate::sanitize(loc.split('?').next().unwrap_or_default())
            )))
        })?;
        if base.scheme() == "https" && url.scheme() != "https" {
            return Err(UploadError::fatal(self.t.err(format!(
                "refusing upload Location that downgrades to {}",
                redact(&url)
            ))));
        }
        Ok(url)
    }

    fn classify(
        &self,
        what: &str,
        r: Result<Response>,
    ) -> std::result::Result<Response, UploadError> {
        match r {
            Ok(resp) => Ok(resp),
            Err(e @ Error::Remote { .. }) => Err(UploadError::retry(e, None)),
            Err(e) => {
                let _ = what;
                Err(UploadError::fatal(e))
            }
        }
    }

    fn unexpected(&self, what: &str, resp: Response) -> UploadError {
        let retry = http::retryable_status(resp.status());
        let headers = resp.headers().clone();
        let e = self.t.status_error(what, resp);
        if retry {
            UploadError::retry(e, Some(headers))
        } else {
            UploadError::fatal(e)
        }
    }

    fn upload_once(
        &self,
        repo: &str,
        source: &BlobSource<'_>,
        pending: &mut BlobDigest<'_>,
        size: u64,
        opts: &PushOptions,
    ) -> std::result::Result<BlobPush, UploadError> {
        let fatal = UploadError::fatal;
        let known = pending.known().map(str::to_owned);
        let from = known.as_ref().and_then(|d| {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(d)
                .filter(|r| r.as_str() != repo)
                .cloned()
        });
        let (start_url, scopes) = match (&from, &known) {
            (Some(f), Some(digest)) => (
                self.t
                    .url(&format!(
                        "/v2/{repo}/blobs/uploads/?mount={digest}&from={f}"
                    ))
                    .map_err(fatal)?,
                vec![
                    format!("repository:{repo}:pull,push"),
                    format!("repository:{f}:pull"),
                ],
            ),
            _ => (
                self.t
                    .url(&format!("/v2/{repo}/blobs/uploads/"))
                    .map_err(fatal)?,
                scope_push(repo),
            ),
        };
        let resp = self.classify(
            "start upload",
            self.t.send(
                &Call::new(Method::POST, start_url.clone(), scopes).cancel(opts.cancel.as_ref()),
            ),
        )?;
        match resp.status().as_u16() {
            201 if from.is_some() => return Ok(BlobPush::Mounted),
            201 | 202 => {}
            _ => return Err(self.unexpected(&format!("POST {}", redact(&start_url)), resp)),
        }
        let mut location = self.location_of(&start_url, resp.headers())?;
        let chunked = matches!(source, BlobSource::File(_))
            && size > self.monolithic_max
            && !self.no_patch.load(std::sync::atomic::Ordering::Relaxed);
        if !chunked {
            let payload = match source {
                BlobSource::Bytes(b) => Payload::Bytes(b),
                // Small enough to send as one buffer (far cheaper than streaming).
                BlobSource::File(p) if size <= self.monolithic_max => {
                    let bytes = std::fs::read(p).map_err(|e| fatal(Error::io(p, e)))?;
                    if bytes.len() as u64 != size {
                        return Err(fatal(Error::io(
                            p,
                            std::io::Error::other("the file changed while being pushed"),
                        )));
                    }
                    Payload::Owned(bytes.into())
                }
                // A registry that refuses chunks: stream the file in one request.
                BlobSource::File(p) => file_payload(p, 0, size, size, opts),
            };
            let digest = pending.wait().map_err(fatal)?;
            let mut url = location.clone();
            url.query_pairs_mut().append_pair("digest", &digest);
            let resp = self.classify(
                "upload",
                self.t.send(
                    &Call::new(Method::PUT, url.clone(), scope_push(repo))
                        .header("content-type", "application/octet-stream")
                        .payload(payload)
                        .no_retry()
                        .cancel(opts.cancel.as_ref()),
                ),
            )?;
            if let Some(p) = &opts.progress {
                p(super::Progress::Transfer {
                    done: size,
                    total: Some(size),
                });
            }
            return self
                .finish_upload(resp, &url, &digest)
                .map(|()| BlobPush::Monolithic);
        }
        let BlobSource::File(path) = source else {
            unreachable!("chunked only for files")
        };
        let mut offset = 0u64;
        let mut started = Instant::now();
        let mut resumes = 0;
        let mut resumed_at = 0u64;
        let mut file = File::open(path).map_err(|e| fatal(Error::io(path, e)))?;
        let mut checked = known.is_some();
        while offset < size {
            if is_cancelled(opts.cancel.as_ref()) {
                return Err(fatal(Error::Cancelled));
            }
            let len = self.chunk_size.min(size - offset);
            // One chunk in memory, sent as a single buffer (bounded by chunk_size).
            let mut chunk = vec![0u8; len as usize];
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(&mut chunk))
                .map_err(|e| fatal(Error::io(path, e)))?;
            let resp = self.t.send(
                &Call::new(Method::PATCH, location.clone(), scope_push(repo))
                    .header("content-type", "application/octet-stream")
                    .header("content-range", format!("{offset}-{}", offset + len - 1))
                    .payload(Payload::Owned(chunk.into()))
                    .no_retry()
                    .cancel(opts.cancel.as_ref()),
            );
            let failed = match resp {
                Ok(r) if r.status().as_u16() == 202 => {
                    location = self.location_of(&location, r.headers())?;
                    offset += len;
                    if let Some(p) = &opts.progress {
                        p(super::Progress::Transfer {
                            done: offset,
                            total: Some(size),
                        });
                    }
                    if !checked && let Some(d) = pending.poll().map_err(fatal)? {
                        checked = true;
                        if self.blob_exists(repo, &d).map_err(fatal)? {
                            // Pushed before (an interrupted run): drop this session.
                            let _ = self.t.send(&Call::new(
                                Method::DELETE,
                                location.clone(),
                                scope_push(repo),
                            ));
                            return Ok(BlobPush::Exists);
                        }
                    }
                    continue;
                }
                Ok(r) if r.status().as_u16() == 416 || http::retryable_status(r.status()) => {
                    Some(r.headers().clone())
                }
                Ok(r)
                    if offset == 0
                        && matches!(r.status().as_u16(), 400 | 404 | 405 | 415 | 501) =>
                {
                    // The registry does not take chunks: use one streamed PUT from now on.
                    self.no_patch
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(self.unexpected("PATCH chunk", r).into_retry());
                }
                Ok(r) => return Err(self.unexpected("PATCH chunk", r)),
                Err(Error::Cancelled) => return Err(fatal(Error::Cancelled)),
                Err(Error::Remote { .. }) => None,
                Err(e) => return Err(fatal(e)),
            };
            // Resume: ask the registry how much it has. The budget restarts after
            // progress, so long uploads survive several drops.
            if offset > resumed_at {
                resumes = 0;
                started = Instant::now();
                resumed_at = offset;
            }
            if !self.t.may_retry(resumes, started) {
                return Err(UploadError::retry(
                    self.t.err(format!(
                        "chunked upload to {repo} kept failing at byte {offset}"
                    )),
                    None,
                ));
            }
            self.t
                .wait(resumes, failed.as_ref(), opts.cancel.as_ref())
                .map_err(fatal)?;
            resumes += 1;
            let status = self.classify(
                "upload status",
                self.t
                    .send(&Call::new(Method::GET, location.clone(), scope_push(repo))),
            )?;
            if status.status().as_u16() != 204 {
                // The session is gone (distribution cancels it on a stale `_state`):
                // start a new one.
                return Err(self.unexpected("upload status", status).into_retry());
            }
            location = self.location_of(&location, status.headers())?;
            // `Range: 0-<last byte>`; distribution also says `0-0` for an empty session,
            // so that means "start over" (a 1-byte chunk is never sent).
            offset = status
                .headers()
                .get("range")
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.rsplit('-').next()?.trim().parse::<u64>().ok())
                .map_or(0, |end| if end == 0 { 0 } else { end.saturating_add(1) })
                .min(offset + len);
        }
        let digest = pending.wait().map_err(fatal)?;
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", &digest);
        let resp = self.classify(
            "finish upload",
            self.t.send(
                &Call::new(Method::PUT, url.clone(), scope_push(repo))
                    .no_retry()
                    .cancel(opts.cancel.as_ref()),
            ),
        )?;
        self.finish_upload(resp, &url, &digest)
            .map(|()| BlobPush::Chunked)
    }

    fn finish_upload(
        &self,
        resp: Response,
        url: &Url,
        digest: &str,
    ) -> std::result::Result<(), UploadError> {
        if resp.status().as_u16() != 201 {
            return Err(self.unexpected(&format!("PUT {}", redact(url)), resp));
        }
        if let Some(got) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            && got != digest
        {
            return Err(UploadError::fatal(Error::DigestMismatch {
                what: format!("{} (uploaded blob)", self.t.registry),
                expected: digest.to_owned(),
                actual: crate::sanitize(got),
            }));
        }
        Ok(())
    }

    /// `(digest, raw bytes)` of a manifest by tag or digest; verified against the digest
    /// asked for and the `Docker-Content-Digest` header. `None` when absent.
    pub(crate) fn fetch_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let Some(resp) = self.manifest_request(Method::GET, repo, reference)? else {
            return Ok(None);
        };
        let header_digest = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .map(str::to_owned);
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|d| d.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = read_capped(resp, oci::MAX_MANIFEST_BYTES)
            .map_err(|e| self.t.err(format!("manifest {repo}:{reference}: {e}")))?;
        let digest = oci::sha256_digest(&bytes);
        let expected = if oci::is_sha256_digest(reference) {
            Some(reference.to_owned())
        } else {
            header_digest.filter(|d| d.starts_with("sha256:"))
        };
        if let Some(exp) = expected
            && exp != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("{}/{repo}:{reference} (manifest)", self.host),
                expected: crate::sanitize(&exp),
                actual: digest,
            });
        }
        if !content_type.is_empty() && !content_type.starts_with(oci::MANIFEST_MEDIA_TYPE) {
            return Err(Error::CorruptRegistry {
                location: format!("{}/{repo}:{reference}", self.host),
                reason: format!(
                    "not a pack manifest (media type `{}`)",
                    crate::sanitize(&content_type)
                ),
            });
        }
        Ok(Some((digest, bytes)))
    }

    fn parse_manifest(&self, repo: &str, reference: &str, bytes: &[u8]) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| Error::CorruptRegistry {
            location: format!("{}/{repo}:{reference}", self.host),
            reason: format!("invalid manifest: {e}"),
        })?;
        if m.media_type
            .as_deref()
            .is_some_and(|t| t != oci::MANIFEST_MEDIA_TYPE)
        {
            return Err(Error::CorruptRegistry {
                location: format!("{}/{repo}:{reference}", self.host),
                reason: format!(
                    "manifest media type `{}` is not an OCI image manifest",
                    crate::sanitize(m.media_type.as_deref().unwrap_or_default())
                ),
            });
        }
        Ok(m)
    }

    /// GET or HEAD a manifest with the OCI Accept header: the 200 response, `None` on 404.
    fn manifest_request(
        &self,
        method: Method,
        repo: &str,
        reference: &str,
    ) -> Result<Option<Response>> {
        let what = format!("{method} manifest {repo}:{reference}");
        let url = self.t.url(&format!("/v2/{repo}/manifests/{reference}"))?;
        let resp = self
            .t
            .send(&Call::new(method, url, scope_pull(repo)).header("accept", MANIFEST_ACCEPT))?;
        match resp.status().as_u16() {
            200 => Ok(Some(resp)),
            404 => Ok(None),
            _ => Err(self.t.status_error(&what, resp)),
        }
    }

    /// Digest of the manifest a tag points at (HEAD), `None` when absent.
    pub(crate) fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<String>> {
        let Some(resp) = self.manifest_request(Method::HEAD, repo, reference)? else {
            return Ok(None);
        };
        match resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .filter(|d| oci::is_sha256_digest(d))
        {
            Some(d) => Ok(Some(d.to_owned())),
            // No header: fetch and hash.
            None => Ok(self.fetch_manifest(repo, reference)?.map(|(d, _)| d)),
        }
    }

    fn put_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> Result<String> {
        let url = self.t.url(&format!("/v2/{repo}/manifests/{tag}"))?;
        let resp = self.t.send(
            &Call::new(Method::PUT, url, scope_push(repo))
                .header("content-type", oci::MANIFEST_MEDIA_TYPE)
                .payload(Payload::Bytes(bytes)),
        )?;
        if resp.status().as_u16() != 201 {
            return Err(self
                .t
                .status_error(&format!("PUT manifest {repo}:{tag}"), resp));
        }
        let digest = oci::sha256_digest(bytes);
        if let Some(got) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            && got != digest
        {
            return Err(Error::DigestMismatch {
                what: format!("{}/{repo}:{tag} (manifest)", self.host),
                expected: digest,
                actual: crate::sanitize(got),
            });
        }
        Ok(digest)
    }

    /// Follow `Link: <...>; rel="next"` pages (same origin only, at most [`MAX_PAGES`]).
    fn paged(
        &self,
        first: Url,
        scopes: Vec<String>,
        key: &str,
    ) -> Result<std::result::Result<Vec<String>, Response>> {
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.t.err(format!(
                    "{}: more than {MAX_PAGES} pages; stopping",
                    redact(&url)
                )));
            }
            let resp = self
                .t
                .send(&Call::new(Method::GET, url.clone(), scopes.clone()))?;
            if !resp.status().is_success() {
                return Ok(Err(resp));
            }
            if let Some(link) = resp.headers().get(LINK).and_then(|l| l.to_str().ok())
                && let Some(target) = next_link(link)
            {
                let n = url
                    .join(target)
                    .map_err(|e| self.t.err(format!("bad Link header: {e}")))?;
                if !same_origin(&n, &self.t.origin) {
                    return Err(self.t.err(format!(
                        "refusing pagination Link to another origin ({})",
                        redact(&n)
                    )));
                }
                next = Some(n);
            }
            let body = read_capped(resp, MAX_LIST_BYTES)
                .map_err(|e| self.t.err(format!("{}: {e}", redact(&url))))?;
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| self.t.err(format!("{}: not JSON: {e}", redact(&url))))?;
            if let Some(items) = v.get(key).and_then(Value::as_array) {
                out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            if out.len() > MAX_LIST_ITEMS {
                return Err(self.t.err(format!(
                    "{}: more than {MAX_LIST_ITEMS} entries; stopping",
                    redact(&url)
                )));
            }
        }
        Ok(Ok(out))
    }

    /// Tags of a repository; `None` when the repository does not exist.
    pub(crate) fn tags(&self, repo: &str) -> Result<Option<Vec<String>>> {
        let url = self.t.url(&format!("/v2/{repo}/tags/list?n=1000"))?;
        match self.paged(url, scope_pull(repo), "tags")? {
            // Only tags that are valid references go on into URLs.
            Ok(tags) => Ok(Some(
                tags.into_iter()
                    .filter(|t| PackRef::exact("x", t).is_ok())
                    .collect(),
            )),
            Err(resp) if resp.status().as_u16() == 404 => Ok(None),
            Err(resp) => Err(self.t.status_error(&format!("list tags of {repo}"), resp)),
        }
    }

    /// Repositories in the catalog; `Err(status)` when the registry refuses to list it.
    fn catalog(&self) -> Result<std::result::Result<Vec<String>, u16>> {
        let url = self.t.url("/v2/_catalog?n=1000")?;
        match self.paged(url, vec!["registry:catalog:*".into()], "repositories")? {
            Ok(repos) => Ok(Ok(repos)),
            // Without credentials a 401 means "log in", not "no catalog here".
            Err(resp) if resp.status().as_u16() == 401 && !self.t.has_credential() => {
                Err(self.t.status_error("list the catalog", resp))
            }
            // With credentials, wrong ones fail `/v2/` too (reported as such); right ones
            // mean only the catalog is refused.
            Err(resp) if resp.status().as_u16() == 401 => {
                self.ping()?;
                Ok(Err(401))
            }
            Err(resp) if matches!(resp.status().as_u16(), 401 | 403 | 404 | 405) => {
                Ok(Err(resp.status().as_u16()))
            }
            Err(resp) => Err(self.t.status_error("list the catalog", resp)),
        }
    }

    fn not_found(&self, r: &PackRef) -> Error {
        Error::PackNotFound {
            reference: r.to_string(),
            registry: self.location(),
        }
    }

    /// Tag → digest for every tag of a repository (HEAD requests in parallel).
    fn tag_digests(&self, repo: &str, tags: &[String]) -> Result<Vec<(String, String)>> {
        let found: Vec<Result<Option<(String, String)>>> = tags
            .par_iter()
            .map(|t| Ok(self.manifest_digest(repo, t)?.map(|d| (t.clone(), d))))
            .collect();
        let mut out = Vec::new();
        for f in found {
            out.extend(f?);
        }
        Ok(out)
    }

    fn download(
        &self,
        repo: &str,
        layer: &oci::Descriptor,
        file: &mut File,
        opts: &PullOptions,
    ) -> Result<()> {
        let url = self.t.url(&format!("/v2/{repo}/blobs/{}", layer.digest))?;
        let mut started = Instant::now();
        let mut attempt = 0;
        let mut hasher = Sha256::new();
        let mut done = 0u64;
        let what = format!("{}/{repo}@{}", self.host, layer.digest);
        // The retry budget restarts whenever the download got further than ever before,
        // so a long download survives several drops; a restart from byte 0 (a server
        // ignoring `Range`) is not progress until it passes the old high-water mark. A
        // request's time allowance covers at most 64 MiB, so a stalled transfer is cut and
        // resumed rather than waited out.
        let mut high_water = 0u64;
        'attempts: loop {
            if done > high_water {
                attempt = 0;
                started = Instant::now();
                high_water = done;
            }
            let mut call = Call::new(Method::GET, url.clone(), scope_pull(repo))
                .cancel(opts.cancel.as_ref())
                .expect_bytes(layer.size.saturating_sub(done).min(64 << 20));
            if done > 0 {
                call = call.header("range", format!("bytes={done}-"));
            }
            let resp = self.t.send(&call)?;
            let status = resp.status().as_u16();
            let restart = match status {
                200 => done > 0,
                206 => !resp
                    .headers()
                    .get("content-range")
                    .and_then(|r| r.to_str().ok())
                    .is_some_and(|r| r.starts_with(&format!("bytes {done}-"))),
                404 => {
                    return Err(Error::CorruptRegistry {
                        location: what,
                        reason: "the manifest's archive blob is missing".into(),
                    });
                }
                _ => {
                    return Err(self
                        .t
                        .status_error(&format!("GET blob {}", layer.digest), resp));
                }
            };
            if restart {
                if status == 206 && done == 0 {
                    return Err(self.t.err(format!(
                        "GET blob {}: partial content for a request of the whole blob",
                        layer.digest
                    )));
                }
                file.set_len(0).map_err(|e| Error::io("pull", e))?;
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io("pull", e))?;
                hasher = Sha256::new();
                done = 0;
                if status == 206 {
                    // The range came back wrong: start over, counted as a retry.
                    if !self.t.may_retry(attempt, started) {
                        return Err(self.t.err(format!(
                            "GET blob {}: the registry keeps answering the wrong range",
                            layer.digest
                        )));
                    }
                    self.t.wait(attempt, None, opts.cancel.as_ref())?;
                    attempt += 1;
                    continue;
                }
            }
            if let Some(h) = resp
                .headers()
                .get("docker-content-digest")
                .and_then(|d| d.to_str().ok())
                && h.starts_with("sha256:")
                && h != layer.digest
            {
                return Err(Error::DigestMismatch {
                    what,
                    expected: layer.digest.clone(),
                    actual: crate::sanitize(h),
                });
            }
            if let Some(n) = resp.content_length()
                && done.checked_add(n) != Some(layer.size)
            {
                return Err(Error::DigestMismatch {
                    what: format!(
                        "{what}: Content-Length {n} from byte {done} where the manifest says {} bytes",
                        layer.size
                    ),
                    expected: layer.digest.clone(),
                    actual: "(not downloaded)".into(),
                });
            }
            // The body is read on its own thread: a stalled body cannot hold off Ctrl-C.
            let chunks = self.t.body_chunks(resp);
            loop {
                let next = loop {
                    if self.t.cancelled(opts.cancel.as_ref()) {
                        return Err(Error::Cancelled);
                    }
                    match chunks.recv_timeout(Duration::from_millis(50)) {
                        Ok(c) => break c,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                            break Err(std::io::Error::other("the body reader stopped"));
                        }
                    }
                };
                let chunk = match next {
                    Ok(c) => c,
                    Err(e) => {
                        if self.t.may_retry(attempt, started) {
                            self.t.wait(attempt, None, opts.cancel.as_ref())?;
                            attempt += 1;
                            continue 'attempts;
                        }
                        return Err(self.t.err(format!(
                            "GET blob {}: connection failed after {done} of {} bytes: {}",
                            layer.digest,
                            layer.size,
                            http::error_chain(&e)
                        )));
                    }
                };
                let k = chunk.len();
                if k == 0 {
                    break;
                }
                if done.saturating_add(k as u64) > layer.size {
                    return Err(Error::DigestMismatch {
                        what: format!("{what}: more bytes than the manifest's {}", layer.size),
                        expected: layer.digest.clone(),
                        actual: "(trailing data)".into(),
                    });
                }
                hasher.update(&chunk);
                file.write_all(&chunk).map_err(|e| Error::io("pull", e))?;
                done += k as u64;
                if let Some(p) = &opts.progress {
                    p(super::Progress::Transfer {
                        done,
                        total: Some(layer.size),
                    });
                }
            }
            if done < layer.size {
                if self.t.may_retry(attempt, started) {
                    self.t.wait(attempt, None, opts.cancel.as_ref())?;
                    attempt += 1;
                    continue;
                }
                return Err(self.t.err(format!(
                    "GET blob {}: got {done} of {} bytes",
                    layer.digest, layer.size
                )));
            }
            let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
            if actual != layer.digest {
                return Err(Error::DigestMismatch {
                    what,
                    expected: layer.digest.clone(),
                    actual,
                });
            }
            return Ok(());
        }
    }

    /// Write the manifest (last, so an interrupted push leaves no tag) and check no
    /// concurrent push replaced it.
    #[allow(clippy::too_many_arguments)]
    fn finish_push(
        &self,
        repo: &str,
        reference: PackRef,
        name: &str,
        version: &str,
        digest: String,
        size: u64,
        opts: &PushOptions,
    ) -> Result<PushOutcome> {
        if is_cancelled(opts.cancel.as_ref()) {
            return Err(Error::Cancelled);
        }
        let created = opts.created.clone().unwrap_or_else(|| oci::rfc3339(0));
        let manifest =
            Manifest::for_pack(&digest, size, &archive_file_name(name, version), &created);
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| self.t.err(format!("serialising the manifest: {e}")))?;
        let manifest_digest = self.put_manifest(repo, version, &bytes)?;
        // Another client may have pushed the same tag at the same moment: say so.
        if let Some(now) = self.manifest_digest(repo, version)?
            && now != manifest_digest
        {
            return Err(self.t.err(format!(
                "{reference} was replaced by a concurrent push ({now}) right after ours ({manifest_digest})"
            )));
        }
        Ok(PushOutcome {
            reference,
            manifest_digest,
            archive_digest: digest,
            size,
            changed: true,
        })
    }

    /// Upload the `{}` config blob every pack manifest (and the untag placeholder) uses.
    fn push_config(&self, repo: &str, opts: &PushOptions) -> Result<()> {
        self.push_blob(
            repo,
            BlobSource::Bytes(oci::CONFIG_BLOB),
            &oci::sha256_digest(oci::CONFIG_BLOB),
            oci::CONFIG_BLOB.len() as u64,
            opts,
        )
        .map(|_| ())
    }

    /// Whether this registry deletes manifests in `repo`, asked without changing
    /// anything: a DELETE of a digest that cannot exist answers 404 where deletes work
    /// and 405 (CNCF distribution's default, GHCR) where they do not.
    fn probe_delete(&self, repo: &str, r: &PackRef) -> Result<()> {
        let nonce = format!(
            "spectro-delete-probe-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let digest = oci::sha256_digest(nonce.as_bytes());
        match self.delete_manifest(repo, &digest, r) {
            Ok(()) | Err(Error::PackNotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn delete_manifest(&self, repo: &str, digest: &str, r: &PackRef) -> Result<()> {
        let url = self.t.url(&format!("/v2/{repo}/manifests/{digest}"))?;
        let resp = self.t.send(&Call::new(
            Method::DELETE,
            url,
            vec![format!("repository:{repo}:pull,push,delete")],
        ))?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            404 => Err(self.not_found(r)),
            405 => Err(Error::Unsupported(format!(
                "{}: the registry does not allow deleting manifests (for CNCF distribution set storage.delete.enabled)",
                self.location()
            ))),
            _ => Err(self
                .t
                .status_error(&format!("DELETE manifest {digest}"), resp)),
        }
    }
}

/// Where a blob's bytes come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BlobSource<'a> {
    /// Small in-memory content (config).
    Bytes(&'a [u8]),
    /// A file, streamed (re-read for every retry).
    File(&'a Path),
}

/// A blob's digest: known, or being computed by a thread while the upload runs.
enum BlobDigest<'s> {
    Known(String),
    Hashing {
        handle: Option<std::thread::ScopedJoinHandle<'s, Result<(String, u64)>>>,
        size: u64,
        path: PathBuf,
    },
}

impl BlobDigest<'_> {
    fn known(&self) -> Option<&str> {
        match self {
            BlobDigest::Known(d) => Some(d),
            BlobDigest::Hashing { .. } => None,
        }
    }

    /// The digest if the hashing finished (without waiting).
    fn poll(&mut self) -> Result<Option<String>> {
        match self {
            BlobDigest::Known(d) => Ok(Some(d.clone())),
            BlobDigest::Hashing { handle, .. } => {
                if handle.as_ref().is_some_and(|h| h.is_finished()) {
                    self.wait().map(Some)
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// The digest, waiting for the hashing to finish.
    fn wait(&mut self) -> Result<String> {
        match self {
            BlobDigest::Known(d) => Ok(d.clone()),
            BlobDigest::Hashing { handle, size, path } => {
                let joined = handle.take().map(|h| h.join());
                let (digest, n) = match joined {
                    Some(Ok(r)) => r?,
                    _ => {
                        return Err(Error::io(
                            path.as_path(),
                            std::io::Error::other("hashing the archive failed"),
                        ));
                    }
                };
                if n != *size {
                    return Err(Error::io(
                        path.as_path(),
                        std::io::Error::other("the file changed while being pushed"),
                    ));
                }
                *self = BlobDigest::Known(digest.clone());
                Ok(digest)
            }
        }
    }
}

enum UploadError {
    /// Transient: start over with a new session.
    Retry(Box<Error>, Option<Box<HeaderMap>>),
    Fatal(Box<Error>),
}

impl UploadError {
    fn into_retry(self) -> Self {
        match self {
            UploadError::Fatal(e) => UploadError::Retry(e, None),
            r => r,
        }
    }
    fn fatal(e: Error) -> Self {
        UploadError::Fatal(Box::new(e))
    }
    fn retry(e: Error, headers: Option<HeaderMap>) -> Self {
        UploadError::Retry(Box::new(e), headers.map(Box::new))
    }
}

fn file_payload<'a>(
    path: &Path,
    offset: u64,
    len: u64,
    total: u64,
    opts: &PushOptions,
) -> Payload<'a> {
    Payload::File {
        path: path.to_path_buf(),
        offset,
        len,
        done_before: offset,
        total: Some(total),
        progress: opts.progress.clone(),
        cancel: opts.cancel.clone(),
    }
}

/// The `rel="next"` target of a `Link` header.
fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then_some(target)
    })
}

impl Registry for OciRegistry {
    fn location(&self) -> String {
        self.location.to_string()
    }

    fn push(&self, source: &Path, opts: &PushOptions) -> Result<PushOutcome> {
        let prepared = super::layout::prepare_archive(source, opts)?;
        let (archive, name, version) = (&prepared.path, &prepared.name, &prepared.version);
        let reference = PackRef::exact(name, version)?;
        let repo = self.repo(name);
        let size = match &prepared.digest {
            Some((_, n)) => *n,
            None => std::fs::metadata(archive)
                .map_err(|e| Error::io(archive, e))?
                .len(),
        };
        std::thread::scope(|scope| {
            // A large archive is hashed while its upload runs (the hash is a sixth of
            // the push time on loopback); a built one already has its digest.
            let mut digest = match &prepared.digest {
                Some((d, _)) => BlobDigest::Known(d.clone()),
                None if size > self.monolithic_max => BlobDigest::Hashing {
                    handle: Some(scope.spawn(|| super::layout::file_digest(archive))),
                    size,
                    path: archive.clone(),
                },
                None => BlobDigest::Known(prepared.digest()?.0),
            };
            if let Some((existing, bytes)) = self.fetch_manifest(&repo, version)? {
                let digest = digest.wait()?;
                let current = self
                    .parse_manifest(&repo, version, &bytes)
                    .ok()
                    .and_then(|m| m.pack_layer().ok().map(|l| l.digest.clone()))
                    .unwrap_or_default();
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
            self.push_config(&repo, opts)?;
            self.push_blob_with(&repo, BlobSource::File(archive), &mut digest, size, opts)?;
            let digest = digest.wait()?;
            self.finish_push(&repo, reference, name, version, digest, size, opts)
        })
    }

    fn resolve(&self, reference: &PackRef) -> Result<Resolved> {
        let repo = self.repo(&reference.name);
        let (tag, fetch_ref) = match &reference.selector {
            Selector::Tag(t) => (Some(t.clone()), t.clone()),
            Selector::Digest(d) => (None, d.clone()),
            Selector::Latest | Selector::Wildcard(_) => {
                let tags = self.tags(&repo)?.ok_or_else(|| self.not_found(reference))?;
                let pick =
                    super::highest_version(tags.iter().filter(|t| match &reference.selector {
                        Selector::Wildcard(w) => wildcard_matches(w, t),
                        _ => true,
                    }))
                    .ok_or_else(|| self.not_found(reference))?;
                (Some(pick.clone()), pick)
            }
        };
        let (digest, bytes) = self
            .fetch_manifest(&repo, &fetch_ref)?
            .ok_or_else(|| self.not_found(reference))?;
        let manifest = self.parse_manifest(&repo, &fetch_ref, &bytes)?;
        let version = match tag {
            Some(t) => Some(t),
            None => {
                let tags = self.tags(&repo)?.unwrap_or_default();
                let mut pairs = self.tag_digests(&repo, &tags)?;
                pairs.sort_by(|a, b| super::version_order(&b.0, &a.0));
                pairs
                    .into_iter()
                    .find(|(_, d)| *d == digest)
                    .map(|(t, _)| t)
            }
        };
        Ok(Resolved {
            name: reference.name.clone(),
            version,
            manifest_digest: digest,
            manifest,
        })
    }

    fn pull(&self, reference: &PackRef, dest: &Path, opts: &PullOptions) -> Result<PullOutcome> {
        let resolved = self.resolve(reference)?;
        let repo = self.repo(&reference.name);
        let layer = resolved
            .manifest
            .pack_layer()
            .map_err(|reason| Error::CorruptRegistry {
                location: format!("{}/{repo}@{}", self.host, resolved.manifest_digest),
                reason,
            })?
            .clone();
        super::check_layer_size(
            &format!("{}/{repo}@{}", self.host, layer.digest),
            &layer,
            opts,
        )?;
        let mut tmp = super::pull_temp(dest)?;
        self.download(&repo, &layer, tmp.as_file_mut(), opts)?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(tmp.path(), e))?;
        super::finish_pull(tmp, dest, &reference.name, &resolved, layer.digest, opts)
    }

    fn list(&self, filter: Option<&str>) -> Result<Vec<PackListing>> {
        let prefix = format!("{}/", self.repo("").trim_end_matches('/'));
        let names: Vec<String> = match self.catalog()? {
            Ok(repos) => {
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
            Err(status) => match filter {
                Some(f) if PackRef::exact(f, "1.0.0").is_ok() => vec![f.to_owned()],
                _ => {
                    return Err(Error::Unsupported(format!(
                        "{}: the registry refuses to list its catalog (HTTP {status}); give a pack name, e.g. `spectro pack ls NAME`",
                        self.location()
                    )));
                }
            },
        };
        let mut out = Vec::new();
        for name in names {
            let repo = self.repo(&name);
            let Some(tags) = self.tags(&repo)? else {
                continue;
            };
            let mut versions: Vec<VersionInfo> = self
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
        let repo = self.repo(&reference.name);
        let tag = match &reference.selector {
            Selector::Tag(t) => t,
            Selector::Digest(d) => return self.delete_manifest(&repo, d, reference),
            Selector::Latest | Selector::Wildcard(_) => return Err(self.not_found(reference)),
        };
        let resolved = self.resolve(reference)?;
        let tags = self.tags(&repo)?.unwrap_or_default();
        let others: Vec<String> = tags.into_iter().filter(|t| t != tag).collect();
        let shared = self
            .tag_digests(&repo, &others)?
            .iter()
            .any(|(_, d)| *d == resolved.manifest_digest);
        if !shared {
            // One request; if the registry refuses it nothing has changed.
            return self.delete_manifest(&repo, &resolved.manifest_digest, reference);
        }
        // The distribution API deletes manifests, not tags: point the tag at a throw-away
        // manifest and delete that, so the other tags keep theirs. That changes the tag
        // first, so learn whether deletes work before, and put the tag back on failure.
        self.probe_delete(&repo, reference)?;
        let (_, original) = self
            .fetch_manifest(&repo, &resolved.manifest_digest)?
            .ok_or_else(|| self.not_found(reference))?;
        let mut ann = Map::new();
        ann.insert(
            "io.spectro.untag".into(),
            Value::String(format!("{tag}-{:016x}", fastrand::u64(..))),
        );
        let placeholder = Manifest {
            schema_version: 2,
            media_type: Some(oci::MANIFEST_MEDIA_TYPE.into()),
            artifact_type: None,
            config: oci::Descriptor {
                media_type: oci::UNKNOWN_CONFIG_MEDIA_TYPE.into(),
                digest: oci::sha256_digest(oci::CONFIG_BLOB),
                size: oci::CONFIG_BLOB.len() as u64,
                annotations: Map::new(),
            },
            layers: Vec::new(),
            annotations: ann,
        };
        self.push_config(&repo, &PushOptions::default())?;
        let bytes = serde_json::to_vec(&placeholder)
            .map_err(|e| self.t.err(format!("serialising a manifest: {e}")))?;
        // From here the tag moves: the three steps run to the end even if Ctrl-C or
        // SIGTERM arrives (the signal takes effect after them).
        let _critical = self.t.critical();
        let d = match self.put_manifest(&repo, tag, &bytes) {
            Ok(d) => d,
            Err(e) => {
                // The PUT may have landed even though its answer was lost: put the tag
                // back if it moved.
                if self.manifest_digest(&repo, tag).ok().flatten().as_deref()
                    != Some(resolved.manifest_digest.as_str())
                {
                    let _ = self.put_manifest(&repo, tag, &original);
                }
                return Err(e);
            }
        };
        if let Err(e) = self.delete_manifest(&repo, &d, reference) {
            // Put the version back where it was; report both if that fails too.
            return match self.put_manifest(&repo, tag, &original) {
                Ok(_) => Err(e),
                Err(restore) => Err(self.t.err(format!(
                    "deleting {reference} failed ({e}) and restoring the tag to {} failed too ({restore}); re-tag it with `{}@{}`",
                    resolved.manifest_digest, reference.name, resolved.manifest_digest
                ))),
            };
        }
        Ok(())
    }

    fn tag(&self, reference: &PackRef, new_tag: &str, opts: &super::TagOptions) -> Result<()> {
        super::require_exact(reference, "tagging")?;
        super::check_new_tag(&reference.name, new_tag)?;
        let repo = self.repo(&reference.name);
        let resolved = self.resolve(reference)?;
        if !opts.force
            && let Some(existing) = self.manifest_digest(&repo, new_tag)?
            && existing != resolved.manifest_digest
        {
            return Err(Error::AlreadyExists {
                reference: format!("{}:{new_tag}", reference.name),
                existing,
            });
        }
        let (_, bytes) = self
            .fetch_manifest(&repo, &resolved.manifest_digest)?
            .ok_or_else(|| self.not_found(reference))?;
        self.put_manifest(&repo, new_tag, &bytes).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/a>; rel="prev", </b>; rel=next"#),
            Some("/b")
        );
        assert_eq!(next_link("garbage"), None);
    }
}
