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
    /// The registry refused the credentials, or needs some (HTTP 401).
    #[error("{registry}: unauthorized{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Unauthorized {
        /// The registry.
        registry: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The registry knows who we are and refuses the operation (HTTP 403).
    #[error("{registry}: {request}: access denied{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Forbidden {
        /// The registry.
        registry: String,
        /// The request refused (`PUT manifest nginx:1.0.0`).
        request: String,
        /// The registry's own error code and message, sanitised.
        message: Option<String>,
    },
    /// The registry answered a request with a status the protocol does not expect.
    #[error("{registry}: {request}: HTTP {status}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Status {
        /// The registry.
        registry: String,
        /// The request (`GET /v2/`, `PATCH chunk`), without secrets.
        request: String,
        /// The HTTP status.
        status: u16,
        /// The registry's error code (`MANIFEST_INVALID`), if it sent one.
        code: Option<String>,
        /// The registry's error codes and messages, sanitised and shortened.
        message: Option<String>,
    },
    /// The registry broke the protocol: a reply the distribution API does not allow (no
    /// upload `Location`, a wrong range, a redirect loop or downgrade, a malformed list).
    #[error("{registry}: {reason}")]
    Protocol {
        /// The registry (host and base), never with credentials.
        registry: String,
        /// What it did.
        reason: String,
    },
    /// Something changed under the operation (a concurrent push replaced the tag).
    #[error("{reference}: {reason}")]
    Conflict {
        /// The pack reference.
        reference: String,
        /// What happened.
        reason: String,
    },
    /// A configuration file (spectro's or Docker's) does not parse.
    #[error("{}: {reason}", path.display())]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Credentials could not be obtained (a Docker credential helper failed or is
    /// missing, or a user name cannot be sent).
    #[error("{0}")]
    Credentials(String),
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
    /// A rule selector (`--select`, `--ignore`, `--severity`) names no rule.
    #[error("invalid rule selector `{input}`: {reason}")]
    InvalidSelector {
        /// What was given.
        input: String,
        /// Why it is refused.
        reason: String,
    },
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

/// What kind of failure an [`Error`] is, for callers that react to kinds rather than
/// variants (retry, ask for a login, suggest `--force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file, pack, version or blob is not there.
    NotFound,
    /// The version exists with other content, or the destination exists.
    AlreadyExists,
    /// Credentials are missing or were refused (HTTP 401).
    Unauthenticated,
    /// The credentials are fine but the operation is not allowed (HTTP 403).
    PermissionDenied,
    /// The store or this build cannot do it (deletes switched off, feature missing).
    Unsupported,
    /// The caller's input is wrong: a reference, a path, a config file.
    InvalidInput,
    /// Content is damaged or not what it claims (digest mismatch, corrupt archive or
    /// registry data).
    Integrity,
    /// Data declares or has a size above a cap.
    TooLarge,
    /// The registry answered outside the protocol (unexpected status, malformed reply).
    Protocol,
    /// The registry could not be reached, or the connection failed.
    Transport,
    /// Something changed concurrently.
    Conflict,
    /// The caller cancelled.
    Cancelled,
    /// Reading or writing local files failed.
    Io,
}

impl ErrorKind {
    /// A stable lowercase name (`not_found`, `permission_denied`, ...), as the Python
    /// binding's `SpectroError.kind` and JSON output carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Integrity => "integrity",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Transport => "transport",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Io => "io",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        use crate::archive::ArchiveProblem as P;
        match self {
            Error::NotFound { .. } | Error::PackNotFound { .. } => ErrorKind::NotFound,
            Error::NoPacksFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::Archive { problem, .. } => match problem {
                P::DestinationExists => ErrorKind::AlreadyExists,
                P::Limit { .. } => ErrorKind::TooLarge,
                P::Invalid { .. } => ErrorKind::InvalidInput,
                _ => ErrorKind::Integrity,
            },
            Error::NotADirectory { .. }
            | Error::InvalidReference { .. }
            | Error::InvalidSelector { .. }
            | Error::InvalidIgnoreFile { .. }
            | Error::InvalidConfig { .. }
            | Error::UnsafePath { .. }
            | Error::NotRegularFile { .. } => ErrorKind::InvalidInput,
            Error::Unauthorized { .. } | Error::Credentials(_) => ErrorKind::Unauthenticated,
            Error::Forbidden { .. } => ErrorKind::PermissionDenied,
            // The registry's error code (distribution spec) says more than the status.
            Error::Status { status, code, .. } => match (code.as_deref(), status) {
                (Some("DIGEST_INVALID" | "SIZE_INVALID"), _) => ErrorKind::Integrity,
                (Some("BLOB_UNKNOWN" | "MANIFEST_UNKNOWN" | "NAME_UNKNOWN"), _) | (_, 404) => {
                    ErrorKind::NotFound
                }
                (Some("DENIED"), _) => ErrorKind::PermissionDenied,
                (Some("UNAUTHORIZED"), _) => ErrorKind::Unauthenticated,
                (Some("UNSUPPORTED"), _) | (_, 405) => ErrorKind::Unsupported,
                (_, 413) => ErrorKind::TooLarge,
                _ => ErrorKind::Protocol,
            },
            Error::DigestMismatch { .. } | Error::CorruptRegistry { .. } => ErrorKind::Integrity,
            Error::Remote { .. } => ErrorKind::Transport,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Io { .. } => ErrorKind::Io,
        }
    }

    /// The HTTP status behind the error, when a registry answered with one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// The local file or folder concerned, if any.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::NotFound { path }
            | Error::NotADirectory { path }
            | Error::NoPacksFound { path }
            | Error::Archive { path, .. }
            | Error::InvalidIgnoreFile { path, .. }
            | Error::InvalidConfig { path, .. }
            | Error::NotRegularFile { path, .. }
            | Error::Io { path, .. } => Some(path),
            Error::UnsafePath { base, .. } => Some(base),
            _ => None,
        }
    }

    /// The pack reference concerned (`nginx:1.0.0`), if any.
    pub fn reference(&self) -> Option<&str> {
        match self {
            Error::PackNotFound { reference, .. }
            | Error::AlreadyExists { reference, .. }
            | Error::Conflict { reference, .. } => Some(reference),
            Error::InvalidReference { input, .. } => Some(input),
            _ => None,
        }
    }

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
