//! Pack registries: the [`Registry`] trait, references, configuration, and backends.
//!
//! Packs live at `<base>/spectro-packs/archive/<name>:<version>`, one OCI manifest per
//! version in the shape `oras push` 1.0.0 writes (see [`oci::Manifest::for_pack`]).
//! Backends: [`LayoutRegistry`] (the embedded default: OCI image layouts on disk, no
//! server) and `OciRegistry` (feature `remote`; any OCI distribution registry over HTTP). The trait is object-safe so frontends pick a backend at run time.

pub mod config;
mod layout;
#[cfg(feature = "serve")]
mod layout_dist;
mod layout_gc;
mod memory;
pub mod oci;
mod packs;
mod reference;
#[cfg(feature = "remote")]
mod remote;
mod staging;
mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use layout::LayoutStore;
pub use layout_gc::GcReport;
pub use memory::MemoryStore;
pub use packs::PackRegistry;
pub use reference::{
    ARCHIVE_PATH, PackRef, RegistryLocation, Selector, check_repository, wildcard_matches,
};
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::{
    CERTS_DIR, Credential, CredentialSource, CredentialStore, HttpStore, OciRegistry,
    RemoteOptions, RetryPolicy,
};
pub use store::{BlobSource, Store, StoreLock, Transfer};

/// The embedded registry: packs in OCI image layouts on disk, one per pack under
/// `<root>/spectro-packs/archive/<name>/`, no server needed.
pub type LayoutRegistry = PackRegistry<LayoutStore>;

impl PackRegistry<LayoutStore> {
    /// Open (creating if needed) a registry rooted at `root`.
    ///
    /// An existing registry that cannot be written (read-only mount, another user's) is
    /// opened for reading.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if root.as_os_str().is_empty() {
            return Err(crate::Error::InvalidReference {
                input: String::new(),
                reason: "empty registry path".into(),
            });
        }
        let archive = root.join(ARCHIVE_PATH);
        if !archive.is_dir() {
            crate::safety::create_dirs(&archive, 0o755)?;
        }
        Ok(PackRegistry::new(LayoutStore::new(root), ""))
    }

    /// The registry root.
    pub fn root(&self) -> &Path {
        self.store().root()
    }

    /// The image layout directory of a pack.
    ///
    /// `name` must be a valid pack name ([`PackRef`] checks it); anything else is
    /// mapped to a path that cannot exist rather than joined.
    pub fn layout_dir(&self, name: &str) -> PathBuf {
        let base = self.root().join(ARCHIVE_PATH);
        crate::safety::checked_join(&base, name).unwrap_or_else(|_| base.join(".invalid"))
    }
}

use crate::error::Result;

/// Progress of a long operation, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Building the archive from a directory.
    Building,
    /// Bytes transferred so far, of a total when known.
    Transfer {
        /// Done.
        done: u64,
        /// Total, if known.
        total: Option<u64>,
    },
    /// Extracting the pulled archive.
    Extracting,
}

/// Progress callback; the CLI draws bars, Python may ignore or forward it.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Cancellation flag: set it (from a signal handler, another thread or a progress
/// callback) and the operation stops at the next chunk with [`crate::Error::Cancelled`],
/// leaving the registry and the destination as they were.
pub type CancelFlag = Arc<std::sync::atomic::AtomicBool>;

/// Whether the operation was cancelled.
pub(crate) fn is_cancelled(flag: Option<&CancelFlag>) -> bool {
    flag.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
}

/// The I/O error a reader or copy returns when cancelled (mapped to
/// [`crate::Error::Cancelled`] by whoever sees it).
#[derive(Debug)]
pub(crate) struct CancelledIo;
impl std::fmt::Display for CancelledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}
impl std::error::Error for CancelledIo {}

/// Options for [`Registry::push`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct PushOptions {
    /// Replace an existing version whose content differs.
    pub force: bool,
    /// Skip lint validation when pushing a directory.
    pub no_validate: bool,
    /// mtime of every entry when a directory is archived (as
    /// [`crate::archive::BuildOptions::mtime`]); default [`crate::archive::DEFAULT_MTIME`].
    /// Frontends pass `SOURCE_DATE_EPOCH` here and to `pack build` alike, so pushing a
    /// directory stores the bytes `pack build` writes.
    pub mtime: Option<u64>,
    /// Value of the `org.opencontainers.image.created` annotation (RFC 3339). The CLI
    /// passes the current time (or `SOURCE_DATE_EPOCH`); default is the Unix epoch.
    pub created: Option<String>,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Cancellation flag.
    pub cancel: Option<CancelFlag>,
    /// Caps for extracting an archive pushed as a file (to validate it).
    pub extract: crate::archive::ExtractLimits,
    /// Limits for loading the pack to validate it.
    pub load: crate::LoadOptions,
}

