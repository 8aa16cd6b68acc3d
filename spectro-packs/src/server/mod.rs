//! `spectro registry serve`: a single-node OCI distribution registry (API v1.1) over the
//! embedded registry's storage ([`LayoutStore`]), so what `spectro pack push` stored
//! locally is served as is, and what a client pushes here is a pack the embedded registry
//! reads.
//!
//! One process, one folder (local or a network file system). Beyond one machine, run
//! Harbor, Zot, CNCF distribution or a cloud registry; spectro's client speaks to all of
//! them.
//!
//! Built on hyper (HTTP/1.1 and HTTP/2) over tokio, with rustls for TLS. Blocking file
//! work runs on tokio's blocking pool; request bodies are streamed to temporary files
//! under `<root>/.uploads/` and renamed into place only after their digest and size
//! were verified.

mod api;
pub mod auth;
pub mod route;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::registry::{CancelFlag, LayoutStore};

pub use auth::{Access, Htpasswd, Login};
pub use route::{Reference, Route, route};

/// A request log line sink (one line per request, credentials and upload session ids
/// already removed).
pub type LogFn = Arc<dyn Fn(&str) + Send + Sync>;

/// How to serve.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// The registry folder (the embedded registry's root).
    pub root: PathBuf,
    /// Address to bind, exactly (`127.0.0.1:5000`).
    pub addr: SocketAddr,
    /// htpasswd file (bcrypt); without it, anyone who can connect may read and push.
    pub htpasswd: Option<PathBuf>,
    /// With `htpasswd`: let anonymous clients pull.
    pub anonymous_read: bool,
    /// PEM certificate chain and private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Refuse every write.
    pub read_only: bool,
    /// Allow plain HTTP on an address other than loopback.
    pub insecure_listen: bool,
    /// Largest blob accepted in one upload.
    pub max_upload: u64,
    /// Largest manifest accepted.
    pub max_manifest: u64,
    /// Most upload sessions open at once.
    pub max_sessions: usize,
    /// Most connections served at once (more wait in the kernel's backlog).
    pub max_connections: usize,
    /// How long a client may take to send request headers, and may stay silent while
    /// sending a body.
    pub idle_timeout: Duration,
    /// Request log.
    pub log: Option<LogFn>,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("root", &self.root)
            .field("addr", &self.addr)
            .field("htpasswd", &self.htpasswd)
            .field("anonymous_read", &self.anonymous_read)
            .field("tls", &self.tls)
            .field("read_only", &self.read_only)
            .field("max_upload", &self.max_upload)
            .finish_non_exhaustive()
    }
}

impl ServeOptions {
    /// Serve `root` on `addr` with the default caps, no auth, plain HTTP.
    pub fn new(root: impl Into<PathBuf>, addr: SocketAddr) -> Self {
        ServeOptions {
            root: root.into(),
            addr,
            htpasswd: None,
            anonymous_read: false,
            tls: None,
            read_only: false,
            insecure_listen: false,
            max_upload: 8 << 30,
            max_manifest: crate::registry::oci::MAX_MANIFEST_BYTES,
            max_sessions: 1024,
            max_connections: 512,
            idle_timeout: Duration::from_secs(60),
            log: None,
        }
    }
}

fn setup_error(what: impl Into<String>, reason: impl std::fmt::Display) -> Error {
    Error::io(
        std::path::Path::new(&what.into()),
        std::io::Error::other(reason.to_string()),
    )
}

/// Serve until `stop` is set, then finish in-flight requests (for at most 30 s) and
/// return. `ready` is called with the bound address once the socket listens (port 0
/// picks a free port).
pub fn run(
    opts: ServeOptions,
    stop: CancelFlag,
    ready: impl FnOnce(SocketAddr) + Send,
) -> Result<()> {
    if opts.tls.is_none() && !opts.addr.ip().is_loopback() && !opts.insecure_listen {
        return Err(Error::InvalidReference {
            input: opts.addr.to_string(),
            reason: "plain HTTP is only served on loopback; give --tls-cert and --tls-key, \
                     or --insecure-listen to serve plain HTTP on this address"
                .into(),
        });
    }
    if opts.max_manifest > crate::registry::oci::MAX_MANIFEST_BYTES {
        return Err(Error::TooLarge {
            what: "serve-manifest-size (the storage reads manifests back up to this)".into(),
            size: opts.max_manifest,
            limit: crate::registry::oci::MAX_MANIFEST_BYTES,
        });
    }
    let auth = match &opts.htpasswd {
        Some(p) => {
            let h = Htpasswd::load(p)?;
            if h.is_empty() {
                return Err(Error::InvalidReference {
                    input: p.display().to_string(),
                    reason: "the htpasswd file lists no user".into(),
                });
            }
            Some(h)
        }
        None => None,
    };
    let tls = match &opts.tls {
        Some((cert, key)) => Some(api::tls_config(cert, key)?),
        None => None,
    };
    let store = LayoutStore::new(&opts.root);
    crate::safety::create_dirs(&opts.root, 0o755)?;
    let uploads = store.uploads_dir();
    crate::safety::create_dirs(&uploads, 0o700)?;
    crate::safety::sweep_stale(&uploads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("spectro-serve")
        .build()
        .map_err(|e| setup_error("tokio runtime", e))?;
    let state = Arc::new(api::State::new(store, opts, auth));
    runtime.block_on(api::serve(state, tls, stop, ready))
}
