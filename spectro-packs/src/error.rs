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
    /// `.spectroignore` does not parse.
    #[error("{}: {message}", path.display())]
    InvalidIgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// The parser's complaint.
        message: String,
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
