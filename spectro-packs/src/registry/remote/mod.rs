//! The OCI distribution backend: [`HttpStore`] speaks the distribution API to any
//! registry (CNCF distribution, Harbor, Zot, ECR, ...), and [`OciRegistry`] puts packs
//! on it in Palette's shape at `<base>/spectro-packs/archive/<name>:<version>`.
//!
//! The client is split by concern: [`wire`] (the HTTP seam), [`http`] (authentication,
//! redirects, cancellation), [`retry`] (the one retry mechanism), [`status`] (answers
//! the protocol did not expect), [`upload`], [`download`], [`manifests`] and [`listing`].
//! Blobs stream from and to files with bounded memory and are hashed on the way; every
//! download verifies size and digest.

pub(crate) mod auth;
mod client;
mod download;
#[cfg(test)]
mod fake;
#[cfg(test)]
mod fake_api;
mod http;
mod listing;
mod manifests;
mod retry;
mod status;
#[cfg(test)]
mod tests;
mod token;
mod upload;
mod wire;

use std::path::PathBuf;

pub use auth::{Credential, CredentialSource, CredentialStore};
pub use client::HttpStore;
pub use retry::RetryPolicy;

use super::PackRegistry;
use super::reference::RegistryLocation;
use crate::error::Result;

/// Largest tag list or catalog page read.
const MAX_LIST_BYTES: u64 = 4 << 20;
/// Entries accepted in one tag list or catalog.
const MAX_LIST_ITEMS: usize = 100_000;
/// Pages followed for one tag list or catalog.
const MAX_PAGES: usize = 1000;
/// Manifest media types we ask for: a pack's OCI manifest first, then every other kind a
/// tag may hold. We only accept the first (`manifests.rs` and `packs.rs` refuse the others
/// by name), but a registry answers 404 for a kind the client did not list (distribution
/// does for an index): a tag holding someone's image would then look free, and `push`
/// would replace it without `--force`.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";
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
    /// besides the per-operation flags in [`crate::registry::PushOptions`] and
    /// [`crate::registry::PullOptions`]: a request waiting on a stalled registry returns
    /// [`crate::Error::Cancelled`] within a fraction of a second of the flag being set.
    pub cancel: Option<crate::registry::CancelFlag>,
    /// Pages followed in one tag list or catalog (default 1000).
    pub max_list_pages: usize,
    /// Names accepted in one tag list or catalog (default 100 000).
    pub max_list_entries: usize,
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
    with_cancel => cancel: crate::registry::CancelFlag,
    with_max_list_pages => max_list_pages: usize,
    with_max_list_entries => max_list_entries: usize,
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
            max_list_pages: MAX_PAGES,
            max_list_entries: MAX_LIST_ITEMS,
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
        let config_path =
            crate::registry::config::config_path(&crate::registry::config::spectro_home_from_env());
        let mut opts = RemoteOptions {
            plain_http: input.trim().starts_with("http://"),
            credentials: CredentialStore::from_env(Some(config_path.clone())),
            ..RemoteOptions::default()
        };
        if let RegistryLocation::Oci { host, .. } = location {
            opts.apply_config(&crate::registry::config::Config::load(&config_path)?, host);
        }
        Ok(opts)
    }

    /// Apply the per-registry flags saved by `spectro registry login` (`plainHttp`,
    /// legacy `insecure`) for `host`.
    pub fn apply_config(&mut self, config: &crate::registry::config::Config, host: &str) {
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

/// A pack registry behind the OCI distribution API: [`PackRegistry`] over
/// [`HttpStore`], with packs in Palette's shape at
/// `<base>/spectro-packs/archive/<name>:<version>`.
///
/// Uploads are idempotent (HEAD first), retried with a new session or resumed from the
/// registry's `Range`; the manifest is written last, so an interrupted push leaves no tag
/// behind.
pub type OciRegistry = PackRegistry<HttpStore>;

impl PackRegistry<HttpStore> {
    /// A client for `location` (must be [`RegistryLocation::Oci`]). No request is made
    /// until the first operation; see [`OciRegistry::ping`].
    pub fn connect(location: &RegistryLocation, opts: RemoteOptions) -> Result<Self> {
        let store = HttpStore::connect(location, opts)?;
        let base = match location {
            RegistryLocation::Oci { base, .. } => base.clone(),
            RegistryLocation::Local(_) => String::new(),
        };
        Ok(PackRegistry::new(store, base))
    }

    /// `host[:port]`.
    pub fn host(&self) -> &str {
        self.store().host()
    }

    /// Check the registry speaks the distribution API and accepts the credentials
    /// (`GET /v2/`, authenticating as challenged). `spectro registry login` calls this
    /// before saving anything.
    pub fn ping(&self) -> Result<()> {
        self.store().ping()
    }
}

fn scope_pull(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull")]
}

fn scope_push(repo: &str) -> Vec<String> {
    vec![format!("repository:{repo}:pull,push")]
}