builder!(PushOptions {
    with_extract => extract: crate::archive::ExtractLimits,
    with_load => load: crate::LoadOptions,
    with_force => force: bool,
    with_no_validate => no_validate: bool,
    with_mtime => mtime: u64,
    with_created => created: String,
    with_progress => progress: ProgressFn,
    with_cancel => cancel: CancelFlag,
});

/// Options for [`Registry::pull`].
#[derive(Clone)]
#[non_exhaustive]
pub struct PullOptions {
    /// Keep the `.tar.gz` in the destination instead of extracting it.
    pub archive_only: bool,
    /// Replace an existing pack directory at the destination.
    pub overwrite: bool,
    /// Largest archive (layer) accepted, checked against the manifest's declared size
    /// before downloading, and on the bytes received. Default 4 GiB.
    pub max_archive_bytes: u64,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Cancellation flag.
    pub cancel: Option<CancelFlag>,
    /// Caps for extracting the pulled archive.
    pub extract: crate::archive::ExtractLimits,
}

builder!(PullOptions {
    with_extract => extract: crate::archive::ExtractLimits,
    with_archive_only => archive_only: bool,
    with_overwrite => overwrite: bool,
    with_max_archive_bytes => max_archive_bytes: u64,
    with_progress => progress: ProgressFn,
    with_cancel => cancel: CancelFlag,
});

/// Default of [`PullOptions::max_archive_bytes`]: 4 GiB.
pub const DEFAULT_MAX_ARCHIVE_BYTES: u64 = 4 << 30;

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            archive_only: false,
            overwrite: false,
            max_archive_bytes: DEFAULT_MAX_ARCHIVE_BYTES,
            progress: None,
            cancel: None,
            extract: crate::archive::ExtractLimits::default(),
        }
    }
}

/// Options for [`Registry::tag`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct TagOptions {
    /// Move the tag when it already points at another manifest.
    pub force: bool,
}

builder!(TagOptions { with_force => force: bool });

/// Refuse references a destructive operation must not take: anything but an exact tag
/// or a digest (a pattern would delete whichever version matches highest today).
pub(crate) fn require_exact(reference: &PackRef, what: &str) -> Result<()> {
    match reference.selector {
        Selector::Tag(_) | Selector::Digest(_) => Ok(()),
        Selector::Latest | Selector::Wildcard(_) => Err(crate::Error::InvalidReference {
            input: reference.to_string(),
            reason: format!("{what} needs an exact version or digest, not a pattern or \"latest\""),
        }),
    }
}

/// Check a new tag for [`Registry::tag`]: a valid tag that does not read as a version
/// (versions are what `push` writes, from pack.json) or as a pattern (`x`, `1.x`, which
/// later commands would resolve as wildcards).
pub(crate) fn check_new_tag(name: &str, new_tag: &str) -> Result<()> {
    let parsed = PackRef::exact(name, new_tag)?;
    let refuse = |reason: &str| {
        Err(crate::Error::InvalidReference {
            input: format!("{name}:{}", crate::sanitize(new_tag)),
            reason: reason.to_owned(),
        })
    };
    if matches!(parsed.selector, Selector::Wildcard(_)) {
        return refuse(
            "a tag may not look like a pattern (`x` parts), it would be resolved as one",
        );
    }
    if crate::version::PackVersion::parse(new_tag).is_ok() {
        return refuse("a tag may not look like a version; versions come from pack.json on push");
    }
    Ok(())
}

/// What [`Registry::push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushOutcome {
    /// Reference pushed (`name:version`).
    pub reference: PackRef,
    /// Manifest digest.
    pub manifest_digest: String,
    /// Archive (layer) digest.
    pub archive_digest: String,
    /// Archive size.
    pub size: u64,
    /// False when the same content was already there (nothing written).
    pub changed: bool,
}

/// What [`Registry::pull`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullOutcome {
    /// The exact version pulled.
    pub version: String,
    /// The pack directory, or the archive file with `archive_only`.
    pub path: PathBuf,
    /// Archive digest (verified).
    pub archive_digest: String,
}

