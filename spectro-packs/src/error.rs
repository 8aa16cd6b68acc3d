//! [`Error`]: an operation could not run (as opposed to a [`crate::Diagnostic`] finding).

use std::path::PathBuf;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The path is not a directory where one was needed.
    #[error("{}: not a directory", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A folder holds no pack (no `pack.json` anywhere below it).
    #[error("{}: no pack found (no pack.json in it or below it)", path.display())]
    NoPacksFound {
        /// The folder searched.
        path: PathBuf,
    },
    /// An archive could not be built or extracted.
    #[error("{}{}: {problem}", path.display(), entry.as_ref().map(|e| format!(" (entry `{e}`)")).unwrap_or_default())]
    Archive {
        /// The archive, or the pack directory being archived.
        path: PathBuf,
        /// The entry concerned, if any.
        entry: Option<String>,
        /// What is wrong.
        problem: crate::archive::ArchiveProblem,
    },
    /// A registry or pack reference does not parse.
    #[error("invalid reference `{input}`: {reason}")]
    InvalidReference {
        /// What was given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
    /// The pack, version or digest is not in the registry.
    #[error("{reference}: not found in {registry}")]
    PackNotFound {
        /// The pack reference.
        reference: String,
        /// The registry searched.
        registry: String,
    },
    /// The version exists with different content.
    #[error("{reference} already exists with different content ({existing})")]
    AlreadyExists {
        /// The pack reference.
        reference: String,
        /// Digest of the archive already stored.
        existing: String,
    },
    /// The registry refused the credentials (or needs some).
    #[error("{registry}: unauthorized{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Unauthorized {
        /// The registry.
        registry: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// Content did not hash to its digest.
    #[error("{what}: digest mismatch (expected {expected}, got {actual})")]
    DigestMismatch {
        /// What was being verified.
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest computed.
        actual: String,
    },
    /// A registry's stored data is damaged or not in the expected shape.
    #[error("{location}: {reason}")]
    CorruptRegistry {
        /// Where (file or URL).
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A remote registry could not be reached or answered with an error.
    #[error("{registry}: {reason}")]
    Remote {
        /// The registry (host and base), never with credentials.
        registry: String,
        /// What went wrong: the request and the registry's own error code and message, or
        /// the network error; secrets and upload session state are redacted.
        reason: String,
    },
    /// The caller cancelled the operation (nothing was changed).
    #[error("cancelled")]
    Cancelled,
    /// The operation needs a backend this build does not have.
    #[error("{0}")]
    Unsupported(String),
    /// `.spectroignore` does not parse.
    #[error("{}: {message}", path.display())]
    InvalidIgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// The parser's complaint.
        message: String,
    },
    /// A name taken from data (archive folder, pack or chart name, version, tag) cannot
    /// be used as a path component.
    #[error("{}: refusing to use `{name}` as a file name: it {reason}", base.display())]
    UnsafePath {
        /// The folder the name would have been joined to.
        base: PathBuf,
        /// The name (sanitised for printing).
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// Data declares a size above a cap (refused before reading it).
    #[error("{what}: declares {size} bytes, above the {limit}-byte limit")]
    TooLarge {
        /// What (sanitised).
        what: String,
        /// The declared size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// A regular file was needed (to read, or to replace), but the path is something
    /// else; nothing was read or changed.
    #[error("{}: is {kind}, not a regular file; refusing to use it", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What is there.
        kind: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            Error::Io { path, source }
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