/// A resolved reference.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Resolved {
    /// Pack name.
    pub name: String,
    /// Tag (version); for a digest reference, the first tag pointing at it, if any.
    pub version: Option<String>,
    /// Manifest digest.
    pub manifest_digest: String,
    /// The manifest.
    pub manifest: oci::Manifest,
}

/// One version in a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Tag (version).
    pub version: String,
    /// Manifest digest.
    pub digest: String,
}

/// One pack in a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PackListing {
    /// Pack name.
    pub name: String,
    /// Versions, highest first.
    pub versions: Vec<VersionInfo>,
}

/// What [`Registry::inspect`] read: the resolved manifest and the pack's pack.json,
/// taken from the start of the archive without downloading the rest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Inspection {
    /// The resolved reference and its manifest.
    pub resolved: Resolved,
    /// pack.json as stored in the archive.
    pub pack_json: serde_json::Value,
    /// pack.json, typed.
    pub pack: crate::PackManifest,
}

/// A pack registry.
///
/// Object-safe (`Box<dyn Registry>`): the CLI and the Python binding choose the backend
/// from a location string at run time, and every backend passes the same conformance
/// tests (`tests/tests/registry.rs`).
pub trait Registry: Send + Sync {
    /// Human-readable location.
    fn location(&self) -> String;
    /// Push a pack directory (validated and archived first) or a pack archive. The
    /// name and version come from pack.json.
    fn push(&self, source: &Path, opts: &PushOptions) -> Result<PushOutcome>;
    /// Resolve a reference to one manifest.
    fn resolve(&self, reference: &PackRef) -> Result<Resolved>;
    /// Download (digest-verified) and extract into `dest/<name>`, or keep the archive.
    fn pull(&self, reference: &PackRef, dest: &Path, opts: &PullOptions) -> Result<PullOutcome>;
    /// List packs whose name contains `filter` (all when `None`).
    fn list(&self, filter: Option<&str>) -> Result<Vec<PackListing>>;
    /// Delete a version (by exact tag) or every tag of a digest. Patterns (`1.x`) and
    /// "latest" are refused: destructive operations take exact references only.
    fn delete(&self, reference: &PackRef) -> Result<()>;
    /// Add another tag to the manifest an exact `reference` (tag or digest) points at.
    /// The new tag may not look like a version or a pattern, and an existing tag
    /// pointing elsewhere is only moved with [`TagOptions::force`].
    fn tag(&self, reference: &PackRef, new_tag: &str, opts: &TagOptions) -> Result<()>;
    /// Resolve a reference and read the pack's pack.json from the archive's first entry
    /// (archives spectro builds hold it first), without a full pull.
    fn inspect(&self, reference: &PackRef) -> Result<Inspection>;
}

/// Open the backend for a location: [`LayoutRegistry`] for a folder; for an `oci://`
/// location the HTTP client with `RemoteOptions::default()` (no credentials; see
/// `open_with`). Without the `remote` feature an `oci://` location is
/// [`Error::Unsupported`](crate::Error::Unsupported).
pub fn open(location: &RegistryLocation) -> Result<Box<dyn Registry>> {
    match location {
        RegistryLocation::Local(p) => Ok(Box::new(LayoutRegistry::open(p)?)),
        #[cfg(feature = "remote")]
        RegistryLocation::Oci { .. } => open_with(location, RemoteOptions::default()),
        #[cfg(not(feature = "remote"))]
        RegistryLocation::Oci { .. } => Err(crate::Error::Unsupported(format!(
            "{location}: remote registries need the `remote` feature of spectro-packs"
        ))),
    }
}

/// Open the backend for a location: [`LayoutRegistry`] for a folder, [`OciRegistry`] for
/// `oci://` locations (with `remote` for TLS, credentials and retries).
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub fn open_with(location: &RegistryLocation, remote: RemoteOptions) -> Result<Box<dyn Registry>> {
    match location {
        RegistryLocation::Local(p) => Ok(Box::new(LayoutRegistry::open(p)?)),
        RegistryLocation::Oci { .. } => Ok(Box::new(OciRegistry::connect(location, remote)?)),
    }
}

/// Order two tags as versions (tags that are not versions sort by text, after).
pub(crate) fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    use crate::version::PackVersion;
    match (PackVersion::parse(a), PackVersion::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        _ => a.cmp(b),
    }
}
